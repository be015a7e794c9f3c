from .cc_ccii import CCCIIDataset
from .chexpert import CheXpertDataset
from .collate import flat_pseudo_collate
from .covidx import COVIDxDataset
from .ct_rate import CT_RATE_CLASSES, CTRateDataset
from .image_folder import ImageFolderDataset
from .image_folder_seg import SegImageFolderDataset
from .iu_xray import IUXrayDataset, iter_iu_xml
from .manifest_dataset import ImageReportDataset, ManifestError, read_manifest
from .nifti_seg import BCV_CLASSES, NiftiSegDataset, NiftiSegFolderDataset
from .phantom import PhantomDataset, PhantomSeg2DDataset, PhantomSeg3DDataset
from .rsna_pneumonia import RSNAPneumoniaDataset
from .samplers import ModalityRatioBatchSampler
from .splits import stratified_fraction
from .transforms import *  # noqa: F401,F403  (registers the transforms)

__all__ = [
    'ImageReportDataset', 'IUXrayDataset', 'PhantomDataset', 'ManifestError', 'read_manifest',
    'iter_iu_xml',
    'stratified_fraction', 'CCCIIDataset', 'CheXpertDataset', 'COVIDxDataset',
    'ImageFolderDataset', 'RSNAPneumoniaDataset', 'NiftiSegDataset', 'NiftiSegFolderDataset',
    'BCV_CLASSES', 'PhantomSeg3DDataset',
    'SegImageFolderDataset', 'PhantomSeg2DDataset', 'ModalityRatioBatchSampler',
    'flat_pseudo_collate', 'CTRateDataset', 'CT_RATE_CLASSES'
]
