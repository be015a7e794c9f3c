"""Convert general ViT weights (timm, Hugging Face ``ViTModel``) into a ``UnifiedViT`` file.

    python tools/misc/convert_vit_weights.py checkpoints/deit_base_patch16_224.safetensors \
        checkpoints/deit_base_unimedi.safetensors
    python tools/misc/convert_vit_weights.py SRC OUT --config configs/unimedi/vit_b_pretrain.py

The target encoder is the ``UnifiedViT`` of ``--config`` (``model.vision_encoder``, or the
backbone of a classifier / segmentor), else ``--arch`` with the default tokenizers (16 x 16
patches at 224 in 2D, 4 x 16 x 16 at 32 x 128 x 128 in 3D, ``--in-channels``). The output
holds the encoder's own keys (as ``tools/misc/export_encoder.py`` writes them) and loads
wherever a model takes ``pretrained``. Local files only: nothing is downloaded.
"""
import argparse
import sys

from mmengine.config import Config
from mmengine.logging import MMLogger

import unimedi.models  # noqa: F401  (registers the modules)
from unimedi.models.encoders import UnifiedViT
from unimedi.models.encoders.checkpoint_loading import load_encoder_checkpoint
from unimedi.registry import ENCODERS
from unimedi.utils.pretrained import resolve_pretrained_path


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Convert timm / Hugging Face ViT weights into '
                                     'a UnifiedViT weights file')
    parser.add_argument('src', help='a timm checkpoint (.safetensors / .pth) or a Hugging Face '
                        'ViTModel folder')
    parser.add_argument('out', help='output file: .safetensors or .pth')
    parser.add_argument('--format', default='auto', choices=('auto', 'timm', 'hf'),
                        help='the source format (default: told by the keys)')
    parser.add_argument('--config', help='a config whose UnifiedViT is the target')
    parser.add_argument('--arch', default='base', help='UnifiedViT arch without --config')
    parser.add_argument('--in-channels', type=int, default=1, help='image channels without '
                        '--config')
    parser.add_argument('--norm-eps', type=float, default=None,
                        help='LayerNorm epsilon of the target (1e-12 for Hugging Face ViTs)')
    return parser.parse_args(argv)


def encoder_config(config: str) -> dict:
    """The ``UnifiedViT`` config of a UniMedI, classifier or segmentor config."""
    model = Config.fromfile(config).model
    for path in ('vision_encoder', 'backbone', 'backbone.encoder'):
        node = model
        for part in path.split('.'):
            node = node.get(part) if isinstance(node, dict) else None
        if isinstance(node, dict) and node.get('type') == 'UnifiedViT':
            return dict(node, pretrained=None)
    raise ValueError(f'{config}: no UnifiedViT under model.vision_encoder, model.backbone or '
                     'model.backbone.encoder')


def main(argv=None) -> int:
    args = parse_args(argv)
    MMLogger.get_instance('unimedi', log_level='INFO')
    try:
        src = resolve_pretrained_path(args.src, 'ViT weights')
        cfg = (encoder_config(args.config) if args.config else
               dict(type='UnifiedViT', arch=args.arch, in_channels=args.in_channels))
        if args.norm_eps is not None:
            cfg['norm_eps'] = args.norm_eps
        encoder = ENCODERS.build(cfg)
        assert isinstance(encoder, UnifiedViT)
        report = load_encoder_checkpoint(encoder, src, format=args.format)
    except (FileNotFoundError, ValueError) as exc:
        print(f'error: {exc}', file=sys.stderr)
        return 2
    state = {k: v.contiguous() for k, v in encoder.state_dict().items()}
    if args.out.endswith('.safetensors'):
        from safetensors.torch import save_file
        save_file(state, args.out)
    else:
        import torch
        torch.save(state, args.out)
    print(f'wrote {len(state)} tensors to {args.out} ({report["loaded"]} from {src}; kept as '
          f'initialised: {report["missing"]})')
    return 0


if __name__ == '__main__':
    sys.exit(main())
