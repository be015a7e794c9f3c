# Ablation: random instead of language-guided (attentive) slice selection.
_base_ = ['./vit_tiny_pretrain_phantom.py']
model = dict(slice_selector=dict(_delete_=True, type='RandomSliceSelector', ratio=0.125))
