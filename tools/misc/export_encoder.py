"""Export the pre-trained vision encoder of a UniMedI checkpoint for downstream use.

    python tools/misc/export_encoder.py work_dirs/vit_tiny_pretrain_phantom/iter_1000.pth \
        encoder.safetensors [--teacher]

The output holds the ``UnifiedViT`` weights without prefix (``tokenizers.2d.proj.weight``,
``blocks.0.attn.qkv.weight``...), loadable with ``UnifiedViT.load_state_dict``. Inside a
full checkpoint the same weights sit under the key prefix ``vision_encoder.`` (student)
or ``teacher.encoder.`` (EMA teacher).
"""
import argparse

from unimedi.engine.checkpoint import load_state_dict_file

PREFIXES = {False: 'vision_encoder.', True: 'teacher.encoder.'}


def parse_args():
    parser = argparse.ArgumentParser(description='Export the UniMedI vision encoder')
    parser.add_argument('checkpoint', help='a UniMedI runner checkpoint (.pth)')
    parser.add_argument('out', help='output file: .safetensors or .pth')
    parser.add_argument('--teacher', action='store_true',
                        help='export the EMA teacher instead of the student')
    return parser.parse_args()


def main():
    args = parse_args()
    state = load_state_dict_file(args.checkpoint)
    prefix = PREFIXES[args.teacher]
    encoder = {k[len(prefix):]: v.contiguous() for k, v in state.items() if k.startswith(prefix)}
    if not encoder:
        raise SystemExit(f'{args.checkpoint}: no weights under the prefix {prefix!r}; '
                         'is it a UniMedI checkpoint?')
    if args.out.endswith('.safetensors'):
        from safetensors.torch import save_file
        save_file(encoder, args.out)
    else:
        import torch
        torch.save(encoder, args.out)
    print(f'wrote {len(encoder)} tensors ({prefix}*) to {args.out}')


if __name__ == '__main__':
    main()
