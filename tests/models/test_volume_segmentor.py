"""VolumeSegmentor: 3D features, loss, sliding-window prediction, frozen and pre-trained
encoders, and the errors for 2D inputs and bad inference settings."""
from __future__ import annotations

import pytest
import torch

from unimedi.models.algorithms.volume_segmentor import VolumeSegmentor, default_out_indices
from unimedi.models.encoders import UnifiedViT
from unimedi.registry import MODELS
from unimedi.structures import MedDataSample

ARCH = dict(embed_dim=32, depth=2, num_heads=2)
ROI = (8, 32, 32)  # grid (2, 2, 2) with the 4 x 16 x 16 patch
NUM_CLASSES = 3


def _tokenizers() -> dict:
    return {'3d': dict(type='PatchEmbed3D', img_size=ROI)}


def _model(seed: int = 0, **kwargs) -> VolumeSegmentor:
    torch.manual_seed(seed)
    kwargs.setdefault('infer_cfg', dict(roi_size=ROI, overlap=0.5, sw_batch_size=2))
    return MODELS.build(dict(
        type='VolumeSegmentor', backbone=dict(type='UnifiedViT', arch=ARCH,
                                              tokenizers=_tokenizers()),
        decode_head=dict(type='UNETRDecoder', num_classes=NUM_CLASSES, feature_size=4),
        **kwargs))


def _batch(model, shapes, with_gt=True, training=False) -> dict:
    inputs, samples = [], []
    for index, shape in enumerate(shapes):
        inputs.append(torch.rand(1, *shape))
        sample = MedDataSample(metainfo=dict(img_path=f'case{index}.nii.gz')).set_modality('3d')
        if with_gt:
            sample.set_gt_seg(torch.randint(0, NUM_CLASSES, shape))
        samples.append(sample)
    return model.data_preprocessor(dict(inputs=inputs, data_samples=samples), training)


def test_backbone_gives_four_3d_maps_on_the_token_grid():
    model = _model()
    assert model.out_indices == default_out_indices(2) == (0, 0, 1, 1)
    assert default_out_indices(12) == (2, 5, 8, 11)
    volumes = torch.rand(2, 1, 16, 64, 32)
    maps = model.extract_feat(volumes)
    assert len(maps) == 4
    assert all(m.shape == (2, ARCH['embed_dim'], 4, 4, 2) for m in maps)
    torch.testing.assert_close(maps[0], maps[1])  # block 0 twice for a 2-block ViT
    direct = model.backbone.get_intermediate_layers(volumes, '3d', [1])[0]
    torch.testing.assert_close(maps[3], direct)
    assert model(_batch(model, [(16, 64, 32)])['inputs'], mode='tensor').shape == \
        (1, NUM_CLASSES, 16, 64, 32)


def test_loss_trains_encoder_and_decoder():
    model = _model()
    batch = _batch(model, [ROI, ROI], training=True)
    losses = model(**batch, mode='loss')
    assert set(losses) == {'loss_seg'} and losses['loss_seg'].ndim == 0
    losses['loss_seg'].backward()
    assert model.backbone.blocks[0].attn.qkv.weight.grad is not None
    assert model.decode_head.out.conv.conv.weight.grad is not None


def test_sliding_window_prediction_covers_a_volume_larger_than_the_roi():
    model = _model().eval()
    shapes = [(13, 70, 45), (13, 70, 45)]  # larger than the roi, not divisible by the patch
    batch = _batch(model, shapes, with_gt=False)
    batch['data_samples'] = batch['data_samples'][::-1]  # predict restores the batch order
    out = model(**batch, mode='predict')
    assert [s.img_path for s in out] == ['case0.nii.gz', 'case1.nii.gz']
    for sample in out:
        assert sample.pred_seg.shape == (13, 70, 45) and sample.pred_seg.dtype == torch.int64
        assert 0 <= int(sample.pred_seg.min()) and int(sample.pred_seg.max()) < NUM_CLASSES


def test_one_window_equals_the_plain_forward_and_small_volumes_are_padded():
    model = _model().eval()
    volume = torch.rand(1, 1, *ROI)
    with torch.no_grad():
        torch.testing.assert_close(model.inference(volume), model.segment(volume))
        assert model.inference(torch.rand(1, 1, 5, 20, 17)).shape == (1, NUM_CLASSES, 5, 20, 17)
    whole = _model(infer_cfg=dict(roi_size=None)).eval()
    with torch.no_grad():
        assert whole.inference(torch.rand(2, 1, 6, 40, 33)).shape == (2, NUM_CLASSES, 6, 40, 33)


def test_frozen_encoder_stays_frozen_and_in_eval_mode():
    model = _model(frozen=True)
    model.train()
    assert not model.backbone.training and model.decode_head.training
    assert not any(p.requires_grad for p in model.backbone.parameters())
    before = {k: v.clone() for k, v in model.backbone.state_dict().items()}
    head_before = model.decode_head.out.conv.conv.weight.clone()
    optimizer = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=1.0)
    loss = model(**_batch(model, [ROI], training=True), mode='loss')['loss_seg']
    loss.backward()
    optimizer.step()
    for key, value in model.backbone.state_dict().items():
        torch.testing.assert_close(value, before[key], msg=key)
    assert not torch.equal(model.decode_head.out.conv.conv.weight, head_before)


def test_pretrained_encoder_weights_equal_the_saved_ones(tmp_path):
    torch.manual_seed(7)
    encoder = UnifiedViT(arch=ARCH, tokenizers={
        '2d': dict(type='PatchEmbed2D', img_size=32), '3d': dict(type='PatchEmbed3D',
                                                                 img_size=ROI)})
    state = {f'vision_encoder.{k}': v for k, v in encoder.state_dict().items()}
    torch.save({'state_dict': state, 'meta': {}}, tmp_path / 'unimedi.pth')
    model = _model(seed=1, pretrained=dict(checkpoint=str(tmp_path / 'unimedi.pth'),
                                           prefix='vision_encoder.'))
    model.init_weights()
    saved = encoder.state_dict()
    for key, value in model.backbone.state_dict().items():
        torch.testing.assert_close(value, saved[key], msg=key)


def test_errors_name_the_problem():
    model = _model()
    inputs = dict(inputs=[torch.rand(1, 32, 32)],
                  data_samples=[MedDataSample().set_modality('2d')])
    with pytest.raises(ValueError, match='3D volumes only.*mmseg'):
        model(**model.data_preprocessor(inputs), mode='predict')
    with pytest.raises(ValueError, match='roi_size'):
        _model(infer_cfg=dict(roi_size=(8, 30, 32)))
    with pytest.raises(ValueError, match='unknown keys'):
        _model(infer_cfg=dict(window=3))
    with pytest.raises(ValueError, match='4 block indices'):
        _model(out_indices=(0, 1))
    with pytest.raises(ValueError, match='without gt_seg'):
        model(**_batch(model, [ROI], with_gt=False), mode='loss')
    batch = _batch(model, [ROI])
    batch['data_samples'][0].set_gt_seg(torch.full(ROI, NUM_CLASSES))
    with pytest.raises(ValueError, match=r'labels must be in \[0, 3\)'):
        model(**batch, mode='loss')
