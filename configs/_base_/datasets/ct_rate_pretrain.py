# UniMedI pre-training on CT-RATE alone: the train split's volumes with their findings.
_base_ = ['./pretrain_loaders.py', './ct_rate.py']
train_dataloader = dict(
    dataset=dict(type='CTRateDataset', data_root={{_base_.data_root}}, split='train',
                 text_field={{_base_.ct_rate_text}}, with_labels=False,
                 on_empty_report='skip', pipeline={{_base_.ct_rate_train_pipeline}}))
