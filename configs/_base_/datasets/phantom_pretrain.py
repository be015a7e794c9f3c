# Chest phantoms (tools/data/make_phantoms.py): CTs and radiographs with reports.
# CPU-sized inputs: radiographs 112 x 112, CTs lung-windowed and resized to 32 x 64 x 64
# (box averaging: exact 2x downsampling of the 224 x 224 and 64 x 128 x 128 phantoms).
data_root = 'data/phantoms'
classes = ('nodule', 'mass', 'consolidation', 'ground_glass_opacity', 'pleural_effusion',
           'pneumothorax', 'cardiomegaly')
size_2d = (112, 112)
size_3d = (32, 64, 64)

preprocess = [
    dict(type='LoadMedicalImage'),
    dict(type='PerModality', pipelines={
        '2d': [dict(type='MedResize', size=size_2d, image_mode='area')],
        '3d': [dict(type='HUWindow', windows='lung'),
               dict(type='MedResize', size=size_3d, image_mode='area')],
    }),
]
# Training reads each case's preprocessed image from a disk cache after its first pass
# (reading a CT and resizing it costs ~80 ms, the cached array ~1 ms).
train_pipeline = [
    dict(type='CachedTransforms', cache_dir='data/cache/preprocessed', transforms=preprocess),
    dict(type='ParseReport'),
    dict(type='PackMedInputs'),
]
test_pipeline = preprocess + [dict(type='ParseReport'), dict(type='PackMedInputs')]
dataset = dict(type='ImageReportDataset', data_root=data_root, ann_file='manifest.jsonl',
               metainfo=dict(classes=classes))
train_dataloader = dict(
    batch_size=16,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    collate_fn=dict(type='pseudo_collate'),
    dataset=dict(dataset, split='train', pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=32,
    num_workers=2,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='pseudo_collate'),
    dataset=dict(dataset, split='test', pipeline=test_pipeline))
test_dataloader = val_dataloader
# The labelled set FeatureQualityHook probes while pre-training: the downstream training
# split (never the test split), read with the test pipeline.
monitor_dataset = dict(dataset, split='train', require_report=False, pipeline=test_pipeline)
val_evaluator = [
    dict(type='RetrievalRecall', ks=(1, 5, 10)),
    dict(type='MultiLabelAUC', prefix='zero_shot'),
]
test_evaluator = val_evaluator
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
