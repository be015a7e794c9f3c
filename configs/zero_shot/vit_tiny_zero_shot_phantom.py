# Zero-shot classification of the 7 phantom findings (test split, 2D and 3D together)
# from the prompt ensembles of configs/unimedi/vit_tiny_pretrain_phantom.py: for each class
# the image is compared with the mean embedding of its positive prompts and of its
# negative prompts; the score is the softmax over the two (the probability of
# "positive"). Macro / per-class AUC.
#   python tools/test.py configs/zero_shot/vit_tiny_zero_shot_phantom.py CHECKPOINT
_base_ = ['../unimedi/vit_tiny_pretrain_phantom.py']
test_evaluator = [dict(type='MultiLabelAUC', prefix='zero_shot')]
