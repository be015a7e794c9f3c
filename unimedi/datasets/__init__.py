from .cc_ccii import CCCIIDataset
from .chexpert import CheXpertDataset
from .covidx import COVIDxDataset
from .image_folder import ImageFolderDataset
from .iu_xray import IUXrayDataset, iter_iu_xml
from .manifest_dataset import ImageReportDataset, ManifestError, read_manifest
from .phantom_dataset import PhantomDataset
from .readers import MedicalImage, MedicalImageError, read_medical_image
from .rsna_pneumonia import RSNAPneumoniaDataset
from .subsets import stratified_fraction
from .transforms import *  # noqa: F401,F403  (registers the transforms)

__all__ = [
    'ImageReportDataset', 'IUXrayDataset', 'PhantomDataset', 'ManifestError', 'read_manifest',
    'iter_iu_xml', 'MedicalImage', 'MedicalImageError', 'read_medical_image',
    'stratified_fraction', 'CCCIIDataset', 'CheXpertDataset', 'COVIDxDataset',
    'ImageFolderDataset', 'RSNAPneumoniaDataset'
]
