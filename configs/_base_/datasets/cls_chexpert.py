# CheXpert-v1.0-small, the 5 competition labels (multi-label, macro AUC), frontal views,
# uncertain labels as negatives (U-Zeros; uncertain='ones' for U-Ones). Lists written by
#   python tools/data/prepare_chexpert.py --root data/chexpert --out data/chexpert/splits
# (val = the official valid.csv, test = patients held out from train.csv).
_base_ = ['./cls_xray_224.py']

data_root = 'data/chexpert'  # holds CheXpert-v1.0-small/
classes = ('Atelectasis', 'Cardiomegaly', 'Consolidation', 'Edema', 'Pleural Effusion')
dataset = dict(type='CheXpertDataset', data_root=data_root, classes=classes,
               uncertain='zeros', frontal_only=True)
train_dataloader = dict(dataset=dict(dataset, ann_file='splits/train.csv'))
val_dataloader = dict(dataset=dict(dataset, ann_file='splits/val.csv'))
test_dataloader = dict(dataset=dict(dataset, ann_file='splits/test.csv'))
val_evaluator = dict(type='MultiLabelAUC')
test_evaluator = val_evaluator
