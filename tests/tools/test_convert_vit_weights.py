"""tools/misc/convert_vit_weights.py: timm weights in, a UnifiedViT file out."""
import timm
import torch
from safetensors.torch import load_file, save_file

from unimedi.models.encoders import UnifiedViT
from repo_scripts import load_script


def test_timm_weights_convert_for_a_config_encoder(tmp_path, capsys):
    torch.manual_seed(0)
    vit = timm.models.vision_transformer.VisionTransformer(
        img_size=224, patch_size=16, embed_dim=64, depth=2, num_heads=2, num_classes=0)
    src = tmp_path / 'vit.safetensors'
    save_file({k: v.contiguous() for k, v in vit.state_dict().items()}, str(src))
    out = tmp_path / 'unified.safetensors'
    tool = load_script('tools/misc/convert_vit_weights.py')
    assert tool.main([str(src), str(out), '--arch', 'tiny']) == 0
    assert "kept as initialised: ['extra_embed', 'mask_token']" in capsys.readouterr().out
    encoder = UnifiedViT(arch='tiny')
    encoder.load_state_dict(load_file(str(out)))  # strict: every key, the encoder's names
    grey = torch.rand(1, 1, 224, 224)
    with torch.no_grad():
        torch.testing.assert_close(encoder(grey, '2d')['cls'],
                                   vit.forward_features(grey.expand(-1, 3, -1, -1))[:, 0],
                                   atol=1e-5, rtol=0)
    assert encoder.tokenizers['3d'].proj.weight.shape == (64, 1, 4, 16, 16)
    assert tool.main([str(tmp_path / 'missing.pth'), str(out)]) == 2
    assert 'never downloads' in capsys.readouterr().err
    assert tool.main([str(src), str(out), '--arch', 'base']) == 2  # 64 wide into 768
    assert 'do not fit this encoder' in capsys.readouterr().err


def test_the_target_comes_from_a_config(tmp_path):
    tool = load_script('tools/misc/convert_vit_weights.py')
    cfg = tool.encoder_config('configs/classification/phantom2d/'
                              'vit_tiny_unimedi_linear_phantom2d_100pct.py')
    assert cfg['type'] == 'UnifiedViT' and cfg['pretrained'] is None
    assert tool.encoder_config('configs/unimedi/vit_b_pretrain.py')['arch'] == 'base'
