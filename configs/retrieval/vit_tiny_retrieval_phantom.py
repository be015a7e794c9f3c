# Image <-> report retrieval on the phantom test split with the demo's tiny UniMedI:
# Recall@1/5/10 over all test pairs, and over the radiographs (2D) and the CTs (3D) alone.
#   python tools/test.py configs/retrieval/vit_tiny_retrieval_phantom.py CHECKPOINT
_base_ = ['../unimedi/vit_tiny_pretrain_phantom.py']
model = dict(zero_shot_prompts=None)
test_evaluator = [
    dict(type='RetrievalRecall', ks=(1, 5, 10)),
    dict(type='RetrievalRecall', ks=(1, 5, 10), modality='2d', prefix='retrieval_2d'),
    dict(type='RetrievalRecall', ks=(1, 5, 10), modality='3d', prefix='retrieval_3d'),
]
