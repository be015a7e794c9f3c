from .med_data_preprocessor import MedDataPreprocessor

__all__ = ['MedDataPreprocessor']
