"""MedDataPreprocessor: a mixed 2D/3D batch -> per-modality tensors and report tokens."""
from __future__ import annotations

import pytest
import torch

from unimedi.models.data_preprocessors.med_data_preprocessor import MedDataPreprocessor
from unimedi.models.tokenizers.text_tokenizer import HFTextTokenizer
from unimedi.registry import MODELS
from unimedi.structures import MedDataSample


@pytest.fixture(scope='module')
def tokenizer() -> HFTextTokenizer:
    return HFTextTokenizer(max_length=32)


def _sample(modality: str, index: int, report: str | None = None) -> MedDataSample:
    sample = MedDataSample(metainfo=dict(img_path=f'/data/{modality}_{index}')).set_modality(
        modality)
    if report is not None:
        sample.set_report(report)
    return sample


def _mixed_batch():
    """Batch order: 3D, 2D, 3D, 2D, 2D; each image filled with its batch position."""
    modalities = ['3d', '2d', '3d', '2d', '2d']
    reports = ['heart enlarged', 'lungs clear', 'nodule in the right lobe', 'small effusion',
               'normal chest']
    inputs, samples = [], []
    for i, (modality, report) in enumerate(zip(modalities, reports)):
        shape = (1, 4, 6, 5) if modality == '3d' else (1, 8, 7)
        inputs.append(torch.full(shape, float(i)))
        samples.append(_sample(modality, i, report))
    return inputs, samples, reports


def test_mixed_batch_shapes_order_and_tokens(tokenizer):
    preprocessor = MedDataPreprocessor(text_tokenizer=tokenizer)
    inputs, samples, reports = _mixed_batch()
    out = preprocessor(dict(inputs=inputs, data_samples=samples))
    images = out['inputs']
    assert images['2d'].shape == (3, 1, 8, 7) and images['2d'].dtype == torch.float32
    assert images['3d'].shape == (2, 1, 4, 6, 5)
    # 2D samples first, then 3D, each group in batch order
    ordered = out['data_samples']
    assert [s.batch_index for s in ordered] == [1, 3, 4, 0, 2]
    assert [s.img_path for s in ordered] == ['/data/2d_1', '/data/2d_3', '/data/2d_4',
                                             '/data/3d_0', '/data/3d_2']
    assert [s.modality for s in ordered] == ['2d'] * 3 + ['3d'] * 2
    # the image rows follow the same order
    assert images['2d'][:, 0, 0, 0].tolist() == [1.0, 3.0, 4.0]
    assert images['3d'][:, 0, 0, 0, 0].tolist() == [0.0, 2.0]
    # token rows follow the reordered samples
    text = images['text']
    assert set(text) == {'input_ids', 'attention_mask'}
    assert text['input_ids'].shape[0] == 5
    assert text['input_ids'].shape == text['attention_mask'].shape
    decoded = tokenizer.tokenizer.batch_decode(text['input_ids'], skip_special_tokens=True)
    assert decoded == [reports[s.batch_index] for s in ordered]
    assert decoded == ['lungs clear', 'small effusion', 'normal chest', 'heart enlarged',
                       'nodule in the right lobe']


def test_built_from_config_with_tokenizer_config():
    preprocessor = MODELS.build(dict(type='MedDataPreprocessor',
                                     text_tokenizer=dict(type='HFTextTokenizer', max_length=8)))
    assert isinstance(preprocessor.text_tokenizer, HFTextTokenizer)
    inputs, samples, _ = _mixed_batch()
    text = preprocessor(dict(inputs=inputs, data_samples=samples))['inputs']['text']
    assert text['input_ids'].shape[1] <= 8


def test_mean_std_per_modality():
    preprocessor = MedDataPreprocessor(mean={'2d': 0.5, '3d': [-1000.0]},
                                       std={'2d': [2.0], '3d': 500.0})
    inputs, samples, _ = _mixed_batch()
    images = preprocessor(dict(inputs=inputs, data_samples=samples))['inputs']
    assert torch.allclose(images['2d'][:, 0, 0, 0], torch.tensor([0.25, 1.25, 1.75]))
    assert torch.allclose(images['3d'][:, 0, 0, 0, 0], torch.tensor([2.0, 2.004]))
    assert images['text'] is None


def test_per_channel_and_single_modality_normalisation():
    preprocessor = MedDataPreprocessor(mean=[1.0, 2.0], std={'3d': 4.0})
    image_2d = torch.stack([torch.full((3, 3), 5.0), torch.full((3, 3), 6.0)])
    image_3d = torch.ones(2, 2, 3, 3) * 9
    out = preprocessor(dict(inputs=[image_2d, image_3d],
                            data_samples=[_sample('2d', 0), _sample('3d', 1)]))['inputs']
    # per-channel mean for both modalities; std only for 3D
    assert out['2d'][0, :, 0, 0].tolist() == [4.0, 4.0]
    assert out['3d'][0, :, 0, 0, 0].tolist() == [2.0, 1.75]
    with pytest.raises(ValueError, match=r"mean keys must be in \('2d', '3d'\)"):
        MedDataPreprocessor(mean={'2D': 0.5})


def test_shape_mismatch_names_both_paths():
    preprocessor = MedDataPreprocessor()
    samples = [_sample('2d', 0), _sample('3d', 1), _sample('2d', 2)]
    inputs = [torch.zeros(1, 8, 8), torch.zeros(1, 2, 3, 4), torch.zeros(1, 8, 9)]
    with pytest.raises(ValueError, match=r'/data/2d_0 is \(1, 8, 8\) but /data/2d_2 is '
                                         r'\(1, 8, 9\)'):
        preprocessor(dict(inputs=inputs, data_samples=samples))


def test_wrong_ndim_for_modality_names_path():
    preprocessor = MedDataPreprocessor()
    with pytest.raises(ValueError, match=r'/data/3d_0: a 3d input must have 4 dims'):
        preprocessor(dict(inputs=[torch.zeros(1, 8, 8)], data_samples=[_sample('3d', 0)]))


def test_sample_count_and_modality_errors():
    preprocessor = MedDataPreprocessor()
    with pytest.raises(ValueError, match='one data sample per input'):
        preprocessor(dict(inputs=[torch.zeros(1, 4, 4)] * 2, data_samples=[_sample('2d', 0)]))
    with pytest.raises(ValueError, match='one data sample per input'):
        preprocessor(dict(inputs=[torch.zeros(1, 4, 4)]))
    odd = MedDataSample(metainfo=dict(img_path='/data/odd.png'))
    with pytest.raises(ValueError, match=r"without a valid modality: \['/data/odd.png'\]"):
        preprocessor(dict(inputs=[torch.zeros(1, 4, 4)] * 2,
                          data_samples=[_sample('2d', 0), odd]))


def test_only_2d_batch(tokenizer):
    preprocessor = MedDataPreprocessor(text_tokenizer=tokenizer)
    samples = [_sample('2d', i, f'report {i}') for i in range(2)]
    out = preprocessor(dict(inputs=[torch.zeros(1, 5, 5), torch.ones(1, 5, 5)],
                            data_samples=samples))
    assert out['inputs']['3d'] is None
    assert out['inputs']['2d'].shape == (2, 1, 5, 5)
    assert [s.batch_index for s in out['data_samples']] == [0, 1]
    assert out['inputs']['text']['input_ids'].shape[0] == 2


def test_only_3d_batch_and_missing_report_gives_no_text(tokenizer):
    preprocessor = MedDataPreprocessor(text_tokenizer=tokenizer)
    samples = [_sample('3d', 0, 'lungs clear'), _sample('3d', 1)]
    out = preprocessor(dict(inputs=[torch.zeros(1, 2, 3, 4)] * 2, data_samples=samples))
    assert out['inputs']['2d'] is None
    assert out['inputs']['3d'].shape == (2, 1, 2, 3, 4)
    # one sample has no report: no tokens for the batch
    assert out['inputs']['text'] is None


def test_text_none_without_tokenizer():
    inputs, samples, _ = _mixed_batch()
    out = MedDataPreprocessor()(dict(inputs=inputs, data_samples=samples))
    assert out['inputs']['text'] is None
    assert set(out['inputs']) == {'2d', '3d', 'text'}
    assert len(out['data_samples']) == 5
