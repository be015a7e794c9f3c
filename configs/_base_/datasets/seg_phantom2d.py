# Chest phantom radiographs (tools/data/make_phantoms.py) with their lesion masks: the 7
# findings + background (PhantomSeg2DDataset; binary=True merges the findings, with
# RemapLabels() after LoadMedicalMask), scored by SegDiceMetric (foreground Dice per
# image) and mmseg's IoUMetric.
# Splits: the manifest's train / val / test. Images are resized to the encoder's 112 x 112
# (box averaging, as in pre-training); validation and test are scored against the masks at
# the original 224 x 224 (the predictions are resized back).
_base_ = ['./seg_loaders.py']

data_root = 'data/phantoms'
size = (112, 112)
train_pipeline = [
    dict(type='LoadMedicalImage', modality='2d'),
    dict(type='LoadMedicalMask'),
    dict(type='MedResize', size=size, image_mode='area'),
    dict(type='PackSegInputs2D'),
]
test_pipeline = [
    dict(type='LoadMedicalImage', modality='2d'),
    dict(type='LoadMedicalMask'),
    dict(type='KeepOriginalMask'),
    dict(type='MedResize', size=size, image_mode='area'),
    dict(type='PackSegInputs2D'),
]
dataset = dict(type='PhantomSeg2DDataset', data_root=data_root, ann_file='manifest.jsonl')
train_dataloader = dict(dataset=dict(dataset, split='train', pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(dataset, split='val', pipeline=test_pipeline))
test_dataloader = dict(val_dataloader, dataset=dict(dataset, split='test',
                                                    pipeline=test_pipeline))
# SegDiceMetric: Dice per image over the foreground classes (the figure papers report, the
# one the best checkpoint is chosen on); mmseg's IoUMetric: mDice / mIoU over all pixels of
# the split, background included
val_evaluator = [dict(type='SegDiceMetric'),
                 dict(type='mmseg.IoUMetric', iou_metrics=['mIoU', 'mDice'])]
test_evaluator = val_evaluator
