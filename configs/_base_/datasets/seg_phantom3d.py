# Lesion segmentation on the chest phantom CTs (tools/data/make_phantoms.py): background + the
# 7 findings (PhantomSeg3DDataset; binary=True for one 'lesion' class, with RemapLabels() after
# LoadMedicalMask), scored by the Dice per finding and their mean. CTs lung-windowed and
# resized to 32 x 64 x 64 as in pre-training (configs/_base_/datasets/phantom_pretrain.py),
# so a whole volume is one 32 x 64 x 64 window. Splits: the manifest's train / val / test.
_base_ = ['./seg_loaders.py']

data_root = 'data/phantoms'
size = (32, 64, 64)
train_pipeline = [
    dict(type='LoadMedicalImage', modality='3d'),
    dict(type='LoadMedicalMask'),
    dict(type='HUWindow', windows='lung'),
    dict(type='MedResize', size=size, image_mode='area'),
    dict(type='MedRandomFlip', prob=0.5, axes=(-1, )),
    dict(type='PackMedInputs'),
]
test_pipeline = [
    dict(type='LoadMedicalImage', modality='3d'),
    dict(type='LoadMedicalMask'),
    dict(type='HUWindow', windows='lung'),
    dict(type='MedResize', size=size, image_mode='area'),
    dict(type='PackMedInputs'),
]
dataset = dict(type='PhantomSeg3DDataset', data_root=data_root, ann_file='manifest.jsonl')
train_dataloader = dict(batch_size=4, dataset=dict(dataset, split='train', pipeline=train_pipeline))
val_dataloader = dict(batch_size=4, dataset=dict(dataset, split='val', pipeline=test_pipeline))
test_dataloader = dict(val_dataloader, dataset=dict(dataset, split='test', pipeline=test_pipeline))
val_evaluator = dict(type='SegDiceMetric')
test_evaluator = val_evaluator
