from .med_data_sample import MODALITIES, MedDataSample

__all__ = ['MedDataSample', 'MODALITIES']
