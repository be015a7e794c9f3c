from .iu_xray import IUXrayDataset, iter_iu_xml
from .phantom_dataset import PhantomDataset
from .manifest_dataset import ImageReportDataset, ManifestError, read_manifest
from .readers import MedicalImage, MedicalImageError, read_medical_image
from .subsets import stratified_fraction
from .transforms import *  # noqa: F401,F403  (registers the transforms)

__all__ = [
    'ImageReportDataset', 'IUXrayDataset', 'PhantomDataset', 'ManifestError', 'read_manifest', 'iter_iu_xml',
    'MedicalImage', 'MedicalImageError', 'read_medical_image', 'stratified_fraction'
]

# downstream classification datasets
from .cc_ccii import CCCIIDataset  # noqa: E402
from .chexpert import CheXpertDataset  # noqa: E402
from .covidx import COVIDxDataset  # noqa: E402
from .image_folder import ImageFolderDataset  # noqa: E402
from .rsna_pneumonia import RSNAPneumoniaDataset  # noqa: E402

__all__ += ['CCCIIDataset', 'CheXpertDataset', 'COVIDxDataset', 'ImageFolderDataset',
            'RSNAPneumoniaDataset']
