"""Export a UniMedI checkpoint as a shareable model folder (or the encoder as one file).

    # the vision encoder: config.json + model.safetensors + README.md (model card)
    python tools/misc/export_encoder.py work_dirs/vit_tiny_pretrain_phantom/iter_1000.pth \
        exports/unimedi_vit_tiny_phantom [--teacher] [--metrics metrics.json]
    # the whole model (both towers, projections, temperature, prompts): retrieval, zero-shot
    python tools/misc/export_encoder.py CHECKPOINT exports/unimedi_phantom --whole-model
    # the encoder weights alone, as one file (no config)
    python tools/misc/export_encoder.py CHECKPOINT encoder.safetensors

A folder loads with ``UnifiedViT.from_pretrained(folder)``, ``UniMedIInferencer.
from_pretrained(folder)`` (whole model) and wherever a model takes ``pretrained``. The
config is the one the checkpoint keeps (``--config`` to give it); the metrics are
``metrics.json`` beside the checkpoint unless ``--metrics`` names a file. A single file
holds the ``UnifiedViT`` weights without prefix (inside a checkpoint they sit under
``vision_encoder.``, the EMA teacher's under ``teacher.encoder.``).
"""
import argparse
import sys

from unimedi.apis.model_export import ENCODER_PREFIXES, export_encoder, export_model
from unimedi.engine.checkpoint import load_state_dict_file

WEIGHT_SUFFIXES = ('.safetensors', '.pth', '.pt')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Export a UniMedI checkpoint: a model folder, '
                                     'or the encoder weights as one file')
    parser.add_argument('checkpoint', help='a UniMedI runner checkpoint (.pth)')
    parser.add_argument('out', help='output folder; or a .safetensors / .pth file for the '
                        'encoder weights alone')
    parser.add_argument('--teacher', action='store_true',
                        help='export the EMA teacher encoder instead of the student')
    parser.add_argument('--whole-model', action='store_true',
                        help='export the whole UniMedI model (a folder) for retrieval and '
                        'zero-shot')
    parser.add_argument('--config', help='the training config (default: the one the '
                        'checkpoint keeps)')
    parser.add_argument('--metrics', help='metrics.json for the model card (default: the one '
                        'beside the checkpoint, if any)')
    return parser.parse_args(argv)


def export_file(checkpoint: str, out: str, teacher: bool) -> int:
    state = load_state_dict_file(checkpoint)
    prefix = ENCODER_PREFIXES[teacher]
    encoder = {k[len(prefix):]: v.contiguous() for k, v in state.items() if k.startswith(prefix)}
    if not encoder:
        raise ValueError(f'{checkpoint}: no weights under the prefix {prefix!r}; is it a '
                         'UniMedI checkpoint?')
    if out.endswith('.safetensors'):
        from safetensors.torch import save_file
        save_file(encoder, out)
    else:
        import torch
        torch.save(encoder, out)
    print(f'wrote {len(encoder)} tensors ({prefix}*) to {out}')
    return 0


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        if args.out.endswith(WEIGHT_SUFFIXES):
            if args.whole_model:
                raise ValueError('--whole-model writes a folder; give a folder as OUT')
            return export_file(args.checkpoint, args.out, args.teacher)
        if args.whole_model:
            if args.teacher:
                raise ValueError('--teacher exports an encoder; a whole model keeps the student '
                                 '(drop --teacher or --whole-model)')
            folder = export_model(args.checkpoint, args.out, args.config, args.metrics)
        else:
            folder = export_encoder(args.checkpoint, args.out, args.config, args.teacher,
                                    args.metrics)
    except (FileNotFoundError, ValueError) as exc:
        print(f'error: {exc}', file=sys.stderr)
        return 2
    print(f'wrote {folder} (config.json, model.safetensors, README.md)')
    return 0


if __name__ == '__main__':
    sys.exit(main())
