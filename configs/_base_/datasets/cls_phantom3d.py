# Chest phantom CTs (tools/data/make_phantoms.py), lung-windowed and resized to 32 x 64 x 64;
# multi-label classification of the 7 findings, scored by macro AUC. The radiograph
# configuration with the CT pipeline and smaller batches.
_base_ = ['./cls_phantom2d.py']

pipeline = [
    dict(type='LoadMedicalImage', modality='3d'),
    dict(type='HUWindow', windows='lung'),
    dict(type='MedResize', size=(32, 64, 64), image_mode='area'),
    dict(type='PackMedInputs'),
]
ct = dict(modalities=('3d', ), pipeline=pipeline)
train_dataloader = dict(batch_size=16, dataset=ct)
val_dataloader = dict(batch_size=16, dataset=ct)
test_dataloader = dict(batch_size=16, dataset=ct)
