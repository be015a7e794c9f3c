"""Image <-> report retrieval Recall@K."""
from __future__ import annotations

from typing import Sequence

import torch
from mmengine.evaluator import BaseMetric
from mmengine.logging import MMLogger

from unimedi.registry import METRICS
from unimedi.structures import MODALITIES, check_modality


def recall_at_k(similarity: torch.Tensor, ks: Sequence[int] = (1, 5, 10)) -> dict[int, float]:
    """Fraction of queries whose match is among the top K.

    Args:
        similarity: ``(Q, G)`` scores; the match of query ``i`` is gallery item ``i``.
        ks: the K values (clipped to the gallery size).

    Returns:
        ``{k: recall}``.
    """
    if similarity.ndim != 2 or similarity.shape[0] > similarity.shape[1]:
        raise ValueError(f'similarity must be (Q, G) with Q <= G, got {tuple(similarity.shape)}')
    queries = torch.arange(similarity.shape[0])
    target = similarity[queries, queries].unsqueeze(1)
    # rank = how many gallery items score strictly higher than the match
    rank = (similarity > target).sum(dim=1)
    return {k: float((rank < k).float().mean()) for k in ks}


@METRICS.register_module()
class RetrievalRecall(BaseMetric):
    """Recall@K for image -> report (``i2t``) and report -> image (``t2i``) retrieval.

    Reads ``img_embed`` and ``txt_embed`` of every sample (set by the model's ``predict``),
    optionally per modality. A modality absent from the evaluated samples (a 3D metric on a
    2D-only manifest) is logged at INFO level and gives no metrics (MMEngine's
    ``CheckpointHook`` skips ``save_best`` when no metric at all is left); samples of neither
    modality (an empty evaluation) raise ``ValueError``.

    Args:
        ks: the K values.
        modality: ``'2d'``, ``'3d'`` or ``None`` (all samples together).
        prefix: metric name prefix.
    """

    default_prefix = 'retrieval'

    def __init__(self, ks: Sequence[int] = (1, 5, 10), modality: str | None = None,
                 collect_device: str = 'cpu', prefix: str | None = None):
        super().__init__(collect_device=collect_device, prefix=prefix)
        check_modality(modality, optional=True)
        self.ks = tuple(ks)
        self.modality = modality

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        """Keep ``(modality, img_embed, txt_embed)`` per sample; samples of another modality
        keep ``(modality, None, None)``, so that an absent modality can be told from an empty
        evaluation (and the results hold one entry per sample, as ``collect_results``
        expects when it drops the distributed sampler's padding)."""
        for sample in data_samples:
            modality = sample.get('modality')
            if self.modality is not None and modality != self.modality:
                self.results.append((modality, None, None))
                continue
            if 'img_embed' not in sample or 'txt_embed' not in sample:
                raise KeyError('RetrievalRecall needs img_embed and txt_embed in every sample')
            self.results.append((modality, torch.as_tensor(sample['img_embed']).float().cpu(),
                                 torch.as_tensor(sample['txt_embed']).float().cpu()))

    def compute_metrics(self, results: list) -> dict:
        """Recall@K of the kept samples: ``{'i2t_R@K': ..., 't2i_R@K': ...}``, or ``{}`` (and
        an INFO line naming the modality) when this metric's modality is absent.

        Raises:
            ValueError: no sample of any modality was evaluated.
        """
        kept = [r for r in results if r[1] is not None]
        if not kept:
            present = sorted({r[0] for r in results} & set(MODALITIES))
            if not present:
                raise ValueError(f'no samples to evaluate (modality={self.modality}): '
                                 f'{len(results)} samples, none of modality {MODALITIES}')
            MMLogger.get_current_instance().info(
                f'{self.prefix}: no {self.modality} samples among the {len(results)} '
                f'evaluated ({", ".join(present)} only); its Recall@K metrics are omitted')
            return {}
        image = torch.stack([r[1] for r in kept])
        text = torch.stack([r[2] for r in kept])
        similarity = image @ text.t()
        metrics = {}
        for direction, matrix in (('i2t', similarity), ('t2i', similarity.t())):
            for k, value in recall_at_k(matrix, self.ks).items():
                metrics[f'{direction}_R@{k}'] = value
        return metrics
