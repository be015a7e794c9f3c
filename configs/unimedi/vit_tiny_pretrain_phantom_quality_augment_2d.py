# The CPU quality recipe with training augmentation of the radiographs only
# (docs/pretraining_quality.md, row A2). A1 (vit_tiny_pretrain_phantom_quality_augment.py)
# augmented both modalities: the radiographs gained and the CTs lost their findings. Here
# each radiograph draw is a random 112-px crop of a 128-px resize with a random brightness /
# contrast change (MONAI's RandScaleIntensity and RandShiftIntensity); the CTs are read
# exactly as in the recipe. No flips: the reports name the side.
_base_ = ['./vit_tiny_pretrain_phantom_quality.py']

train_preprocess = [
    dict(type='LoadMedicalImage'),
    dict(type='PerModality', pipelines={
        '2d': [dict(type='MedResize', size=(128, 128), image_mode='area')],
        '3d': [dict(type='HUWindow', windows='lung'),
               dict(type='MedResize', size={{_base_.size_3d}}, image_mode='area')],
    }),
]
train_pipeline = [
    dict(type='CachedTransforms', cache_dir='data/cache/preprocessed', transforms=train_preprocess),
    dict(type='PerModality', pipelines={'2d': [
        dict(type='MedRandomCrop', size={{_base_.size_2d}}),
        dict(type='MonaiIntensity', transform=dict(type='RandScaleIntensity', factors=0.1, prob=0.8)),
        dict(type='MonaiIntensity', transform=dict(type='RandShiftIntensity', offsets=0.05, prob=0.8)),
    ]}),
    dict(type='ParseReport'),
    dict(type='PackMedInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
