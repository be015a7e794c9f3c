# CT <-> report retrieval on CT-RATE's official valid split (the manifest's test split),
# with UniMedI pre-trained on CT-RATE: the protocol peers report, non-chest volumes dropped
# (tools/data/prepare_ct_rate.py) and one volume per distinct findings text (1,493 pairs).
#   python tools/test.py configs/retrieval/vit_b_retrieval_ct_rate.py CHECKPOINT
_base_ = ['../unimedi/vit_b_pretrain_ct_rate.py']
test_dataloader = dict(
    batch_size=8, num_workers=4,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='pseudo_collate'),
    dataset=dict(type='CTRateDataset', data_root={{_base_.data_root}}, split='test',
                 text_field={{_base_.ct_rate_text}}, unique_reports=True, with_labels=False,
                 on_empty_report='skip',
                 pipeline={{_base_.ct_rate_test_pipeline}}))
test_evaluator = [
    dict(type='RetrievalRecall', ks=(1, 5, 10, 50), modality='3d', prefix='retrieval_3d'),
]
test_cfg = dict(type='TestLoop')
