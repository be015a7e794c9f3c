# CT-RATE, multi-label classification of the 18 abnormalities (predicted labels; macro
# AUC), 3D. Splits of tools/data/prepare_ct_rate.py: train, val (patients carved from the
# official train split), test (the official valid split).
_base_ = ['./cls_loaders.py', './ct_rate.py']
classes = {{_base_.ct_rate_classes}}
dataset = dict(type='CTRateDataset', data_root={{_base_.data_root}}, metainfo=dict(classes=classes),
               text_field={{_base_.ct_rate_text}}, require_report=False,
               pipeline={{_base_.ct_rate_test_pipeline}})
train_dataloader = dict(batch_size=8, num_workers=8, dataset=dict(
    dataset, split='train', pipeline={{_base_.ct_rate_train_pipeline}}))
val_dataloader = dict(batch_size=16, num_workers=8, dataset=dict(dataset, split='val'))
test_dataloader = dict(val_dataloader, dataset=dict(dataset, split='test'))
val_evaluator = dict(type='MultiLabelAUC')
test_evaluator = val_evaluator
