"""``UnifiedViT``: one transformer shared by 2D and 3D tokens (``ENCODERS``)."""
from __future__ import annotations

from typing import Sequence

import torch
import torch.nn.functional as F
import torch.utils.checkpoint
from mmengine.model import BaseModule
from timm.layers import DropPath, Mlp
from torch import nn

from unimedi.registry import ENCODERS, TOKENIZERS
from unimedi.structures import MODALITIES
from .checkpoint_loading import load_encoder_checkpoint, pretrained_spec

#: named encoder sizes: ``tiny`` for unit tests, ``demo`` for the CPU phantom configs
#: (``configs/_base_/models/vit_tiny_encoder.py``), ``small`` / ``base`` / ``large`` as in timm.
ARCH_SETTINGS = {
    'tiny': dict(embed_dim=64, depth=2, num_heads=2, mlp_ratio=4.0),
    'demo': dict(embed_dim=128, depth=4, num_heads=4, mlp_ratio=4.0),
    'small': dict(embed_dim=384, depth=12, num_heads=6, mlp_ratio=4.0),
    'base': dict(embed_dim=768, depth=12, num_heads=12, mlp_ratio=4.0),
    'large': dict(embed_dim=1024, depth=24, num_heads=16, mlp_ratio=4.0),
}


class Attention(nn.Module):
    """Multi-head self-attention on ``F.scaled_dot_product_attention``.

    On request it also returns the [CLS] query's attention over a range of key tokens,
    computed from the same ``q`` and ``k`` (one query row, so the fused path stays fused).
    """

    def __init__(self, dim: int, num_heads: int, qkv_bias: bool = True, attn_drop: float = 0.0,
                 proj_drop: float = 0.0):
        super().__init__()
        if dim % num_heads:
            raise ValueError(f'embed_dim {dim} must be divisible by num_heads {num_heads}')
        self.num_heads = num_heads
        self.scale = (dim // num_heads)**-0.5
        self.qkv = nn.Linear(dim, dim * 3, bias=qkv_bias)
        self.attn_drop = attn_drop
        self.proj = nn.Linear(dim, dim)
        self.proj_drop = nn.Dropout(proj_drop)

    def forward(self, x: torch.Tensor, cls_keys: tuple[int, int] | None = None):
        """
        Args:
            x: ``(B, N, C)`` with [CLS] at index 0.
            cls_keys: ``(start, stop)`` key range for the [CLS] attention row, or ``None``.

        Returns:
            ``(B, N, C)`` and the [CLS] attention ``(B, heads, stop - start)`` (softmax over
            that key range only) or ``None``.
        """
        batch, tokens, channels = x.shape
        qkv = self.qkv(x).reshape(batch, tokens, 3, self.num_heads, channels // self.num_heads)
        q, k, v = qkv.permute(2, 0, 3, 1, 4).unbind(0)
        out = F.scaled_dot_product_attention(
            q, k, v, dropout_p=self.attn_drop if self.training else 0.0)
        cls_attention = None
        if cls_keys is not None:
            start, stop = cls_keys
            # float32 even under autocast: slice selection ranks these scores, and bf16
            # would tie slices whose logits differ in the third digit
            with torch.autocast(device_type=x.device.type, enabled=False):
                logits = (q[:, :, :1].float() * self.scale) \
                    @ k[:, :, start:stop].float().transpose(-2, -1)
            cls_attention = logits.softmax(dim=-1)[:, :, 0]
        out = out.transpose(1, 2).reshape(batch, tokens, channels)
        return self.proj_drop(self.proj(out)), cls_attention


class Block(nn.Module):
    """Pre-norm transformer block with drop path."""

    def __init__(self, dim: int, num_heads: int, mlp_ratio: float = 4.0, qkv_bias: bool = True,
                 drop_path: float = 0.0, norm_eps: float = 1e-6):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=norm_eps)
        self.attn = Attention(dim, num_heads, qkv_bias=qkv_bias)
        self.drop_path = DropPath(drop_path) if drop_path > 0 else nn.Identity()
        self.norm2 = nn.LayerNorm(dim, eps=norm_eps)
        self.mlp = Mlp(dim, int(dim * mlp_ratio), act_layer=nn.GELU)

    def forward(self, x: torch.Tensor, cls_keys: tuple[int, int] | None = None):
        attended, cls_attention = self.attn(self.norm1(x), cls_keys)
        x = x + self.drop_path(attended)
        x = x + self.drop_path(self.mlp(self.norm2(x)))
        return x, cls_attention


@ENCODERS.register_module()
class UnifiedViT(BaseModule):
    """A ViT whose blocks are shared by 2D and 3D inputs.

    Each modality has its own tokenizer (patch embedding and position table); the [CLS]
    token, the mask token and the transformer blocks are shared.

    Args:
        arch: a name of :data:`ARCH_SETTINGS` or a dict with ``embed_dim``, ``depth``,
            ``num_heads``, ``mlp_ratio``.
        tokenizers: ``{'2d': cfg, '3d': cfg}`` of ``TOKENIZERS``; ``embed_dim`` is filled in.
            Default: 16 x 16 patches at 224 x 224 and 4 x 16 x 16 patches at 32 x 128 x 128.
        in_channels: image channels (used by the default tokenizers).
        drop_path_rate: stochastic depth, increasing linearly over the blocks.
        qkv_bias: bias of the attention projections.
        out_indices: blocks whose outputs :meth:`get_intermediate_layers` returns by default.
        num_registers: learned register tokens placed after [CLS] (Darcet et al. 2024,
            "Vision Transformers Need Registers"), meant to take the "attention sink" role
            an encoder otherwise gives to a few background patches. They are in no output
            (not ``patch``, not ``extra``) and out of the [CLS] attention. Default 0 (the
            paper's encoder); on the phantom demo they did not change the slice selection
            (docs/pretraining_quality.md, D2).
        norm_eps: the epsilon of every LayerNorm (1e-6 as timm; Hugging Face ``ViTModel``
            checkpoints were trained with 1e-12: set it to load one exactly).
        grad_checkpointing: recompute each block's activations in the backward pass
            instead of keeping them (timm's ``set_grad_checkpointing``): the memory of the
            activations of long 3D token sequences for about one more forward pass. Only
            where gradients are recorded; the losses and gradients are unchanged (drop path
            replays the same random draws). Default off; see :meth:`set_grad_checkpointing`.
        pretrained: weights loaded by :meth:`init_weights` (the runner calls it before
            training): ``None``, a path, or ``dict(checkpoint=FILE_OR_FOLDER,
            format='auto' | 'unimedi' | 'timm' | 'hf', prefix='vision_encoder.',
            strict=True)``; see :func:`~.checkpoint_loading.load_encoder_checkpoint`.
            ImageNet ViT weights (timm, Hugging Face ``ViTModel``) are converted on the
            fly: :mod:`~.vit_weights`.
    """

    def __init__(self, arch: str | dict = 'base', tokenizers: dict | None = None,
                 in_channels: int = 1, drop_path_rate: float = 0.0, qkv_bias: bool = True,
                 out_indices: Sequence[int] = (-1, ), num_registers: int = 0,
                 norm_eps: float = 1e-6, grad_checkpointing: bool = False,
                 pretrained: str | dict | None = None, init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        self.pretrained = pretrained_spec(pretrained)
        if isinstance(arch, str):
            if arch not in ARCH_SETTINGS:
                raise ValueError(f'unknown arch {arch!r}; choose from {sorted(ARCH_SETTINGS)} '
                                 'or give a dict')
            arch = ARCH_SETTINGS[arch]
        missing = {'embed_dim', 'depth', 'num_heads'} - set(arch)
        if missing:
            raise ValueError(f'arch dict is missing {sorted(missing)}')
        self.embed_dim = int(arch['embed_dim'])
        self.depth = int(arch['depth'])
        self.num_heads = int(arch['num_heads'])
        tokenizers = tokenizers or {
            '2d': dict(type='PatchEmbed2D', in_channels=in_channels),
            '3d': dict(type='PatchEmbed3D', in_channels=in_channels),
        }
        unknown = set(tokenizers) - set(MODALITIES)
        if unknown:
            raise ValueError(f'tokenizers keys must be in {MODALITIES}, got {sorted(unknown)}')
        self.tokenizers = nn.ModuleDict({
            modality: TOKENIZERS.build(dict(cfg, embed_dim=self.embed_dim))
            if isinstance(cfg, dict) else cfg
            for modality, cfg in tokenizers.items()
        })
        self.cls_token = nn.Parameter(torch.zeros(1, 1, self.embed_dim))
        self.cls_pos = nn.Parameter(torch.zeros(1, 1, self.embed_dim))
        self.mask_token = nn.Parameter(torch.zeros(1, 1, self.embed_dim))
        self.extra_embed = nn.Parameter(torch.zeros(1, 1, self.embed_dim))
        if num_registers < 0:
            raise ValueError(f'num_registers must be >= 0, got {num_registers}')
        self.num_registers = int(num_registers)
        self.register_tokens = (nn.Parameter(torch.zeros(1, num_registers, self.embed_dim))
                                if num_registers else None)
        rates = torch.linspace(0, drop_path_rate, self.depth).tolist()
        self.blocks = nn.ModuleList(
            Block(self.embed_dim, self.num_heads, arch.get('mlp_ratio', 4.0), qkv_bias, rate,
                  norm_eps) for rate in rates)
        self.norm = nn.LayerNorm(self.embed_dim, eps=norm_eps)
        self.grad_checkpointing = bool(grad_checkpointing)
        self.out_indices = tuple(i % self.depth for i in out_indices)
        for parameter in (self.cls_token, self.cls_pos, self.mask_token, self.extra_embed,
                          self.register_tokens):
            if parameter is not None:
                nn.init.trunc_normal_(parameter, std=0.02)
        self.apply(self._init_linear)

    @staticmethod
    def _init_linear(module: nn.Module) -> None:
        if isinstance(module, nn.Linear):
            nn.init.trunc_normal_(module.weight, std=0.02)
            if module.bias is not None:
                nn.init.zeros_(module.bias)

    @classmethod
    def from_pretrained(cls, folder: str, **overrides) -> 'UnifiedViT':
        """The encoder of a unimedi model folder (``tools/misc/export_encoder.py``; an encoder
        or a whole model), built from its ``config.json`` with its weights.

        Args:
            folder: the local folder; nothing is downloaded.
            **overrides: constructor arguments replacing the folder's (e.g.
                ``drop_path_rate``).
        """
        from unimedi.engine.checkpoint import read_model_folder

        info, state = read_model_folder(folder)
        cfg = dict(info['encoder'], **overrides)
        cfg.pop('type', None)
        cfg.pop('pretrained', None)
        encoder = cls(**cfg)
        prefix = info.get('prefix', 'vision_encoder.') if info['kind'] == 'model' else ''
        if prefix:
            state = {k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)}
        encoder.load_state_dict(state)
        return encoder

    def set_grad_checkpointing(self, enable: bool = True) -> None:
        """Turn activation checkpointing of the blocks on or off (timm's method name)."""
        self.grad_checkpointing = bool(enable)

    def _run_block(self, block: Block, h: torch.Tensor, cls_keys):
        if self.grad_checkpointing and torch.is_grad_enabled() and h.requires_grad:
            return torch.utils.checkpoint.checkpoint(block, h, cls_keys, use_reentrant=False)
        return block(h, cls_keys)

    def init_weights(self) -> None:
        """Initialise, then load ``pretrained`` when it is set."""
        super().init_weights()
        if self.pretrained is not None:
            load_encoder_checkpoint(self, **self.pretrained)

    def no_weight_decay(self) -> set[str]:
        """Parameter names that should not be decayed (timm convention)."""
        names = {'cls_token', 'cls_pos', 'mask_token', 'extra_embed'}
        if self.register_tokens is not None:
            names.add('register_tokens')
        return names | {f'tokenizers.{m}.pos_embed' for m in self.tokenizers}

    def _tokenizer(self, modality: str):
        if modality not in self.tokenizers:
            raise ValueError(
                f'no tokenizer for modality {modality!r}; have {list(self.tokenizers)}')
        return self.tokenizers[modality]

    def embed(self, x: torch.Tensor, modality: str,
              mask: torch.Tensor | None = None) -> tuple[torch.Tensor, tuple[int, ...]]:
        """Tokens with positions; masked tokens replaced by the mask token first.

        Args:
            x: ``(B, C, H, W)`` or ``(B, C, D, H, W)``.
            modality: ``'2d'`` or ``'3d'``.
            mask: ``(B, L)`` bool, ``True`` where the token is hidden.

        Returns:
            ``(B, L, C)`` tokens and the token grid.
        """
        tokenizer = self._tokenizer(modality)
        tokens, grid = tokenizer(x)
        if mask is not None:
            if mask.shape != tokens.shape[:2]:
                raise ValueError(f'mask shape {tuple(mask.shape)} must be (B, L) = '
                                 f'{tuple(tokens.shape[:2])}')
            tokens = torch.where(mask.unsqueeze(-1), self.mask_token.to(tokens.dtype), tokens)
        return tokens + tokenizer.position_embedding(grid), grid

    def embed_extra(self, x: torch.Tensor, modality: str = '2d') -> torch.Tensor:
        """Tokens appended to another input (e.g. CT slices through the 2D tokenizer).

        Args:
            x: ``(B, K, C, H, W)``: ``K`` images per sample.

        Returns:
            ``(B, K * L, C)`` tokens with their positions and the extra-token embedding.
        """
        batch, count = x.shape[:2]
        tokens, _ = self.embed(x.flatten(0, 1), modality)
        return tokens.reshape(batch, -1, self.embed_dim) + self.extra_embed

    def forward(self, x: torch.Tensor, modality: str, mask: torch.Tensor | None = None,
                extra_tokens: torch.Tensor | None = None, return_attention: bool = False,
                return_features: bool | Sequence[int] = False,
                attention_layers: int | None = None) -> dict:
        """Encode one modality's batch.

        Args:
            x: ``(B, C, H, W)`` (2D) or ``(B, C, D, H, W)`` (3D).
            modality: ``'2d'`` or ``'3d'``.
            mask: ``(B, L)`` bool token mask (student input), optional.
            extra_tokens: ``(B, M, C)`` tokens appended after the patch tokens (from
                :meth:`embed_extra`), optional.
            return_attention: also return the [CLS] -> patch attention averaged over
                layers and heads (softmax over this input's L patch tokens).
            return_features: also return the outputs of the blocks in ``out_indices``
                (``True``) or of the blocks given (a sequence of indices; negative from the
                end).
            attention_layers: average the [CLS] attention over the last N blocks only
                (``None``: all blocks, the paper's formula).

        Returns:
            dict with ``cls`` ``(B, C)``, ``patch`` ``(B, L, C)``, ``extra`` ``(B, M, C)``,
            ``grid``; optionally ``cls_attention`` ``(B, L)`` and ``features``
            (list of ``(B, L, C)``).
        """
        tokens, grid = self.embed(x, modality, mask)
        batch, length = tokens.shape[:2]
        cls = (self.cls_token + self.cls_pos).expand(batch, -1, -1).to(tokens.dtype)
        parts = [cls]
        if self.register_tokens is not None:
            parts.append(self.register_tokens.expand(batch, -1, -1).to(tokens.dtype))
        parts += [tokens] + ([extra_tokens] if extra_tokens is not None else [])
        h = torch.cat(parts, dim=1)
        start = 1 + self.num_registers  # the first patch token
        first_attention = 0 if attention_layers is None else self.depth - attention_layers
        if not 0 <= first_attention < self.depth:
            raise ValueError(
                f'attention_layers must be in [1, {self.depth}], got {attention_layers}')
        if isinstance(return_features, bool):
            feature_indices = self.out_indices if return_features else ()
        else:
            feature_indices = tuple(i % self.depth for i in return_features)
        attention_sum, features = None, []
        for index, block in enumerate(self.blocks):
            wanted = return_attention and index >= first_attention
            h, cls_attention = self._run_block(block, h,
                                               (start, start + length) if wanted else None)
            if cls_attention is not None:
                layer_mean = cls_attention.mean(dim=1)
                attention_sum = layer_mean if attention_sum is None else attention_sum + layer_mean
            if index in feature_indices:
                features.append(h[:, start:start + length])
        h = self.norm(h)
        out = dict(cls=h[:, 0], patch=h[:, start:start + length], extra=h[:, start + length:],
                   grid=grid)
        if return_attention:
            out['cls_attention'] = attention_sum / (self.depth - first_attention)
        if return_features is not False:
            out['features'] = features
        return out

    def get_intermediate_layers(self, x: torch.Tensor, modality: str,
                                indices: Sequence[int] | None = None) -> list[torch.Tensor]:
        """Feature maps of intermediate blocks for dense heads.

        Returns:
            one ``(B, C, *grid)`` map per index (``out_indices`` by default), shallow first.
        """
        out = self.forward(x, modality,
                           return_features=self.out_indices if indices is None else indices)
        grid = out['grid']
        return [f.transpose(1, 2).reshape(f.shape[0], self.embed_dim, *grid)
                for f in out['features']]
