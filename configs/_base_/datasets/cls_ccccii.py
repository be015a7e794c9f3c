# CC-CCII chest CT volumes (Normal / CP common pneumonia / NCP COVID-19; 3D multi-class:
# ACC, one-vs-rest AUC). Slice folders stacked into NIfTI volumes, with a patient-level
# 70 / 10 / 20 % split, by
#   python tools/data/prepare_cc_ccii.py --root data/cc_ccii_raw --out data/cc_ccii
# The slices are 8-bit images already windowed: the (127.5, 255) window maps 0..255 to
# [0, 1]; volumes are resized to the encoder's 32 x 128 x 128 (no spacing in CC-CCII).
_base_ = ['./cls_loaders.py']

data_root = 'data/cc_ccii'
classes = ('Normal', 'CP', 'NCP')
pipeline = [
    dict(type='LoadMedicalImage', modality='3d'),
    dict(type='HUWindow', windows=[(127.5, 255.0)]),
    dict(type='MedResize', size=(32, 128, 128)),
    dict(type='PackMedInputs'),
]
dataset = dict(type='CCCIIDataset', data_root=data_root, ann_file='cc_ccii.csv',
               pipeline=pipeline)
train_dataloader = dict(batch_size=8, num_workers=8, dataset=dict(dataset, split='train'))
val_dataloader = dict(batch_size=16, num_workers=8, dataset=dict(dataset, split='val'))
test_dataloader = dict(val_dataloader, dataset=dict(dataset, split='test'))
val_evaluator = dict(type='MultiClassMetric')
test_evaluator = val_evaluator
