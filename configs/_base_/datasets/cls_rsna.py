# RSNA Pneumonia Detection (DICOM radiographs), binary pneumonia vs not, scored by AUC
# (one multi-label output). Lists (70 / 15 / 15 %, stratified) written by
#   python tools/data/prepare_rsna_pneumonia.py --root data/rsna_pneumonia \
#       --out data/rsna_pneumonia/splits
_base_ = ['./cls_xray_224.py']

data_root = 'data/rsna_pneumonia'  # holds stage_2_train_images/
classes = ('Pneumonia', )
dataset = dict(type='RSNAPneumoniaDataset', data_root=data_root,
               img_dir='stage_2_train_images')
train_dataloader = dict(dataset=dict(dataset, ann_file='splits/train.csv'))
val_dataloader = dict(dataset=dict(dataset, ann_file='splits/val.csv'))
test_dataloader = dict(dataset=dict(dataset, ann_file='splits/test.csv'))
val_evaluator = dict(type='MultiLabelAUC', classes=classes)
test_evaluator = val_evaluator
