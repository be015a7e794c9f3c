# RSNA Pneumonia Detection (DICOM radiographs), binary pneumonia vs not, scored by AUC
# (one multi-label output). Lists (70 / 15 / 15 %, stratified) written by
#   python tools/data/prepare_rsna_pneumonia.py --root data/rsna_pneumonia \
#       --out data/rsna_pneumonia/splits
_base_ = ['../models/unimedi_vit_b_classifier.py']

data_root = 'data/rsna_pneumonia'  # holds stage_2_train_images/
classes = ('Pneumonia', )
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
dataset = dict(type='RSNAPneumoniaDataset', data_root=data_root,
               img_dir='stage_2_train_images')
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
val_evaluator = dict(type='MultiLabelAUC', classes=classes)
test_evaluator = val_evaluator

model = dict(head=dict(num_classes=1, multi_label=True))
