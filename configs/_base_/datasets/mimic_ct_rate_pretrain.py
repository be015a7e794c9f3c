# UniMedI pre-training on MIMIC-CXR (2D, frontal; tools/data/prepare_mimic_cxr.py) with
# CT-RATE (3D) instead of BIMCV-COVID19+: the public pair a user can download today. One
# pipeline routes each sample by modality; a CT's load, header fix, window and resampling
# run once (data/cache/ct-rate).
_base_ = ['./pretrain_loaders.py', './ct_rate.py']
mimic_root = 'data/mimic-cxr-jpg'
train_pipeline = [
    dict(type='PerModality', pipelines={
        '2d': [dict(type='LoadMedicalImage', modality='2d'),
               dict(type='MedResize', size=(256, 256)),
               dict(type='MedRandomCrop', size=(224, 224))],
        '3d': [{{_base_.ct_rate_preprocess}}, dict(type='MedRandomCrop', size=(32, 128, 128))],
    }),
    dict(type='ParseReport'),
    dict(type='PackMedInputs'),
]
train_dataloader = dict(
    dataset=dict(
        type='ConcatDataset',
        ignore_keys=['classes'],  # CT-RATE names its 18 labels, the MIMIC manifest none
        datasets=[
            dict(type='ImageReportDataset', data_root=mimic_root, ann_file='manifest.jsonl',
                 split='train', on_empty_report='skip', with_labels=False, pipeline=train_pipeline),
            dict(type='CTRateDataset', data_root={{_base_.data_root}}, split='train',
                 text_field={{_base_.ct_rate_text}}, with_labels=False,
                 on_empty_report='skip', pipeline=train_pipeline),
        ]))
