# Shared by the radiograph segmentation datasets at the ViT-B input size: the image (DICOM
# or PNG, read with the file's window, in [0, 1]) and its mask are resized to 224 x 224
# (box averaging for the image, nearest for the mask); validation and test are scored
# against the masks at the original size (KeepOriginalMask: the predictions are resized
# back). No flips: left and right are not interchangeable on a chest radiograph. A dataset
# config inheriting this adds its dataset type, files and classes to each loader's dataset.
_base_ = ['./seg_loaders.py']

size = (224, 224)
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
train_dataloader = dict(num_workers=8, dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(num_workers=8, dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
# SegDiceMetric: Dice per image over the foreground classes (the figure papers report, the
# one the best checkpoint is chosen on); mmseg's IoUMetric: mDice / mIoU over all pixels of
# the split, background included
val_evaluator = [dict(type='SegDiceMetric'),
                 dict(type='mmseg.IoUMetric', iou_metrics=['mIoU', 'mDice'])]
test_evaluator = val_evaluator
