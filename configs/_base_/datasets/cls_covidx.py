# COVIDx CXR (normal / pneumonia / COVID-19; multi-class: ACC, one-vs-rest AUC). Lists
# (val = 10 % of the train patients, stratified; test = the official test list) by
#   python tools/data/prepare_covidx.py --root data/covidx --out data/covidx/splits
_base_ = ['./cls_xray_224.py']

data_root = 'data/covidx'  # holds train/ and test/ image folders
classes = ('normal', 'pneumonia', 'COVID-19')
dataset = dict(type='COVIDxDataset', data_root=data_root)
train_dataloader = dict(dataset=dict(dataset, ann_file='splits/train_split.txt',
                                     img_dir='train'))
val_dataloader = dict(dataset=dict(dataset, ann_file='splits/val.txt', img_dir='train'))
test_dataloader = dict(dataset=dict(dataset, ann_file='splits/test.txt', img_dir='test'))
val_evaluator = dict(type='MultiClassMetric')
test_evaluator = val_evaluator
