# CheXpert-v1.0-small, the 5 competition labels (multi-label, macro AUC), frontal views,
# uncertain labels as negatives (U-Zeros; uncertain='ones' for U-Ones). Lists written by
#   python tools/data/prepare_chexpert.py --root data/chexpert --out data/chexpert/splits
# (val = the official valid.csv, test = patients held out from train.csv).
_base_ = ['../models/unimedi_vit_b_classifier.py']

data_root = 'data/chexpert'  # holds CheXpert-v1.0-small/
classes = ('Atelectasis', 'Cardiomegaly', 'Consolidation', 'Edema', 'Pleural Effusion')
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
dataset = dict(type='CheXpertDataset', data_root=data_root, classes=classes,
               uncertain='zeros', frontal_only=True)
train_dataloader = dict(
    batch_size=64, num_workers=8, persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='pseudo_collate'),
    dataset=dict(dataset, ann_file='splits/train.csv', pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=128, num_workers=8, persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='pseudo_collate'),
    dataset=dict(dataset, ann_file='splits/val.csv', pipeline=test_pipeline))
test_dataloader = dict(val_dataloader,
                       dataset=dict(dataset, ann_file='splits/test.csv', pipeline=test_pipeline))
val_evaluator = dict(type='MultiLabelAUC')
test_evaluator = val_evaluator

model = dict(head=dict(num_classes=len(classes), multi_label=True))
