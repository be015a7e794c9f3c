from .med_data_sample import MedDataSample
from .modality import MODALITIES, check_modality

__all__ = ['MedDataSample', 'MODALITIES', 'check_modality']
