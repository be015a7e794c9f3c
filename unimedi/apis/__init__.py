"""Inference APIs: build a trained model, embed images and reports, rank, zero-shot, explain."""
from .explanation import Explanation, explain_inputs, selection_hits
from .image_files import list_image_files
from .inference import (ImageEmbeddings, SkippedImage, UniMedIInferencer, inference_pipeline,
                        rank_by_similarity)
from .model_export import export_encoder, export_model, load_model_folder
from .model_loading import init_model, load_weights

__all__ = [
    'init_model', 'load_weights', 'UniMedIInferencer', 'ImageEmbeddings', 'SkippedImage',
    'list_image_files', 'rank_by_similarity', 'inference_pipeline', 'export_encoder',
    'export_model', 'load_model_folder', 'Explanation', 'explain_inputs', 'selection_hits'
]
