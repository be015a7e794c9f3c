# A folder of radiographs, one subfolder per class (ImageFolderDataset), here the
# pediatric pneumonia set (NORMAL / PNEUMONIA; data/cxr-pneumonia/train, the real files
# linked by tools/data/link_real_data.sh). A fixed, stratified 80 / 20 split (split_seed 0): the
# model trains on the 80 % and is tested on the 20 %. With no third split, nothing is
# selected on the test part: no early stopping, the last epoch is tested (set in the
# configs/classification/cxrpneumonia/ configs).
_base_ = ['./cls_loaders.py']

data_root = 'data/cxr-pneumonia/train'
classes = ('NORMAL', 'PNEUMONIA')
pipeline = [
    dict(type='LoadMedicalImage', modality='2d'),
    dict(type='MedResize', size=(112, 112), image_mode='area'),
    dict(type='PackMedInputs'),
]
dataset = dict(type='ImageFolderDataset', data_root=data_root, classes=classes,
               val_fraction=0.2, split_seed=0, pipeline=pipeline)
train_dataloader = dict(dataset=dict(dataset, split='train'))
val_dataloader = dict(dataset=dict(dataset, split='val'))
test_dataloader = val_dataloader
val_evaluator = dict(type='MultiClassMetric')
test_evaluator = val_evaluator
