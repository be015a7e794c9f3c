# The CPU quality recipe with training augmentation (docs/pretraining_quality.md, row A1).
# The recipe itself sees every phantom exactly as the evaluation does; past 5,000 iterations
# it fits the training phantoms (Q3). Here each draw is a random crop of a slightly larger
# resize (2D: 112 of 128 px; CTs: 64 of 72 px in-plane, every slice kept, so the lesion
# slices stay in the volume) and a random brightness / contrast change (MONAI's
# RandScaleIntensity and RandShiftIntensity). No flips: the reports name the side.
_base_ = ['./vit_tiny_pretrain_phantom_quality.py']

train_preprocess = [
    dict(type='LoadMedicalImage'),
    dict(type='PerModality', pipelines={
        '2d': [dict(type='MedResize', size=(128, 128), image_mode='area')],
        '3d': [dict(type='HUWindow', windows='lung'),
               dict(type='MedResize', size=(32, 72, 72), image_mode='area')],
    }),
]
train_pipeline = [
    dict(type='CachedTransforms', cache_dir='data/cache/preprocessed', transforms=train_preprocess),
    dict(type='PerModality', pipelines={
        '2d': [dict(type='MedRandomCrop', size={{_base_.size_2d}})],
        '3d': [dict(type='MedRandomCrop', size=(None, 64, 64))],
    }),
    dict(type='MonaiIntensity', transform=dict(type='RandScaleIntensity', factors=0.1, prob=0.8)),
    dict(type='MonaiIntensity', transform=dict(type='RandShiftIntensity', offsets=0.05, prob=0.8)),
    dict(type='ParseReport'),
    dict(type='PackMedInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
