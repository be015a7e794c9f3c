# ImageClassifier on the tiny ViT of the CPU demo (vit_tiny_encoder.py): 128 wide, 4 blocks;
# radiographs at 112 x 112, CTs at 32 x 64 x 64. The encoder is the one `bash tools/demo.sh`
# pre-trains (its default work dir); override with
#   --cfg-options model.pretrained.checkpoint=PATH
_base_ = ['./vit_tiny_encoder.py']
model = dict(
    type='ImageClassifier',
    backbone=dict(
        type='UnifiedViT',
        arch={{_base_.tiny_arch}},
        drop_path_rate=0.0,
        tokenizers={'2d': {{_base_.tiny_tokenizer_2d}}, '3d': {{_base_.tiny_tokenizer_3d}}}),
    head=dict(type='LinearClsHead', num_classes=2, multi_label=False),
    pretrained=dict(checkpoint={{_base_.tiny_checkpoint}}, prefix='vision_encoder.'),
    frozen=True,
    pooling='cls',
    data_preprocessor=dict(type='MedDataPreprocessor', mean=0.5, std=0.25),
)
