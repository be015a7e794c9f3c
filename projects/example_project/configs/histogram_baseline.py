# Example project: a histogram baseline on any image-report manifest with labels.
# Run from the repository root (PYTHONPATH=. lets custom_imports find `projects`):
#   PYTHONPATH=. python tools/train.py projects/example_project/configs/histogram_baseline.py
_base_ = ['../../../configs/_base_/default_runtime.py']

custom_imports = dict(imports=['projects.example_project.example_project'],
                      allow_failed_imports=False)

classes = ('nodule', 'mass', 'consolidation', 'ground_glass_opacity', 'pleural_effusion',
           'pneumothorax', 'cardiomegaly')
data_root = 'data/phantoms'

model = dict(type='IntensityHistogramClassifier', num_classes=len(classes), bins=32,
             data_preprocessor=dict(type='MedDataPreprocessor'))

pipeline = [
    dict(type='LoadMedicalImage'),
    # CTs arrive in HU, radiographs in [0, 1]: window the CTs to [0, 1] too.
    dict(type='PerModality', pipelines={'3d': [dict(type='HUWindow', windows='lung')]}),
    dict(type='PackMedInputs'),
]
dataset = dict(type='ImageReportDataset', data_root=data_root, ann_file='manifest.jsonl',
               metainfo=dict(classes=classes), require_report=False, pipeline=pipeline)
train_dataloader = dict(batch_size=8, num_workers=0,
                        sampler=dict(type='DefaultSampler', shuffle=True),
                        collate_fn=dict(type='pseudo_collate'),
                        dataset=dict(dataset, split='train'))
test_dataloader = dict(batch_size=8, num_workers=0,
                       sampler=dict(type='DefaultSampler', shuffle=False),
                       collate_fn=dict(type='pseudo_collate'),
                       dataset=dict(dataset, split='test'))
test_evaluator = dict(type='MultiLabelAUC')
test_cfg = dict(type='TestLoop')

optim_wrapper = dict(optimizer=dict(type='AdamW', lr=1e-2, weight_decay=0.0))
train_cfg = dict(type='IterBasedTrainLoop', max_iters=50)
default_hooks = dict(checkpoint=dict(interval=25, by_epoch=False))
