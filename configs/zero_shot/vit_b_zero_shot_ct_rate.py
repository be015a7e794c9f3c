# Zero-shot CT-RATE (the 18 predicted abnormalities, multi-label AUC) with UniMedI pre-trained
# on CT-RATE, on the official valid split (the manifest's test split). Prompts: CT-CLIP's
# pair, "{label} is present." / "{label} is not present." (ensembles: the templates in
# configs/_base_/datasets/ct_rate.py; UniMedI.zero_shot_scores).
#   python tools/test.py configs/zero_shot/vit_b_zero_shot_ct_rate.py CHECKPOINT
_base_ = ['../unimedi/vit_b_pretrain_ct_rate.py']
model = dict(zero_shot_prompts={{_base_.ct_rate_zero_shot_prompts}})
test_dataloader = dict(
    batch_size=8, num_workers=4,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='pseudo_collate'),
    dataset=dict(type='CTRateDataset', data_root={{_base_.data_root}}, split='test',
                 text_field={{_base_.ct_rate_text}}, require_report=False,
                 pipeline={{_base_.ct_rate_test_pipeline}}))
test_evaluator = [dict(type='MultiLabelAUC', prefix='zero_shot')]
test_cfg = dict(type='TestLoop')
