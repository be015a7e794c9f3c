# The quality recipe with masked-patch pixel reconstruction beside distillation (not in the
# paper; SimMIM / MAE): a linear head per modality regresses the patch-normalised pixels of
# the tokens hidden from the student (`model.loss_weights.mim`, `MaskedPixelLoss`). A
# pixel-level target for the cues the [CLS] distillation drops (pneumothorax, ground-glass
# haze): docs/pretraining_quality.md.
_base_ = ['./vit_tiny_pretrain_phantom_quality.py']

model = dict(loss_weights=dict(mim=1.0))
