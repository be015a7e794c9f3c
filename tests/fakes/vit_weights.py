"""A timm ViT checkpoint with random weights, standing in for the ImageNet file a user
provides (``configs/_base_/models/imagenet_vit_b.py``)."""
from __future__ import annotations

from pathlib import Path

import torch
from safetensors.torch import save_file


def write_fake_timm_vit(path: Path, embed_dim: int, depth: int, num_heads: int,
                        img_size: int = 224, patch_size: int = 16, seed: int = 0) -> dict:
    """Save a randomly initialised timm ``VisionTransformer`` (with its ImageNet head) as
    ``.safetensors``; return its state dict."""
    from timm.models.vision_transformer import VisionTransformer

    torch.manual_seed(seed)
    model = VisionTransformer(img_size=img_size, patch_size=patch_size, embed_dim=embed_dim,
                              depth=depth, num_heads=num_heads, num_classes=1000)
    state = {k: v.contiguous() for k, v in model.state_dict().items()}
    save_file(state, str(path))
    return state
