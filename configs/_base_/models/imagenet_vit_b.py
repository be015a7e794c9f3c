# ImageNet ViT-B/16 weights for the shared encoder: the paper's Table 1 "ImageNet" row and an
# ImageNet start for UniMedI pre-training (MGCA starts its ViT-B/16 from DeiT). A local file
# you provide; nothing is downloaded. E.g. on a machine with the hub:
#   python -c "import timm, safetensors.torch as st; m = timm.create_model(
#       'deit_base_patch16_224.fb_in1k', pretrained=True); st.save_file(m.state_dict(),
#       'checkpoints/deit_base_patch16_224.safetensors')"
# Any timm vit_*_patch16_* checkpoint (DeiT, AugReg, MAE; .safetensors or .pth) works with
# format='timm', a Hugging Face ViTModel folder with format='hf' (and the encoder's
# norm_eps=1e-12). The RGB patch kernel is summed for the grey input, the position table
# resampled to the tokenizer grids and the 3D tokenizer inflated from the 2D one
# (unimedi/models/encoders/vit_weights.py); tools/misc/convert_vit_weights.py does it once.
imagenet_checkpoint = 'checkpoints/deit_base_patch16_224.safetensors'
imagenet_pretrained = dict(checkpoint=imagenet_checkpoint, format='timm')
# ImageNet's normalisation averaged over RGB: the grey image enters the summed RGB kernel
imagenet_normalisation = dict(mean=0.449, std=0.226)
