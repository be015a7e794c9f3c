"""Loading transforms: image files and masks into arrays with their geometry."""
from __future__ import annotations

import numpy as np
from mmcv.transforms import BaseTransform
from mmengine.logging import MMLogger

from unimedi.io.readers import MedicalImageError, read_medical_image
from unimedi.registry import TRANSFORMS
from unimedi.structures import check_modality

ON_ERROR = ('raise', 'skip')


@TRANSFORMS.register_module()
class LoadMedicalImage(BaseTransform):
    """Load a 2D or 3D medical image: PNG/JPEG (8/16 bit), DICOM, NIfTI or a DICOM series.

    Required keys: ``img_path``; ``modality`` (``'2d'``/``'3d'``) unless given here.

    Added keys:
        - ``img`` (np.ndarray): ``(C, H, W)`` or ``(C, D, H, W)`` float32.
        - ``img_shape``, ``ori_shape`` (tuple): spatial shape.
        - ``spacing`` (tuple[float]): mm per voxel along each spatial axis.
        - ``affine`` (np.ndarray | None): ``(4, 4)`` voxel -> RAS world (3D).
        - ``img_unit`` (str): ``'HU'`` (CT), ``'unit'`` (radiograph in [0, 1]) or ``'raw'``.
        - ``modality`` (str): set from the data when it was absent.

    Args:
        modality: force ``'2d'``/``'3d'``; ``None`` takes ``results['modality']`` and, when
            absent too, accepts either and records what it found.
        axcodes: orientation of volumes (see :mod:`unimedi.io.readers`).
        apply_window: DICOM radiographs use the window stored in the file.
        on_error: what a file that cannot be used does (:class:`MedicalImageError`:
            unreadable, NaN / infinite values, over PIL's pixel limit, wrong
            dimensionality...). ``'raise'`` (default) raises it. ``'skip'`` logs a warning
            naming the file and the problem (``MMLogger.get_current_instance()``) and
            returns ``None``: a training dataset (MMEngine's ``BaseDataset``) then serves a
            random other sample (up to ``max_refetch`` tries), while a ``test_mode``
            dataset raises MMEngine's ``Exception`` (after the warning), since evaluation
            must see every sample. Configuration errors (no ``img_path``) always raise.
    """

    def __init__(self, modality: str | None = None, axcodes: str = 'RAS',
                 apply_window: bool = True, on_error: str = 'raise'):
        check_modality(modality, optional=True)
        if on_error not in ON_ERROR:
            raise ValueError(f'on_error must be one of {ON_ERROR}, got {on_error!r}')
        self.modality = modality
        self.axcodes = axcodes
        self.apply_window = apply_window
        self.on_error = on_error

    def transform(self, results: dict) -> dict | None:
        if 'img_path' not in results:
            raise KeyError(f'LoadMedicalImage needs "img_path"; the sample has {sorted(results)}')
        modality = self.modality or results.get('modality')
        try:
            image = read_medical_image(results['img_path'], modality=modality,
                                       axcodes=self.axcodes, apply_window=self.apply_window)
        except MedicalImageError as exc:
            if self.on_error == 'raise':
                raise
            MMLogger.get_current_instance().warning(
                f'LoadMedicalImage(on_error=\'skip\') skips a sample: {exc}')
            return None
        results['img'] = image.array.astype(np.float32, copy=False)
        results['img_shape'] = results['ori_shape'] = tuple(image.array.shape[1:])
        results['spacing'] = tuple(image.spacing)
        results['affine'] = image.affine
        results['img_unit'] = image.unit
        results['modality'] = {2: '2d', 3: '3d'}[image.spatial_dims]
        return results

    def __repr__(self) -> str:  # on_error only when set: CachedTransforms keys by the repr
        skip = '' if self.on_error == 'raise' else f', on_error={self.on_error!r}'
        return (f'{self.__class__.__name__}(modality={self.modality}, axcodes={self.axcodes!r}, '
                f'apply_window={self.apply_window}{skip})')


@TRANSFORMS.register_module()
class LoadMedicalMask(BaseTransform):
    """Load an integer label mask aligned with the loaded image.

    Required keys: ``seg_map_path``, ``img`` (load the image first), ``img_path``.
    Added keys: ``gt_seg`` (np.ndarray int64): ``(H, W)`` or ``(D, H, W)``.

    The mask must have the image's spatial shape and, for volumes, its affine (within
    ``affine_tol`` mm); otherwise the error names both files.

    Args:
        binary: map every non-zero label to 1 (e.g. 0/255 PNG masks).
        axcodes: must match the image loader's.
        affine_tol: tolerance in mm when comparing the mask and image affines.
        required: raise when a sample has no ``seg_map_path``; ``False`` passes such
            samples on without ``gt_seg`` (manifests where only some rows have masks).
    """

    def __init__(self, binary: bool = False, axcodes: str = 'RAS', affine_tol: float = 1e-2,
                 required: bool = True):
        self.binary = binary
        self.axcodes = axcodes
        self.affine_tol = affine_tol
        self.required = required

    def transform(self, results: dict) -> dict:
        path = results.get('seg_map_path')
        if path is None:
            if not self.required:
                return results
            raise KeyError(f'LoadMedicalMask needs "seg_map_path" for {results.get("img_path")} '
                           '(set required=False for manifests where some rows have no mask)')
        if 'img' not in results:
            raise KeyError('LoadMedicalMask must come after LoadMedicalImage')
        mask = read_medical_image(path, modality=results.get('modality'), as_mask=True,
                                  axcodes=self.axcodes)
        labels = mask.array[0]
        image_shape = tuple(results['img'].shape[1:])
        if labels.shape != image_shape:
            raise MedicalImageError(
                path, f'mask shape {labels.shape} differs from image shape {image_shape} '
                f'of {results.get("img_path")}')
        image_affine = results.get('affine')
        if image_affine is not None and mask.affine is not None and not np.allclose(
                image_affine, mask.affine, atol=self.affine_tol):
            raise MedicalImageError(
                path, f'mask affine differs from the affine of {results.get("img_path")}; '
                'the two are not voxel-aligned')
        results['gt_seg'] = (labels > 0).astype(np.int64) if self.binary else labels
        return results

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(binary={self.binary}, axcodes={self.axcodes!r})'


@TRANSFORMS.register_module()
class OverrideHeader(BaseTransform):
    """Give a loaded volume the spacing and HU scale of its sample, not of its file header.

    For files whose header is blank or wrong, with the true values known elsewhere (CT-RATE
    v1: ``XYSpacing`` / ``ZSpacing`` and ``RescaleSlope`` / ``RescaleIntercept`` in the
    metadata tables, copied into the manifest by ``tools/data/prepare_ct_rate.py``). Put it
    right after ``LoadMedicalImage``, before ``Resample`` and ``HUWindow``. A sample without
    the keys passes unchanged (the header-fixed v2 files).

    Required keys: ``img``, ``affine``. Optional keys: ``override_spacing`` (``(D, H, W)`` in
    mm), ``override_rescale`` (``(slope, intercept)``: ``HU = slope * stored + intercept``).
    Modified keys: ``spacing``, ``affine`` (each axis keeps its direction and takes the new
    length), ``img`` (float32 after a rescale).
    """

    def transform(self, results: dict) -> dict:
        where = results.get('img_path', 'sample')
        spacing = results.get('override_spacing')
        if spacing is not None:
            spacing = tuple(float(v) for v in spacing)
            if len(spacing) != 3 or min(spacing) <= 0:
                raise ValueError(f'{where}: override_spacing must be 3 positive numbers '
                                 f'(D, H, W) in mm, got {results["override_spacing"]}')
            affine = np.array(results['affine'], dtype=np.float64)
            for axis, length in enumerate(spacing):
                norm = float(np.linalg.norm(affine[:3, axis])) or 1.0
                affine[:3, axis] *= length / norm
            results['affine'], results['spacing'] = affine, spacing
        rescale = results.get('override_rescale')
        if rescale is not None:
            if len(rescale) != 2:
                raise ValueError(f'{where}: override_rescale must be (slope, intercept), got '
                                 f'{rescale}')
            slope, intercept = (float(v) for v in rescale)
            results['img'] = (np.asarray(results['img'], np.float32) * slope
                              + intercept).astype(np.float32)
        return results

    def __repr__(self) -> str:  # stable: CachedTransforms keys its entries by it
        return f'{self.__class__.__name__}()'
