# Ablation: without self-distillation (no DINO / iBOT losses; the EMA teacher still
# provides the attention for selection and masking).
_base_ = ['./vit_tiny_pretrain_phantom.py']
model = dict(loss_weights=dict(icl=0.0, pcl=0.0))
