# UniMedI with ViT-B/16 (2D 16x16 patches at 224, 3D 4x16x16 patches at 32x128x128)
# and BioClinicalBERT, as in the paper (He et al., ECCV 2024, arXiv 2311.14851). Defaults
# for what the paper leaves open (README "Options beyond the paper"): embed dim 256, DINO
# out_dim 8192, tau_t 0.04, tau_s 0.1, centre momentum 0.9, mask ratio 0.5, slice ratio 0.1.
text_model = 'checkpoints/Bio_ClinicalBERT'  # a local Hugging Face folder (never downloaded)
max_report_tokens = 128

model = dict(
    type='UniMedI',
    vision_encoder=dict(
        type='UnifiedViT',
        arch='base',
        drop_path_rate=0.1,
        tokenizers={
            '2d': dict(type='PatchEmbed2D', in_channels=1, patch_size=16, img_size=224),
            '3d': dict(type='PatchEmbed3D', in_channels=1, patch_size=(4, 16, 16),
                       img_size=(32, 128, 128)),
        }),
    text_encoder=dict(type='HFTextEncoder', pretrained=text_model, pooling='cls',
                      freeze_layers=6),
    embed_dim=256,
    contrastive_loss=dict(type='InfoNCELoss', init_temperature=0.07, gather=True),
    dino_head=dict(type='DINOHead', out_dim=8192, hidden_dim=2048, bottleneck_dim=256),
    cls_distill_loss=dict(type='DINOLoss', teacher_temp=0.04, student_temp=0.1,
                          center_momentum=0.9),
    patch_distill_loss=dict(type='PatchDistillationLoss', teacher_temp=0.04, student_temp=0.1,
                            center_momentum=0.9),
    slice_selector=dict(type='AttentiveSliceSelector', ratio=0.1, min_slices=1),
    token_masker=dict(type='AttentiveRegionSelector', mask_ratio=0.5),
    loss_weights=dict(vl=1.0, icl=1.0, pcl=1.0),
    data_preprocessor=dict(
        type='MedDataPreprocessor',
        # images arrive in [0, 1] (radiographs scaled, CTs windowed): centre them
        mean=0.5,
        std=0.25,
        text_tokenizer=dict(type='HFTextTokenizer', pretrained=text_model,
                            max_length=max_report_tokens)),
)
