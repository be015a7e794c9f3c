# Organ segmentation on ONE real CT (data/ct: TotalSegmentator's test fixture,
# 122 x 101 x 30 voxels at 3 mm, RAS), fitted and evaluated on that same volume: a check
# that the whole 3D path works on real data (loading, label mapping, foreground crops,
# sliding windows, Dice, a NIfTI prediction on the input's grid), not a benchmark.
# TotalSegmentator labels (data/ct/totalseg_class_map.txt, dict "total") are
# mapped to 6 organs; the lung is the union of its 5 lobes. Random 32 x 64 x 64 crops
# (axial slices padded from 30 to 32) centred 2:1 on an organ; the test tiles the whole volume
# with 32 x 64 x 64 windows.
# data/ct: a link to the real files (bash tools/data/link_real_data.sh)
_base_ = ['./seg_loaders.py']

data_root = 'data/ct'
organs = dict(liver=[5], spleen=[1], kidney_right=[2], kidney_left=[3], stomach=[6],
              lung=[10, 11, 12, 13, 14])
classes = ('background', 'liver', 'spleen', 'kidney_right', 'kidney_left', 'stomach', 'lung')
roi = (32, 64, 64)
train_pipeline = [
    dict(type='LoadMedicalImage', modality='3d'),
    dict(type='LoadMedicalMask'),
    dict(type='RemapLabels', mapping=organs),
    dict(type='HUWindow', windows='abdomen'),
    dict(type='RandomCropByLabel', size=roi, pos=2, neg=1),
    dict(type='PackMedInputs'),
]
test_pipeline = [
    dict(type='LoadMedicalImage', modality='3d'),
    dict(type='LoadMedicalMask'),
    dict(type='RemapLabels', mapping=organs),
    dict(type='HUWindow', windows='abdomen'),
    dict(type='PackMedInputs'),
]
dataset = dict(type='NiftiSegDataset', data_root=data_root,
               data_list=[dict(image='example_ct_sm.nii.gz', label='example_seg.nii.gz')],
               metainfo=dict(classes=classes))
train_dataloader = dict(batch_size=2, dataset=dict(dataset, pipeline=train_pipeline))
val_dataloader = dict(batch_size=1, num_workers=0, persistent_workers=False,
                      dataset=dict(dataset, pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='SegDiceMetric')
test_evaluator = val_evaluator
