# Zero-shot NORMAL / PNEUMONIA on real pediatric radiographs (an ImageFolderDataset, e.g.
# data/cxr-pneumonia/train, linked by tools/data/link_real_data.sh; the same fixed 20 % as
# the classification configs) with the demo's phantom-pre-trained tiny UniMedI. Each class
# has positive and negative prompts; the class scores are compared (argmax: ACC,
# one-vs-rest AUC).
#   python tools/test.py configs/zero_shot/vit_tiny_zero_shot_cxr_pneumonia.py CHECKPOINT
_base_ = ['../unimedi/vit_tiny_pretrain_phantom.py']
classes = ('NORMAL', 'PNEUMONIA')
model = dict(zero_shot_prompts=dict(
    _delete_=True,
    NORMAL=dict(positive=['The lungs are clear.', 'No focal consolidation.',
                          'No acute cardiopulmonary process.'],
                negative=['Consolidation, likely pneumonia.',
                          'Airspace opacity in the lung.']),
    PNEUMONIA=dict(positive=['Consolidation, likely pneumonia.',
                             'Airspace opacity in the lung.',
                             'Patchy opacity consistent with pneumonia.'],
                   negative=['The lungs are clear.', 'No focal consolidation.']),
))
test_dataloader = dict(
    _delete_=True,
    batch_size=64, num_workers=2,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='pseudo_collate'),
    dataset=dict(type='ImageFolderDataset', data_root='data/cxr-pneumonia/train',
                 classes=classes, split='val', val_fraction=0.2, split_seed=0,
                 pipeline=[
                     dict(type='LoadMedicalImage', modality='2d'),
                     dict(type='MedResize', size=(112, 112), image_mode='area'),
                     dict(type='PackMedInputs'),
                 ]))
test_evaluator = [dict(type='MultiClassMetric', prefix='zero_shot')]
