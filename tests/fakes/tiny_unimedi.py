"""The config of a UniMedI small enough to build and step in a second: the tiny shared ViT
on 32-px radiographs and 8 x 32 x 32 CTs, a 32-wide BERT of ``text_layers`` layers, a
16-wide common space and a 64-prototype DINO head."""
from __future__ import annotations


def tiny_unimedi_cfg(*, text_layers: int = 1, vocab_size: int = 100, text_dropout: bool = True,
                     vision_encoder: dict | None = None, **model) -> dict:
    """``MODELS`` config of a tiny ``UniMedI``.

    Args:
        text_layers: layers of the random text encoder.
        vocab_size: its vocabulary (30522 to take ids from the real BERT tokenizer).
        text_dropout: keep BERT's default dropout (``False``: 0, for exact comparisons).
        vision_encoder: keys that replace those of the ``UnifiedViT`` config (e.g.
            ``drop_path_rate``, ``tokenizers``).
        **model: further ``UniMedI`` arguments (``token_masker``, ``slice_selector``,
            ``data_preprocessor``...).
    """
    text = dict(vocab_size=vocab_size, hidden_size=32, num_hidden_layers=text_layers,
                num_attention_heads=2, intermediate_size=64)
    if not text_dropout:
        text.update(hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)
    vision = dict(type='UnifiedViT', arch='tiny', tokenizers={
        '2d': dict(type='PatchEmbed2D', img_size=32),
        '3d': dict(type='PatchEmbed3D', img_size=(8, 32, 32))})
    vision.update(vision_encoder or {})
    return dict(type='UniMedI', vision_encoder=vision,
                text_encoder=dict(type='HFTextEncoder', config=text), embed_dim=16,
                dino_head=dict(type='DINOHead', out_dim=64, hidden_dim=32, bottleneck_dim=16),
                **model)
