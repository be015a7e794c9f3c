# UniMedI pre-training on CT-RATE alone: the train split's volumes with their findings.
_base_ = ['./ct_rate.py']
train_dataloader = dict(
    batch_size=32,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    collate_fn=dict(type='pseudo_collate'),
    dataset=dict(type='CTRateDataset', data_root={{_base_.data_root}}, split='train',
                 text_field={{_base_.ct_rate_text}}, with_labels=False,
                 on_empty_report='skip', pipeline={{_base_.ct_rate_train_pipeline}}))
