"""Tokenizers: 2D/3D patch embeddings (``TOKENIZERS``) and report tokenizers
(``TEXT_TOKENIZERS``)."""
from .conv_stem import ConvStemPatchEmbed
from .patch_embed import PatchEmbed, PatchEmbed2D, PatchEmbed3D, resample_pos_embed
from .text_tokenizer import HFTextTokenizer

__all__ = ['ConvStemPatchEmbed', 'PatchEmbed', 'PatchEmbed2D', 'PatchEmbed3D',
           'resample_pos_embed', 'HFTextTokenizer']
