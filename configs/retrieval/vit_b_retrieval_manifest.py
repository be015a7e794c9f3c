# Image <-> report retrieval with the paper-size UniMedI on any image-report manifest
# (JSONL / CSV with path, modality, report: see ImageReportDataset), 2D and 3D:
#   python tools/test.py configs/retrieval/vit_b_retrieval_manifest.py CHECKPOINT \
#       --cfg-options test_dataloader.dataset.data_root=data/my_set \
#                     test_dataloader.dataset.ann_file=manifest.jsonl
# Rows with a "split" field can be restricted with test_dataloader.dataset.split=test.
_base_ = ['../unimedi/vit_b_pretrain.py']
test_pipeline = [
    dict(type='LoadMedicalImage'),
    dict(type='PerModality', pipelines={
        '2d': [dict(type='MedResize', size=(224, 224))],
        '3d': [dict(type='HUWindow', windows='lung'),
               dict(type='Resample', spacing=(5.0, 1.5, 1.5)),
               dict(type='CenterCropOrPad', size=(32, 128, 128))],
    }),
    dict(type='ParseReport'),
    dict(type='PackMedInputs'),
]
test_dataloader = dict(
    batch_size=32, num_workers=4,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='pseudo_collate'),
    dataset=dict(type='ImageReportDataset', data_root='data/retrieval',
                 ann_file='manifest.jsonl', split=None, with_labels=False,
                 pipeline=test_pipeline))
test_evaluator = [
    dict(type='RetrievalRecall', ks=(1, 5, 10), modality='2d', prefix='retrieval_2d'),
    dict(type='RetrievalRecall', ks=(1, 5, 10), modality='3d', prefix='retrieval_3d'),
]
test_cfg = dict(type='TestLoop')
