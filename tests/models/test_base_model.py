"""MedBaseModel: the mode dispatch, the preprocessor built outside a scope, the sample order."""
import pytest
import torch
from mmengine.registry import DefaultScope

from unimedi.models import MedDataPreprocessor
from unimedi.models.algorithms import ImageClassifier, MedBaseModel, UniMedI, VolumeSegmentor
from unimedi.structures import MedDataSample


class _Mean(MedBaseModel):
    """Predicts the mean intensity of each 2D image."""

    def loss(self, inputs, data_samples):
        return dict(loss=inputs['2d'].mean())

    def _forward(self, inputs):
        return inputs['2d'].mean(dim=(1, 2, 3))

    def _set_predictions(self, inputs, data_samples):
        for sample, value in zip(data_samples, self._forward(inputs)):
            sample.set_field(value, 'pred_mean')


def _samples(order):
    return [MedDataSample(metainfo=dict(modality='2d', batch_index=i)) for i in order]


def test_every_model_shares_the_base():
    for cls in (UniMedI, ImageClassifier, VolumeSegmentor):
        assert issubclass(cls, MedBaseModel)
        assert 'forward' not in vars(cls) and 'predict' not in vars(cls), cls


def test_builds_its_preprocessor_outside_a_runner_scope():
    with DefaultScope.overwrite_default_scope(None):
        model = _Mean()
    assert isinstance(model.data_preprocessor, MedDataPreprocessor)
    model = _Mean(data_preprocessor=dict(type='MedDataPreprocessor', mean=0.5, std=0.25))
    assert isinstance(model.data_preprocessor, MedDataPreprocessor)


def test_forward_dispatches_each_mode_and_rejects_others():
    model = _Mean()
    images = torch.arange(3, dtype=torch.float32).view(3, 1, 1, 1).expand(3, 1, 2, 2)
    inputs = {'2d': images}
    assert model(inputs, mode='loss')['loss'].item() == pytest.approx(1.0)
    torch.testing.assert_close(model(inputs), torch.tensor([0.0, 1.0, 2.0]))
    # predict: the samples (grouped by modality in the model's order) come back in the
    # sampler's order, each with its own prediction
    predicted = model(inputs, _samples([2, 0, 1]), mode='predict')
    assert [s.batch_index for s in predicted] == [0, 1, 2]
    assert [s.pred_mean.item() for s in predicted] == [1.0, 2.0, 0.0]
    with pytest.raises(ValueError, match="mode must be 'loss', 'predict' or 'tensor'"):
        model(inputs, mode='train')


def test_predict_runs_without_gradients():
    model = _Mean()
    images = torch.ones(2, 1, 2, 2, requires_grad=True)
    predicted = model.predict({'2d': images}, _samples([0, 1]))
    assert not predicted[0].pred_mean.requires_grad
