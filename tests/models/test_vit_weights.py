"""General ViT weights (timm, Hugging Face ``ViTModel``) into ``UnifiedViT``."""
import pytest
import timm
import torch
from safetensors.torch import save_file

from unimedi.models.encoders import UnifiedViT
from unimedi.models.encoders.checkpoint_loading import load_encoder_checkpoint
from unimedi.models.encoders.vit_weights import detect_format, hf_to_timm

ARCH = dict(embed_dim=64, depth=2, num_heads=2, mlp_ratio=4.0)


def _timm_vit(**kwargs) -> torch.nn.Module:
    torch.manual_seed(0)
    model = timm.models.vision_transformer.VisionTransformer(
        img_size=32, patch_size=16, embed_dim=64, depth=2, num_heads=2, num_classes=3,
        **kwargs)
    return model.eval()


def _unified(img_2d=32, patch_2d=16, in_channels=1, tokenizer='PatchEmbed2D', **kwargs):
    torch.manual_seed(1)
    return UnifiedViT(arch=ARCH, tokenizers={
        '2d': dict(type=tokenizer, in_channels=in_channels, patch_size=patch_2d, img_size=img_2d),
        '3d': dict(type='PatchEmbed3D', in_channels=in_channels, patch_size=(4, 16, 16),
                   img_size=(8, 32, 32)),
    }, **kwargs).eval()


@pytest.fixture
def timm_file(tmp_path):
    model = _timm_vit()
    path = tmp_path / 'vit.safetensors'
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(path))
    return model, str(path)


def test_a_grey_image_gives_timm_cls_output_on_rgb(timm_file):
    model, path = timm_file
    encoder = _unified()
    report = load_encoder_checkpoint(encoder, path, format='timm')
    assert report['unexpected'] == [] and set(report['missing']) == {'mask_token', 'extra_embed'}
    grey = torch.rand(2, 1, 32, 32)
    with torch.no_grad():
        expected = model.forward_features(grey.expand(-1, 3, -1, -1))[:, 0]
        ours = encoder(grey, '2d')['cls']
    torch.testing.assert_close(ours, expected, atol=1e-5, rtol=0)


def test_the_format_is_told_by_the_keys_and_the_position_table_resampled(timm_file):
    model, path = timm_file
    assert detect_format(model.state_dict()) == 'timm'
    encoder = _unified(img_2d=64)  # a 4 x 4 grid from timm's 2 x 2 table
    load_encoder_checkpoint(encoder, path)  # format='auto'
    assert encoder.tokenizers['2d'].pos_embed.shape == (1, 16, 64)
    torch.testing.assert_close(encoder.cls_pos, model.pos_embed[:, :1])
    torch.testing.assert_close(encoder.blocks[1].mlp.fc2.weight, model.blocks[1].mlp.fc2.weight)


def test_the_inflated_3d_tokenizer_gives_the_2d_tokens_on_identical_slices(timm_file):
    _, path = timm_file
    encoder = _unified()
    load_encoder_checkpoint(encoder, path, format='timm')
    image = torch.rand(2, 1, 32, 32)
    volume = image.unsqueeze(2).expand(-1, -1, 8, -1, -1)  # 8 identical slices
    with torch.no_grad():
        tokens_2d, grid_2d = encoder.embed(image, '2d')
        tokens_3d, grid_3d = encoder.embed(volume, '3d')
    assert grid_3d == (2, 2, 2) and grid_2d == (2, 2)
    slabs = tokens_3d.reshape(2, 2, 4, 64)  # (B, depth, H * W, C): depth first
    for depth in range(2):
        torch.testing.assert_close(slabs[:, depth], tokens_2d, atol=1e-5, rtol=0)


def test_rgb_input_keeps_the_kernel_and_other_patch_sizes_are_resampled(timm_file):
    model, path = timm_file
    rgb = _unified(in_channels=3)
    load_encoder_checkpoint(rgb, path, format='timm')
    torch.testing.assert_close(rgb.tokenizers['2d'].proj.weight, model.patch_embed.proj.weight)
    small_patches = _unified(patch_2d=8)
    load_encoder_checkpoint(small_patches, path, format='timm')
    assert small_patches.tokenizers['2d'].proj.weight.shape == (64, 1, 8, 8)
    assert small_patches.tokenizers['2d'].pos_embed.shape == (1, 16, 64)


def test_unsupported_weights_are_named(tmp_path):
    layer_scale = _timm_vit(init_values=1e-5, reg_tokens=2)
    path = tmp_path / 'ls.safetensors'
    save_file({k: v.contiguous() for k, v in layer_scale.state_dict().items()}, str(path))
    with pytest.raises(ValueError, match=r'LayerScale: \[.blocks.0.ls1.gamma.*register tokens'):
        load_encoder_checkpoint(_unified(), str(path), format='timm')


def test_a_conv_stem_and_a_wrong_width_are_clear_errors(timm_file, tmp_path):
    _, path = timm_file
    stem = _unified(tokenizer='ConvStemPatchEmbed')
    with pytest.raises(ValueError, match='2d tokenizer .ConvStemPatchEmbed.'):
        load_encoder_checkpoint(stem, path, format='timm')
    before = stem.tokenizers['2d'].proj[0].conv.weight.clone()
    load_encoder_checkpoint(stem, path, format='timm', strict=False)  # the rest loads
    torch.testing.assert_close(stem.tokenizers['2d'].proj[0].conv.weight, before)
    wide = UnifiedViT(arch=dict(embed_dim=96, depth=2, num_heads=2), tokenizers={
        '2d': dict(type='PatchEmbed2D', patch_size=16, img_size=32)})
    with pytest.raises(ValueError, match=r'do not fit this encoder.*attn.proj.bias: \(64,\) vs '
                       r'\(96,\)'):
        load_encoder_checkpoint(wide, path, format='timm')


def test_hugging_face_vit_folder_round_trip(tmp_path):
    transformers = pytest.importorskip('transformers')
    config = transformers.ViTConfig(hidden_size=64, num_hidden_layers=2, num_attention_heads=2,
                                    intermediate_size=256, image_size=32, patch_size=16,
                                    num_channels=3)  # layer_norm_eps 1e-12: ours is 1e-6
    torch.manual_seed(0)
    model = transformers.ViTModel(config, add_pooling_layer=True).eval()
    model.save_pretrained(str(tmp_path / 'hf_vit'))
    assert detect_format(model.state_dict()) == 'hf'
    encoder = _unified(norm_eps=1e-12)
    load_encoder_checkpoint(encoder, str(tmp_path / 'hf_vit'))  # a folder, format='auto'
    grey = torch.rand(2, 1, 32, 32)
    with torch.no_grad():
        expected = model(pixel_values=grey.expand(-1, 3, -1, -1)).last_hidden_state[:, 0]
        ours = encoder(grey, '2d')['cls']
    torch.testing.assert_close(ours, expected, atol=1e-5, rtol=0)
    # the in-memory names (transformers >= 5: layers.N.attention.q_proj) convert alike
    renamed = hf_to_timm({'vit.' + k: v for k, v in model.state_dict().items()})
    assert renamed['blocks.0.attn.qkv.weight'].shape == (192, 64)
    assert not any(k.startswith(('pooler', 'embeddings', 'layers')) for k in renamed)
    assert set(renamed) == set(_timm_vit().state_dict()) - {'head.weight', 'head.bias'}


def test_unified_vit_loads_its_pretrained_in_init_weights(timm_file):
    model, path = timm_file
    encoder = _unified(pretrained=dict(checkpoint=path, format='timm'))
    assert not torch.equal(encoder.cls_token, model.cls_token)
    encoder.init_weights()
    torch.testing.assert_close(encoder.cls_token, model.cls_token)
    with pytest.raises(ValueError, match='unknown keys'):
        _unified(pretrained=dict(checkpoint=path, fromat='timm'))
    with pytest.raises(FileNotFoundError, match='never downloads'):
        load_encoder_checkpoint(_unified(), 'checkpoints/deit_base_patch16_224.safetensors')


def test_original_repo_files_and_class_free_tables(tmp_path):
    model = _timm_vit()
    wrapped = tmp_path / 'mae_finetuned.pth'  # the DeiT / MAE repositories' layout
    torch.save({'model': model.state_dict(), 'epoch': 3}, wrapped)
    encoder = _unified()
    load_encoder_checkpoint(encoder, str(wrapped), format='timm')
    torch.testing.assert_close(encoder.cls_token, model.cls_token)
    no_class_pos = _timm_vit(no_embed_class=True)
    path = tmp_path / 'no_embed_class.safetensors'
    save_file({k: v.contiguous() for k, v in no_class_pos.state_dict().items()}, str(path))
    load_encoder_checkpoint(encoder, str(path), format='timm')
    assert torch.count_nonzero(encoder.cls_pos) == 0  # no [CLS] position: none added


def test_hugging_face_distilled_deit_is_refused_by_name():
    state = {'deit.embeddings.cls_token': torch.zeros(1, 1, 64),
             'deit.embeddings.distillation_token': torch.zeros(1, 1, 64),
             'deit.embeddings.position_embeddings': torch.zeros(1, 6, 64),
             'deit.embeddings.patch_embeddings.projection.weight': torch.zeros(64, 3, 16, 16)}
    renamed = hf_to_timm(state)
    assert 'dist_token' in renamed and 'patch_embed.proj.weight' in renamed
    from unimedi.models.encoders.vit_weights import timm_to_unimedi
    with pytest.raises(ValueError, match='distillation token'):
        timm_to_unimedi(renamed, _unified(), 'deit-distilled')
