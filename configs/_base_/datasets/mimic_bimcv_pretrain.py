# MIMIC-CXR (2D, frontal) + BIMCV-COVID19+ (3D CT) image-report pairs. Manifests are
# written by tools/data/prepare_mimic_cxr.py and tools/data/prepare_bimcv.py
# (layouts: docs/paper_data.md).
_base_ = ['./pretrain_loaders.py']
mimic_root = 'data/mimic-cxr-jpg'
bimcv_root = 'data/bimcv-covid19'

pipeline_2d = [
    dict(type='LoadMedicalImage'),
    dict(type='MedResize', size=(256, 256)),
    dict(type='MedRandomCrop', size=(224, 224)),
]
# a CT is read, windowed and resampled once (seconds for a full-resolution volume) and kept in
# data/cache/bimcv; each draw takes a new random crop of the kept volume
pipeline_3d = [
    dict(type='CachedTransforms', cache_dir='data/cache/bimcv', transforms=[
        dict(type='LoadMedicalImage'),
        dict(type='HUWindow', windows='lung'),
        dict(type='Resample', spacing=(5.0, 1.5, 1.5)),
    ]),
    dict(type='MedRandomCrop', size=(32, 128, 128)),
]
train_pipeline = [
    dict(type='PerModality', pipelines={'2d': pipeline_2d, '3d': pipeline_3d}),
    dict(type='ParseReport'),
    dict(type='PackMedInputs'),
]
train_dataloader = dict(
    dataset=dict(
        type='ConcatDataset',
        datasets=[
            dict(type='ImageReportDataset', data_root=mimic_root, ann_file='manifest.jsonl',
                 split='train', on_empty_report='skip', with_labels=False, pipeline=train_pipeline),
            dict(type='ImageReportDataset', data_root=bimcv_root, ann_file='manifest.jsonl',
                 split='train', on_empty_report='skip', with_labels=False, pipeline=train_pipeline),
        ]))
