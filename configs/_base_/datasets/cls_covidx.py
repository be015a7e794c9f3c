# COVIDx CXR (normal / pneumonia / COVID-19; multi-class: ACC, one-vs-rest AUC). Lists
# (val = 10 % of the train patients, stratified; test = the official test list) by
#   python tools/data/prepare_covidx.py --root data/covidx --out data/covidx/splits
_base_ = ['../models/unimedi_vit_b_classifier.py']

data_root = 'data/covidx'  # holds train/ and test/ image folders
classes = ('normal', 'pneumonia', 'COVID-19')
train_pipeline = [
    dict(type='LoadMedicalImage', modality='2d'),
    dict(type='Resize', size=(256, 256)),
    dict(type='RandomCrop', size=(224, 224)),
    dict(type='PackMedInputs'),
]
test_pipeline = [
    dict(type='LoadMedicalImage', modality='2d'),
    dict(type='Resize', size=(256, 256)),
    dict(type='CenterCropOrPad', size=(224, 224)),
    dict(type='PackMedInputs'),
]
train_dataloader = dict(
    batch_size=64, num_workers=8, persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='pseudo_collate'),
    dataset=dict(type='COVIDxDataset', data_root=data_root, ann_file='splits/train_split.txt',
                 img_dir='train', pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=128, num_workers=8, persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='pseudo_collate'),
    dataset=dict(type='COVIDxDataset', data_root=data_root, ann_file='splits/val.txt',
                 img_dir='train', pipeline=test_pipeline))
test_dataloader = dict(val_dataloader,
                       dataset=dict(type='COVIDxDataset', data_root=data_root,
                                    ann_file='splits/test.txt', img_dir='test',
                                    pipeline=test_pipeline))
val_evaluator = dict(type='MultiClassMetric')
test_evaluator = val_evaluator

model = dict(head=dict(num_classes=len(classes), multi_label=False))
