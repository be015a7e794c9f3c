# BCV (Multi-Atlas Labeling Beyond the Cranial Vault, MICCAI 2015): 30 labelled abdominal CTs,
# background + 13 organs, with the datalist of UNETR / Swin-UNETR (dataset_0.json:
# "training" 24 cases, "validation" 6; the BCV test labels are not public, so the test split
# is the validation list). Layout under data_root: imagesTr/img00xx.nii.gz,
# labelsTr/label00xx.nii.gz, dataset_0.json (paths relative to data_root).
# UNETR's recipe: RAS, 1.5 x 1.5 x 2.0 mm, HU window [-175, 250] -> [0, 1], random 96^3 crops
# centred on an organ or background voxel 1:1 (inside the body), random flips; inference with
# 96^3 sliding windows, overlap 0.5, Gaussian blending. Loading, resampling and windowing a
# volume (seconds) run once: their result is kept in data/cache/bcv (CachedTransforms), and
# each loaded volume gives 4 random crops (MultiSample; UNETR's num_samples=4).
_base_ = ['./seg_loaders.py']

data_root = 'data/bcv'
classes = ('background', 'spleen', 'right_kidney', 'left_kidney', 'gallbladder', 'esophagus',
           'liver', 'stomach', 'aorta', 'inferior_vena_cava', 'portal_and_splenic_vein',
           'pancreas', 'right_adrenal_gland', 'left_adrenal_gland')
roi = (96, 96, 96)
spacing = (2.0, 1.5, 1.5)  # (D, H, W) = (z, y, x) in mm
window = (37.5, 425.0)  # level, width: [-175, 250] HU
preprocess = dict(type='CachedTransforms', cache_dir='data/cache/bcv', transforms=[
    dict(type='LoadMedicalImage', modality='3d'),
    dict(type='LoadMedicalMask'),
    dict(type='Resample', spacing=spacing),
    dict(type='HUWindow', windows=[window]),
])
crops_per_volume = 4
train_pipeline = [
    preprocess,
    dict(type='MultiSample', num_samples=crops_per_volume, transforms=[
        dict(type='RandomCropByLabel', size=roi, pos=1, neg=1, image_threshold=0.0),
        dict(type='MedRandomFlip', prob=0.1, axes=(0, 1, 2)),
        dict(type='PackMedInputs'),
    ]),
]
test_pipeline = [preprocess, dict(type='PackMedInputs')]
dataset = dict(type='NiftiSegDataset', data_root=data_root, ann_file='dataset_0.json',
               metainfo=dict(classes=classes))
# a batch of 1 volume = 4 crops (flat_pseudo_collate flattens MultiSample's lists)
train_dataloader = dict(batch_size=1, num_workers=4,
                        collate_fn=dict(type='unimedi.flat_pseudo_collate'),
                        dataset=dict(dataset, split='training', pipeline=train_pipeline))
# validation batches of 1: volumes differ in shape
val_dataloader = dict(batch_size=1,
                      dataset=dict(dataset, split='validation', pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='SegDiceMetric')
# add output_dir=... to write <case>_pred.nii.gz on each input file's grid
test_evaluator = val_evaluator
