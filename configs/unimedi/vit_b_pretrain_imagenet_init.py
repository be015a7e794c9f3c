# The paper's setting (configs/unimedi/vit_b_pretrain.py) with the shared ViT-B/16 started
# from ImageNet weights (configs/_base_/models/imagenet_vit_b.py): the 2D tokenizer takes the
# patch kernel summed over RGB, the 3D tokenizer its I3D inflation, both the position table on
# their grids; the EMA teacher starts as a copy. Point imagenet_checkpoint at your local file:
#   --cfg-options model.vision_encoder.pretrained.checkpoint=checkpoints/deit_base.safetensors
_base_ = ['./vit_b_pretrain.py', '../_base_/models/imagenet_vit_b.py']
model = dict(vision_encoder=dict(pretrained={{_base_.imagenet_pretrained}}),
             data_preprocessor={{_base_.imagenet_normalisation}})
