"""Reading and writing medical files, and report text (as MONAI's ``monai/data/image_reader.py``
/ ``image_writer.py``): no datasets here, nothing registered."""
from .readers import (DICOM_SUFFIXES, IMAGE_2D_SUFFIXES, NIFTI_SUFFIXES, MedicalImage,
                      MedicalImageError, file_kind, read_medical_image)
from .reports import clean_report_text, compose_report, split_sections

__all__ = [
    'MedicalImage', 'MedicalImageError', 'read_medical_image', 'file_kind', 'IMAGE_2D_SUFFIXES',
    'NIFTI_SUFFIXES', 'DICOM_SUFFIXES', 'clean_report_text', 'compose_report', 'split_sections'
]
