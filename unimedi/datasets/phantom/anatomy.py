"""Procedural chest anatomy in Hounsfield units.

The volume is built on a ``(D, H, W)`` grid in unimedi's 3D convention (RAS, reversed
axes): D runs inferior -> superior, H posterior -> anterior, W patient-left -> right.
Coordinates below are millimetres: ``z`` from the lowest slice upwards, ``y`` from the
grid centre towards anterior, ``x`` from the grid centre towards the patient's right.
Every size is drawn per patient, so no two phantoms share an anatomy.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import ndimage

#: Mean HU of each tissue (noise and partial-volume blur are added on top).
TISSUE_HU = dict(air=-1000.0, lung=-860.0, fat=-100.0, muscle=45.0, soft_tissue=35.0,
                 blood=40.0, liver=60.0, cancellous_bone=250.0, cortical_bone=750.0,
                 disc=80.0, vessel=40.0)

LOBES = ('right upper lobe', 'right middle lobe', 'right lower lobe', 'left upper lobe',
         'left lower lobe')


@dataclass
class ChestAnatomy:
    """A chest phantom before findings are added.

    Attributes:
        hu (np.ndarray): ``(D, H, W)`` float32 Hounsfield units (noise-free).
        spacing (tuple): mm per voxel ``(D, H, W)``.
        lungs (dict[str, np.ndarray]): boolean masks of the ``'right'`` and ``'left'`` lung.
        lobes (np.ndarray): ``(D, H, W)`` uint8, 0 outside the lungs, ``i + 1`` for
            ``LOBES[i]``.
        heart (np.ndarray): boolean heart mask.
        lung_params (dict): per side the ellipsoid ``centre`` (z, y, x) and ``axes`` in mm.
        vessels (np.ndarray): boolean mask of the pulmonary vessels.
        heart_scale (float): > 1 when the heart is enlarged.
    """

    hu: np.ndarray
    spacing: tuple
    lungs: dict
    lobes: np.ndarray
    heart: np.ndarray
    lung_params: dict
    vessels: np.ndarray
    heart_scale: float = 1.0
    extras: dict = field(default_factory=dict)


def grid_coordinates(shape, spacing):
    """Broadcastable ``z (D,1,1)``, ``y (1,H,1)``, ``x (1,1,W)`` in mm (float32)."""
    d, h, w = shape
    sd, sh, sw = spacing
    z = ((np.arange(d) + 0.5) * sd).astype(np.float32)[:, None, None]
    y = ((np.arange(h) + 0.5 - h / 2) * sh).astype(np.float32)[None, :, None]
    x = ((np.arange(w) + 0.5 - w / 2) * sw).astype(np.float32)[None, None, :]
    return z, y, x


def _ellipse(y, x, cy, cx, ay, ax):
    return ((y - cy) / ay)**2 + ((x - cx) / ax)**2


def _draw_vessel_tree(rng, shape, spacing, start, direction, length, generations):
    """Stamp a branching tree of line segments into a boolean volume."""
    tree = np.zeros(shape, dtype=bool)
    stack = [(np.asarray(start, float), np.asarray(direction, float), length, 0)]
    scale = np.asarray(spacing, float)
    while stack:
        origin, direction, length, generation = stack.pop()
        direction = direction / np.linalg.norm(direction)
        steps = np.linspace(0.0, length, max(int(length / min(spacing)) + 1, 2))
        points = origin[None] + steps[:, None] * direction[None]
        index = np.round(points / scale - 0.5).astype(int)
        inside = np.all((index >= 0) & (index < np.asarray(shape)), axis=1)
        tree[tuple(index[inside].T)] = True
        if generation + 1 < generations:
            end = points[-1]
            for _ in range(2):
                new_direction = direction + rng.normal(0.0, 0.55, 3)
                stack.append((end, new_direction, length * rng.uniform(0.55, 0.8),
                              generation + 1))
    return tree


def build_chest_anatomy(rng: np.random.Generator, shape=(64, 128, 128),
                        spacing=(5.0, 2.8, 2.8), heart_scale: float = 1.0) -> ChestAnatomy:
    """Draw one patient's chest.

    Args:
        rng: the patient's random generator.
        shape: ``(D, H, W)`` voxels.
        spacing: ``(D, H, W)`` mm per voxel.
        heart_scale: heart size factor (cardiomegaly uses about 1.3-1.5).

    Returns:
        ChestAnatomy with the noise-free HU volume and the organ masks.
    """
    z, y, x = grid_coordinates(shape, spacing)
    extent_z = shape[0] * spacing[0]
    half_w = shape[2] * spacing[2] / 2
    half_h = shape[1] * spacing[1] / 2
    # Body cross-section: an ellipse a little narrower at the top (shoulders excluded).
    body_ax = rng.uniform(0.78, 0.9) * half_w * (1.0 - 0.08 * (z / extent_z))
    body_ay = rng.uniform(0.62, 0.75) * half_h * np.ones_like(z)
    body_cy = rng.uniform(-0.05, 0.02) * half_h
    fat = rng.uniform(6.0, 18.0)
    muscle = rng.uniform(8.0, 14.0)
    hu = np.full(shape, TISSUE_HU['air'], dtype=np.float32)
    body = _ellipse(y, x, body_cy, 0.0, body_ay, body_ax) < 1.0
    hu[body] = TISSUE_HU['fat']
    inner_ax, inner_ay = body_ax - fat, body_ay - fat
    muscle_region = _ellipse(y, x, body_cy, 0.0, inner_ay, inner_ax) < 1.0
    hu[muscle_region] = TISSUE_HU['muscle']
    cavity_ax, cavity_ay = inner_ax - muscle, inner_ay - muscle
    cavity = _ellipse(y, x, body_cy, 0.0, cavity_ay, cavity_ax) < 1.0
    hu[cavity] = TISSUE_HU['soft_tissue']

    # Lungs: ellipsoids above a domed diaphragm; the left one is smaller (the heart).
    cavity_w = float(cavity_ax.mean())
    cavity_h = float(cavity_ay.mean())
    z_base = rng.uniform(0.2, 0.3) * extent_z
    z_apex = rng.uniform(0.9, 0.97) * extent_z
    lungs, lung_params = {}, {}
    for side, sign in (('right', 1.0), ('left', -1.0)):
        width = cavity_w * (0.44 if side == 'right' else 0.4) * rng.uniform(0.95, 1.05)
        cx = sign * (cavity_w * 0.5 + rng.uniform(-4.0, 4.0))
        cy = body_cy + rng.uniform(-0.08, 0.0) * cavity_h
        ay = cavity_h * rng.uniform(0.78, 0.86)
        cz = (z_base + z_apex) / 2 + 10.0
        az = (z_apex - z_base) / 2 + 10.0
        radial = ((x - cx) / width)**2 + ((y - cy) / ay)**2
        dome = z_base + rng.uniform(12.0, 25.0) * np.clip(1.0 - radial, 0.0, 1.0)
        lung = (radial + ((z - cz) / az)**2 < 1.0) & (z > dome) & cavity
        lungs[side] = lung
        lung_params[side] = dict(centre=(cz, cy, cx), axes=(az, ay, width), z_base=z_base,
                                 z_apex=z_apex)
    # Abdomen below the right dome: liver.
    liver = cavity & (z < z_base + 15.0) & (x > -cavity_w * 0.3) & ~lungs['right']
    hu[liver] = TISSUE_HU['liver']

    # Heart: anterior, shifted to the patient's left, resting on the diaphragm.
    heart_axes = np.array([rng.uniform(45, 55), rng.uniform(40, 48), rng.uniform(50, 60)])
    heart_axes = heart_axes * heart_scale
    heart_centre = (z_base + heart_axes[0] * 0.9, body_cy + cavity_h * 0.3,
                    -cavity_w * rng.uniform(0.12, 0.2))
    heart = (((z - heart_centre[0]) / heart_axes[0])**2 +
             ((y - heart_centre[1]) / heart_axes[1])**2 +
             ((x - heart_centre[2]) / heart_axes[2])**2) < 1.0
    heart &= cavity
    for side in lungs:
        lungs[side] &= ~ndimage.binary_dilation(heart, iterations=1)
        hu[lungs[side]] = TISSUE_HU['lung']
    hu[heart] = TISSUE_HU['blood']

    # Airways: trachea down the midline to the carina, main bronchi towards each hilum.
    carina_z = z_base + (z_apex - z_base) * rng.uniform(0.55, 0.65)
    trachea = (_ellipse(y, x, body_cy + cavity_h * 0.05, 0.0, 8.0, 8.0) < 1.0) & \
        (z > carina_z) & cavity
    hu[trachea] = TISSUE_HU['air']
    # Descending aorta, posterior-left beside the spine.
    aorta = (_ellipse(y, x, body_cy - cavity_h * 0.55, -18.0, 11.0, 11.0) < 1.0) & cavity & \
        (z > z_base - 20.0)
    hu[aorta] = TISSUE_HU['blood']

    # Pulmonary vessels: a branching tree from each hilum.
    vessels = np.zeros(shape, dtype=bool)
    for side, sign in (('right', 1.0), ('left', -1.0)):
        hilum = np.array([carina_z - 10.0, body_cy, sign * cavity_w * 0.22])
        start_index_mm = hilum + np.array([0.0, half_h, half_w])  # to grid mm from corner
        for _ in range(5):
            direction = np.array([rng.uniform(-1.2, 1.2), rng.uniform(-0.6, 0.6), sign * 1.0])
            vessels |= _draw_vessel_tree(rng, shape, spacing, start_index_mm, direction,
                                         length=rng.uniform(35.0, 50.0), generations=5)
    vessels = ndimage.binary_dilation(vessels) & (lungs['right'] | lungs['left'])
    hu[vessels] = TISSUE_HU['vessel']

    # Spine: vertebral bodies (cancellous, cortical rim) with discs, and spinous processes.
    spine_cy = body_cy - cavity_ay - 12.0
    radius = rng.uniform(14.0, 18.0)
    spine_r = _ellipse(y, x, spine_cy, 0.0, radius, radius)
    period = rng.uniform(24.0, 28.0)
    disc = (np.mod(z, period) < 5.0)
    vertebra = (spine_r < 1.0) & body
    hu[vertebra] = TISSUE_HU['cortical_bone']
    hu[(spine_r < 0.7) & body & ~disc] = TISSUE_HU['cancellous_bone']
    hu[(spine_r < 1.0) & body & disc] = TISSUE_HU['disc']
    spinous = (_ellipse(y, x, spine_cy - radius - 12.0, 0.0, 12.0, 4.0) < 1.0) & body & ~disc
    hu[spinous] = TISSUE_HU['cortical_bone']

    # Ribs: arcs in the chest wall, sloping down towards the front.
    rib_inset = fat + muscle * 0.5
    rib_ax, rib_ay = body_ax - rib_inset, body_ay - rib_inset
    wall = np.sqrt(_ellipse(y, x, body_cy, 0.0, rib_ay, rib_ax))
    near_wall = np.abs(wall - 1.0) < 5.0 / np.minimum(rib_ax, rib_ay)
    posterior_gap = y > spine_cy + radius * 0.5
    slope = rng.uniform(0.3, 0.45)
    rib_z = z + slope * (y - body_cy)  # ribs descend anteriorly
    for level in np.arange(z_base + 5.0, z_apex, rng.uniform(22.0, 26.0)):
        rib = near_wall & posterior_gap & (np.abs(rib_z - level) < 4.5) & \
            (y < body_cy + 0.6 * body_ay)
        hu[rib] = TISSUE_HU['cortical_bone']

    for side in lungs:  # airways, aorta and bones painted over the lungs are not lung
        lungs[side] &= (hu == TISSUE_HU['lung']) | vessels
    lobes = lobe_map(lungs, lung_params, z, y)
    return ChestAnatomy(hu=hu, spacing=tuple(spacing), lungs=lungs, lobes=lobes, heart=heart,
                        lung_params=lung_params, vessels=vessels, heart_scale=heart_scale)


def lobe_map(lungs: dict, lung_params: dict, z, y) -> np.ndarray:
    """Split each lung into lobes by height (and, for the middle lobe, by depth)."""
    lobes = np.zeros(lungs['right'].shape, dtype=np.uint8)
    for side in ('right', 'left'):
        params = lung_params[side]
        height = (z - params['z_base']) / (params['z_apex'] - params['z_base'])
        anterior = y > params['centre'][1]
        lung = lungs[side]
        if side == 'right':
            upper = lung & (height >= 0.6)
            middle = lung & (height >= 0.3) & (height < 0.6) & anterior
            lower = lung & ~upper & ~middle
            for index, mask in enumerate((upper, middle, lower), start=1):
                lobes[mask] = index
        else:
            upper = lung & (height >= 0.45)
            lobes[upper] = 4
            lobes[lung & ~upper] = 5
    return lobes


def finish_volume(hu: np.ndarray, rng: np.random.Generator, blur: float = 0.6,
                  noise_hu: tuple = (10.0, 25.0)) -> np.ndarray:
    """Partial-volume blur and Gaussian noise; returns int16 HU clipped to [-1024, 3071]."""
    out = ndimage.gaussian_filter(hu, sigma=blur) if blur > 0 else hu.copy()
    out += rng.normal(0.0, rng.uniform(*noise_hu), hu.shape).astype(np.float32)
    return np.clip(np.round(out), -1024, 3071).astype(np.int16)
