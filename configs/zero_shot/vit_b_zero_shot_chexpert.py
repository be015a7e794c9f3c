# Zero-shot CheXpert (5 competition labels, multi-label AUC) with the paper-size UniMedI,
# on the held-out test list of tools/data/prepare_chexpert.py. Prompts: positive and
# negative radiology phrasings per finding (edit them here; the mean embedding of each
# set is compared with the image, see UniMedI.zero_shot_scores).
#   python tools/test.py configs/zero_shot/vit_b_zero_shot_chexpert.py CHECKPOINT
_base_ = ['../unimedi/vit_b_pretrain.py']
classes = ('Atelectasis', 'Cardiomegaly', 'Consolidation', 'Edema', 'Pleural Effusion')
model = dict(zero_shot_prompts=dict(
    Atelectasis=dict(positive=['Bibasilar atelectasis.', 'Subsegmental atelectasis.',
                               'Linear atelectasis at the lung base.'],
                     negative=['No atelectasis.', 'The lungs are clear.']),
    Cardiomegaly=dict(positive=['Cardiomegaly.', 'The heart is enlarged.',
                                'Moderate enlargement of the cardiac silhouette.'],
                      negative=['Heart size is normal.', 'No cardiomegaly.']),
    Consolidation=dict(positive=['Focal consolidation.', 'Airspace consolidation.',
                                 'Consolidation, likely pneumonia.'],
                       negative=['No focal consolidation.', 'The lungs are clear.']),
    Edema=dict(positive=['Pulmonary edema.', 'Interstitial edema.',
                         'Mild pulmonary vascular congestion and edema.'],
               negative=['No pulmonary edema.', 'No vascular congestion.']),
    **{'Pleural Effusion': dict(positive=['Pleural effusion.', 'Small left pleural effusion.',
                                          'Bilateral pleural effusions.'],
                                negative=['No pleural effusion.',
                                          'No pleural effusion or pneumothorax.'])},
))
test_dataloader = dict(
    batch_size=64, num_workers=4,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='pseudo_collate'),
    dataset=dict(type='CheXpertDataset', data_root='data/chexpert',
                 ann_file='unimedi_splits/test.csv', classes=classes,
                 pipeline=[
                     dict(type='LoadMedicalImage', modality='2d'),
                     dict(type='MedResize', size=(224, 224)),
                     dict(type='PackMedInputs'),
                 ]))
test_evaluator = [dict(type='MultiLabelAUC', prefix='zero_shot')]
test_cfg = dict(type='TestLoop')
