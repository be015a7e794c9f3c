# The CPU quality recipe (row M1 of docs/pretraining_quality.md; 50 minutes measured on 2
# cores, plus 10 minutes to write its data once): vit_tiny_pretrain_phantom_quality.py (Q1)
# with masked-patch pixel reconstruction beside the distillation (not in the paper; SimMIM /
# MAE): a linear head per modality regresses the patch-normalised pixels of the tokens
# hidden from the student (`model.loss_weights.mim`, `MaskedPixelLoss`). The pixel-level
# target keeps the cues the [CLS] distillation dropped (pneumothorax, ground-glass haze):
# 2D linear probe at 10 % labels 0.723 against Q1's 0.642 and random init's 0.582.
_base_ = ['./vit_tiny_pretrain_phantom_quality.py']

model = dict(loss_weights=dict(mim=1.0))
