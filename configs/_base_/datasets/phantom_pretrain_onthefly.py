# Pre-training on phantoms generated on the fly (PhantomDataset): practically endless
# cases, none seen twice in a CPU run; generation runs in the loader's workers. Seed 1 keeps
# them apart from data/phantoms (seed 0), whose splits evaluate and probe.
_base_ = ['./phantom_pretrain.py']
onthefly_pipeline = [
    dict(type='PerModality', pipelines={
        '2d': [dict(type='MedResize', size={{_base_.size_2d}}, image_mode='area')],
        '3d': [dict(type='HUWindow', windows='lung'),
               dict(type='MedResize', size={{_base_.size_3d}}, image_mode='area')],
    }),
    dict(type='ParseReport'),
    dict(type='PackMedInputs'),
]
train_dataloader = dict(dataset=dict(_delete_=True, type='PhantomDataset', num_3d=20000,
                                     num_2d=60000, seed=1, pipeline=onthefly_pipeline))
