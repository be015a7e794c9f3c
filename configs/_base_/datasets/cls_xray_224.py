# Shared by the 2D radiograph classification datasets at the ViT-B input size: resize to
# 256 x 256, random 224 crops for training, the centre crop for validation and test (no
# flips: left and right are not interchangeable on a chest radiograph). A dataset config
# inheriting this adds its dataset type, files and classes to each loader's ``dataset``.
_base_ = ['./cls_loaders.py']

train_pipeline = [
    dict(type='LoadMedicalImage', modality='2d'),
    dict(type='MedResize', size=(256, 256)),
    dict(type='MedRandomCrop', size=(224, 224)),
    dict(type='PackMedInputs'),
]
test_pipeline = [
    dict(type='LoadMedicalImage', modality='2d'),
    dict(type='MedResize', size=(256, 256)),
    dict(type='CenterCropOrPad', size=(224, 224)),
    dict(type='PackMedInputs'),
]
train_dataloader = dict(batch_size=64, num_workers=8, dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(batch_size=128, num_workers=8, dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
