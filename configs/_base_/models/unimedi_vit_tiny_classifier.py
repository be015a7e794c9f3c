# ImageClassifier on the tiny ViT of the CPU demo (vit_tiny_encoder.py): the ViT-B model with
# the sizes changed, 128 wide, 4 blocks; radiographs at 112 x 112, CTs at 32 x 64 x 64. The
# encoder is the one `bash tools/demo.sh` pre-trains (its default work dir); override with
#   --cfg-options model.pretrained.checkpoint=PATH
_base_ = ['./unimedi_vit_b_classifier.py', './vit_tiny_encoder.py']
model = dict(
    backbone=dict(
        arch={{_base_.tiny_arch}},
        drop_path_rate=0.0,
        tokenizers=dict(_delete_=True, **{'2d': {{_base_.tiny_tokenizer_2d}},
                                          '3d': {{_base_.tiny_tokenizer_3d}}})),
    pretrained=dict(checkpoint={{_base_.tiny_checkpoint}}),
)
