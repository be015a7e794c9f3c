# The CPU-sized ViT of the phantom configs, shared by pre-training (unimedi_vit_tiny.py) and
# the tiny downstream models, so a pre-trained checkpoint always fits them: 128 wide,
# 4 blocks, convolutional-stem tokenizers (Xiao et al. 2021) with 16 x 16 patches for
# radiographs at 112 x 112 (7 x 7 tokens) and 4 x 16 x 16 patches for CTs at 32 x 64 x 64
# (8 x 4 x 4 tokens). docs/pretraining_quality.md: what the stems add over patchify.
tiny_arch = 'demo'  # UnifiedViT's ARCH_SETTINGS: embed_dim 128, depth 4, 4 heads
tiny_tokenizer_2d = dict(type='ConvStemPatchEmbed', spatial_dims=2, in_channels=1,
                         patch_size=16, img_size=(112, 112))
tiny_tokenizer_3d = dict(type='ConvStemPatchEmbed', spatial_dims=3, in_channels=1,
                         patch_size=(4, 16, 16), img_size=(32, 64, 64))
# where `bash tools/demo.sh` leaves the pre-trained encoder (override with
# --cfg-options model.pretrained.checkpoint=PATH, or model.backbone.pretrained... in 2D
# segmentation)
tiny_checkpoint = 'work_dirs/vit_tiny_pretrain_phantom/iter_1000.pth'
