"""Figures of what UniMedI looks at (:class:`~unimedi.apis.explanation.Explanation`).

Every figure is a ``matplotlib.figure.Figure`` of a fixed size at :data:`DPI`, drawn
without pyplot (no global state, no display): ``save(figure, path)`` writes a PNG of
exactly ``figsize * DPI`` pixels.

- :func:`radiograph_figure`: the image, the teacher's attention over it, and what the
  student sees (hidden tokens darkened); the lesion outline on both when known.
- :func:`ct_figure`: the slice-score curve (chosen slices in red, lesion slices shaded)
  over a montage of the chosen slices with the attention over each.
- :func:`explanation_figure`: either of the two, by modality.
- :func:`index_figure`: the best, median and worst case of each modality.
"""
from __future__ import annotations

import os
from typing import Sequence

import numpy as np
from matplotlib.figure import Figure

DPI = 100
RADIOGRAPH_SIZE = (12.0, 4.2)   # inches: 1200 x 420 px
CT_SIZE = (12.0, 4.8)           # 1200 x 480 px
INDEX_COLUMN = 4.0              # inches a column; 3.6 a row
SELECTED_COLOUR = 'tab:red'
LESION_COLOUR = 'lime'


def save(figure: Figure, path: str | os.PathLike) -> str:
    """Write ``figure`` as a PNG of ``figsize * DPI`` pixels; returns the path."""
    folder = os.path.dirname(os.fspath(path))
    if folder:
        os.makedirs(folder, exist_ok=True)
    figure.savefig(path, dpi=DPI, format='png')
    return os.fspath(path)


def _display(image: np.ndarray) -> np.ndarray:
    """Min-max scaled to [0, 1] for display (the model's input is normalised)."""
    image = np.asarray(image, np.float32)
    low, high = np.percentile(image, [0.5, 99.5]) if image.size else (0.0, 1.0)
    return np.clip((image - low) / max(high - low, 1e-6), 0.0, 1.0)


def _outline(ax, mask: np.ndarray | None) -> None:
    if mask is not None and np.any(mask) and not np.all(mask):
        ax.contour(mask.astype(np.float32), levels=[0.5], colors=LESION_COLOUR, linewidths=1.2)


def _plain(ax, title: str) -> None:
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(title, fontsize=9)


def _draw_attention(ax, image, attention, mask=None, title='teacher [CLS] attention'):
    """The image in grey under the min-max scaled attention (see ``peak_ratio``)."""
    ax.imshow(_display(image), cmap='gray', interpolation='nearest')
    ax.imshow(attention, cmap='inferno', alpha=0.45, vmin=0.0, vmax=1.0,
              interpolation='bilinear')
    _outline(ax, mask)
    _plain(ax, title)


def _draw_student_view(ax, image, hidden, mask=None):
    shown = _display(image)
    if hidden is not None:
        shown = np.where(hidden, shown * 0.15, shown)
        title = f'student sees {100 * (1 - hidden.mean()):.0f} % (dark: hidden)'
    else:
        title = 'student sees everything (no token masker)'
    ax.imshow(shown, cmap='gray', vmin=0.0, vmax=1.0, interpolation='nearest')
    _outline(ax, mask)
    _plain(ax, title)


def radiograph_figure(explanation, lesion_mask: np.ndarray | None = None,
                      title: str = '') -> Figure:
    """Image, attention heatmap and the student's mask of one radiograph.

    Args:
        explanation: a 2D :class:`Explanation`.
        lesion_mask: ``(H, W)`` bool on the model's input grid, outlined in green.
        title: the figure title (e.g. the case and its findings).
    """
    if explanation.modality != '2d':
        raise ValueError(f'radiograph_figure needs a 2D explanation, got {explanation.modality}')
    figure = Figure(figsize=RADIOGRAPH_SIZE)
    axes = figure.subplots(1, 3)
    axes[0].imshow(_display(explanation.image), cmap='gray', interpolation='nearest')
    _outline(axes[0], lesion_mask)
    _plain(axes[0], 'input' + (' (green: lesion)' if lesion_mask is not None else ''))
    _draw_attention(axes[1], explanation.image, explanation.attention_map, lesion_mask,
                    title=f'teacher [CLS] attention (peak {explanation.peak_ratio:.2f}x '
                          'uniform)')
    _draw_student_view(axes[2], explanation.image, explanation.mask_map(), lesion_mask)
    figure.suptitle(title, fontsize=10)
    figure.subplots_adjust(left=0.01, right=0.99, bottom=0.02, top=0.86, wspace=0.04)
    return figure


def _draw_scores(ax, explanation, lesion_slices=None, compact=False) -> None:
    depth = explanation.image.shape[0]
    slices = np.arange(depth)
    scores = explanation.slice_scores
    if scores is None:  # a selector without scores (random): mark the chosen slices only
        scores = np.zeros(depth)
    for s in np.asarray(lesion_slices if lesion_slices is not None else [], np.int64):
        ax.axvspan(s - 0.5, s + 0.5, color=LESION_COLOUR, alpha=0.25, lw=0)
    ax.plot(slices, scores, color='0.25', lw=1.2, label='slice score')
    chosen = explanation.selected_slices
    if chosen is not None and len(chosen):
        ax.scatter(chosen, scores[chosen], color=SELECTED_COLOUR, s=14, zorder=3,
                   label=f'chosen ({len(chosen)})')
    ax.set_xlim(-0.5, depth - 0.5)
    ax.set_xlabel('slice', fontsize=8)
    ax.tick_params(labelsize=7)
    if not compact:
        ax.set_ylabel('teacher attention', fontsize=8)
        if lesion_slices is not None and len(lesion_slices):
            ax.axvspan(-1, -1, color=LESION_COLOUR, alpha=0.25, label='lesion slices')
        ax.legend(fontsize=7, loc='upper right')


def ct_figure(explanation, lesion_slices: Sequence[int] | None = None, title: str = '',
              max_slices: int = 8) -> Figure:
    """The slice-score curve and the chosen slices of one CT.

    Args:
        explanation: a 3D :class:`Explanation` with ``selected_slices``.
        lesion_slices: the slices holding a lesion (shaded green), when known.
        title: the figure title.
        max_slices: the montage shows up to this many chosen slices, evenly spread.
    """
    if explanation.modality != '3d':
        raise ValueError(f'ct_figure needs a 3D explanation, got {explanation.modality}')
    chosen = explanation.selected_slices
    if chosen is None:  # no slice selector: evenly spread slices, nothing marked
        chosen = np.arange(explanation.image.shape[0])
    figure = Figure(figsize=CT_SIZE)
    grid = figure.add_gridspec(2, max_slices, height_ratios=[1.3, 1.0])
    _draw_scores(figure.add_subplot(grid[0, :]), explanation, lesion_slices)
    shown = chosen if len(chosen) <= max_slices else \
        chosen[np.linspace(0, len(chosen) - 1, max_slices).round().astype(int)]
    lesions = set(int(s) for s in (lesion_slices if lesion_slices is not None else []))
    for column in range(max_slices):
        ax = figure.add_subplot(grid[1, column])
        if column >= len(shown):
            ax.axis('off')
            continue
        s = int(shown[column])
        _draw_attention(ax, explanation.image[s], explanation.attention_map[s],
                        title=f'slice {s}' + (' (lesion)' if s in lesions else ''))
        if s in lesions:
            for spine in ax.spines.values():
                spine.set_edgecolor(LESION_COLOUR)
                spine.set_linewidth(2.0)
    figure.suptitle(f'{title}\nattention peak {explanation.peak_ratio:.2f}x uniform',
                    fontsize=10)
    figure.subplots_adjust(left=0.06, right=0.99, bottom=0.03, top=0.86, hspace=0.3,
                           wspace=0.05)
    return figure


def explanation_figure(explanation, title: str = '', lesion_mask=None,
                       lesion_slices=None) -> Figure:
    """:func:`radiograph_figure` or :func:`ct_figure`, by the explanation's modality."""
    if explanation.modality == '2d':
        return radiograph_figure(explanation, lesion_mask, title)
    return ct_figure(explanation, lesion_slices, title)


def index_figure(rows: Sequence[Sequence[dict]]) -> Figure:
    """The best, median and worst cases, one row per modality.

    Args:
        rows: per modality, up to 3 cases, each ``dict(label=..., explanation=...,
            lesion_slices=... (3D), lesion_mask=... (2D), precision=..., chance=...)``.
    """
    rows = [row for row in rows if row]
    if not rows:
        raise ValueError('no cases to draw')
    columns = max(len(row) for row in rows)
    figure = Figure(figsize=(INDEX_COLUMN * columns, 3.6 * len(rows)))
    axes = np.asarray(figure.subplots(len(rows), columns, squeeze=False))
    for r, row in enumerate(rows):
        for c in range(columns):
            ax = axes[r, c]
            if c >= len(row):
                ax.axis('off')
                continue
            case = row[c]
            explanation = case['explanation']
            heading = (f"{case['label']}: precision {case['precision']:.2f} "
                       f"(chance {case['chance']:.2f})\n{case.get('name', '')}")
            if explanation.modality == '2d':
                _draw_attention(ax, explanation.image, explanation.attention_map,
                                case.get('lesion_mask'), title=heading)
            else:
                _draw_scores(ax, explanation, case.get('lesion_slices'), compact=True)
                ax.set_title(heading, fontsize=9)
    figure.subplots_adjust(left=0.06, right=0.99, bottom=0.1, top=0.88, hspace=0.5,
                           wspace=0.15)
    return figure
