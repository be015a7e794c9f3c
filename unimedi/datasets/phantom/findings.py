"""Findings of the chest phantoms: a vocabulary, sampling, and painting into the volume.

Each finding class has one label value in the lesion masks (``FINDING_CLASSES[i]`` is
label ``i + 1``); a case holds at most one finding per class, and findings never overlap,
so every labelled finding keeps its own voxels. Sizes and contrasts range from obvious to
subtle (a 5 mm part-solid nodule, a faint ground-glass patch, a thin pneumothorax rim).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from .anatomy import LOBES, ChestAnatomy, grid_coordinates

FINDING_CLASSES = ('nodule', 'mass', 'consolidation', 'ground_glass_opacity',
                   'pleural_effusion', 'pneumothorax', 'cardiomegaly')
#: Painting order: large regions first, small lesions last.
PAINT_ORDER = ('cardiomegaly', 'pleural_effusion', 'pneumothorax', 'consolidation',
               'ground_glass_opacity', 'mass', 'nodule')
_CLASS_WEIGHTS = dict(nodule=0.24, mass=0.1, consolidation=0.16, ground_glass_opacity=0.14,
                      pleural_effusion=0.14, pneumothorax=0.1, cardiomegaly=0.12)


def label_of(kind: str) -> int:
    """The mask label value of a finding class."""
    return FINDING_CLASSES.index(kind) + 1


@dataclass
class Finding:
    """One finding with its location and attributes.

    Attributes:
        kind: one of :data:`FINDING_CLASSES`.
        side: ``'right'``/``'left'`` for lung findings, else ``None``.
        lobe: one of :data:`~unimedi.datasets.phantom.anatomy.LOBES` or ``None``.
        size_mm: diameter (nodule, mass) or extent (consolidation, ground glass).
        amount: ``'small'``/``'moderate'``/``'large'`` (effusion, pneumothorax).
        density: ``'solid'``/``'part-solid'`` (nodule).
        scale: heart enlargement factor (cardiomegaly).
        slices: indices along D holding the finding (set when painted in 3D).
    """

    kind: str
    side: str | None = None
    lobe: str | None = None
    size_mm: float | None = None
    amount: str | None = None
    density: str | None = None
    scale: float | None = None
    slices: list = field(default_factory=list)

    def to_dict(self) -> dict:
        return {k: v for k, v in asdict(self).items() if v not in (None, [])}


def sample_findings(rng: np.random.Generator, normal_fraction: float = 0.3,
                    max_findings: int = 3) -> list[Finding]:
    """Draw 0..``max_findings`` findings of distinct classes (0 with ``normal_fraction``)."""
    if rng.random() < normal_fraction:
        return []
    count = int(rng.integers(1, max_findings + 1))
    weights = np.array([_CLASS_WEIGHTS[k] for k in FINDING_CLASSES])
    kinds = rng.choice(FINDING_CLASSES, size=count, replace=False, p=weights / weights.sum())
    findings, used_lobes = [], set()
    for kind in kinds:
        finding = Finding(kind=str(kind))
        if kind in ('nodule', 'mass', 'consolidation', 'ground_glass_opacity'):
            free = [lobe for lobe in LOBES if lobe not in used_lobes]
            finding.lobe = str(rng.choice(free))
            used_lobes.add(finding.lobe)
            finding.side = finding.lobe.split()[0]
        if kind == 'nodule':
            finding.size_mm = float(np.round(np.exp(rng.uniform(np.log(5.0), np.log(28.0)))))
            finding.density = 'solid' if rng.random() < 0.7 else 'part-solid'
        elif kind == 'mass':
            finding.size_mm = float(np.round(rng.uniform(32.0, 60.0)))
        elif kind in ('consolidation', 'ground_glass_opacity'):
            finding.size_mm = float(np.round(rng.uniform(30.0, 80.0)))
        elif kind == 'pleural_effusion':
            finding.side = str(rng.choice(('right', 'left')))
            finding.amount = str(rng.choice(('small', 'moderate', 'large'), p=(0.4, 0.35, 0.25)))
        elif kind == 'pneumothorax':
            finding.side = str(rng.choice(('right', 'left')))
            finding.amount = str(rng.choice(('small', 'large'), p=(0.6, 0.4)))
        elif kind == 'cardiomegaly':
            finding.scale = float(np.round(rng.uniform(1.22, 1.5), 2))
        findings.append(finding)
    return findings


def _sphere(coords, centre, radius):
    z, y, x = coords
    return ((z - centre[0])**2 + (y - centre[1])**2 + (x - centre[2])**2) < radius**2


def _random_voxel_mm(rng, mask, coords):
    """The mm coordinates of a random voxel of ``mask`` (``None`` when empty)."""
    index = np.flatnonzero(mask)
    if index.size == 0:
        return None
    d, h, w = np.unravel_index(int(rng.choice(index)), mask.shape)
    z, y, x = coords
    return float(z[d, 0, 0]), float(y[0, h, 0]), float(x[0, 0, w])


def _place_round_lesion(rng, anatomy, coords, lobe_mask, labels, radius, tries=40):
    """A sphere mostly inside the lung lobe and clear of other lesions, or ``None``."""
    lung = anatomy.lungs['right'] | anatomy.lungs['left']
    for _ in range(tries):
        centre = _random_voxel_mm(rng, lobe_mask, coords)
        if centre is None:
            return None
        sphere = _sphere(coords, centre, radius)
        voxels = sphere.sum()
        if voxels == 0 or (labels[sphere] > 0).any():
            continue
        if (sphere & lung).sum() >= 0.8 * voxels:
            return sphere & lung
    return None


def paint_findings(anatomy: ChestAnatomy, findings: list[Finding],
                   rng: np.random.Generator) -> tuple[np.ndarray, list[Finding]]:
    """Paint ``findings`` into ``anatomy.hu`` (in place) and return the lesion labels.

    Returns:
        ``labels`` ``(D, H, W)`` uint8 (``label_of(kind)`` per finding, 0 elsewhere) and
        the findings that were placed, each with its ``slices``. A finding that cannot be
        placed (no room in its lobe) is dropped, so labels, masks and reports agree.
    """
    hu = anatomy.hu
    coords = grid_coordinates(hu.shape, anatomy.spacing)
    z, y, x = coords
    labels = np.zeros(hu.shape, dtype=np.uint8)
    by_kind = {f.kind: f for f in findings}
    placed = []
    for kind in PAINT_ORDER:
        finding = by_kind.get(kind)
        if finding is None:
            continue
        free = labels == 0
        region = None
        if kind == 'cardiomegaly':
            region = anatomy.heart & free
        elif kind == 'pleural_effusion':
            lung = anatomy.lungs[finding.side]
            params = anatomy.lung_params[finding.side]
            cz, cy, _ = params['centre']
            thickness = dict(small=rng.uniform(12, 20), moderate=rng.uniform(25, 40),
                             large=rng.uniform(45, 70))[finding.amount]
            # Layers posteriorly (supine), thickest at the base, up to a height that grows
            # with the amount; fills the costophrenic recess.
            reach = dict(small=0.45, moderate=0.7, large=1.0)[finding.amount]
            height = (z - params['z_base']) / (params['z_apex'] - params['z_base'])
            layer = thickness * np.clip(1.0 - height / reach, 0.0, 1.0)
            region = lung & free & ((y < cy - params['axes'][1] + layer) |
                                    (z < params['z_base'] + 0.5 * thickness))
            hu[region] = rng.uniform(5.0, 20.0)
        elif kind == 'pneumothorax':
            lung = anatomy.lungs[finding.side]
            params = anatomy.lung_params[finding.side]
            (cz, cy, cx), (az, ay, ax) = params['centre'], params['axes']
            rim = dict(small=rng.uniform(6, 10), large=rng.uniform(15, 25))[finding.amount]
            rho = np.sqrt(((z - cz) / az)**2 + ((y - cy) / ay)**2 + ((x - cx) / ax)**2)
            region = (lung & free & (rho > 1.0 - rim / min(ay, ax))
                      & ((y > cy) | (z > cz + 0.4 * az)))
            hu[region] = -1000.0
        elif kind in ('consolidation', 'ground_glass_opacity'):
            lobe_mask = anatomy.lobes == LOBES.index(finding.lobe) + 1
            centre = _random_voxel_mm(rng, lobe_mask & free, coords)
            if centre is not None:
                radii = finding.size_mm / 2 * rng.uniform(0.7, 1.3, size=3)
                blob = (((z - centre[0]) / radii[0])**2 + ((y - centre[1]) / radii[1])**2 +
                        ((x - centre[2]) / radii[2])**2) < 1.0
                region = blob & lobe_mask & free
                if kind == 'consolidation':
                    hu[region] = rng.uniform(-40.0, 40.0)
                    hu[region & anatomy.vessels] = -900.0  # air bronchograms
                else:
                    hu[region & ~anatomy.vessels] += rng.uniform(200.0, 420.0)
        elif kind in ('nodule', 'mass'):
            lobe_mask = anatomy.lobes == LOBES.index(finding.lobe) + 1
            radius = finding.size_mm / 2
            region = _place_round_lesion(rng, anatomy, coords, lobe_mask & free, labels, radius)
            if region is not None and kind == 'mass':
                centre = _random_voxel_mm(rng, region, coords)
                for _ in range(2):  # lobulated: more overlapping spheres
                    lobule = _sphere(coords, np.add(centre, rng.normal(0, radius / 3, 3)),
                                     radius * rng.uniform(0.5, 0.8))
                    region |= lobule & (anatomy.lobes > 0) & free
            if region is not None:
                if kind == 'nodule' and finding.density == 'part-solid':
                    hu[region] = rng.uniform(-420.0, -280.0)
                    core = _sphere(coords, _random_voxel_mm(rng, region, coords), radius * 0.45)
                    hu[region & core] = rng.uniform(0.0, 40.0)
                else:
                    hu[region] = rng.uniform(10.0, 55.0)
        if region is None or not region.any():
            continue
        labels[region] = label_of(kind)
        finding.slices = np.flatnonzero(region.any(axis=(1, 2))).tolist()
        placed.append(finding)
    placed.sort(key=lambda f: FINDING_CLASSES.index(f.kind))
    return labels, placed


def multi_hot(findings: list[Finding]) -> list[int]:
    """The 0/1 label vector over :data:`FINDING_CLASSES`."""
    kinds = {f.kind for f in findings}
    return [int(k in kinds) for k in FINDING_CLASSES]
