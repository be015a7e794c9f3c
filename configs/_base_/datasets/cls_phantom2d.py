# Chest phantom radiographs (tools/data/make_phantoms.py), multi-label classification of
# the 7 findings, scored by macro AUC. Splits: the manifest's train / val / test.
_base_ = ['./cls_loaders.py']

data_root = 'data/phantoms'
classes = ('nodule', 'mass', 'consolidation', 'ground_glass_opacity', 'pleural_effusion',
           'pneumothorax', 'cardiomegaly')
pipeline = [
    dict(type='LoadMedicalImage', modality='2d'),
    dict(type='MedResize', size=(112, 112), image_mode='area'),
    dict(type='PackMedInputs'),
]
dataset = dict(type='ImageReportDataset', data_root=data_root, ann_file='manifest.jsonl',
               modalities=('2d', ), require_report=False, metainfo=dict(classes=classes),
               pipeline=pipeline)
train_dataloader = dict(dataset=dict(dataset, split='train'))
val_dataloader = dict(dataset=dict(dataset, split='val'))
test_dataloader = dict(val_dataloader, dataset=dict(dataset, split='test'))
val_evaluator = dict(type='MultiLabelAUC')
test_evaluator = val_evaluator
