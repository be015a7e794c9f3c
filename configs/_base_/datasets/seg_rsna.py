# RSNA Pneumonia as segmentation (DICOM radiographs): the opacity boxes as 0/1 masks,
# background + pneumonia. The patients of each split are those of the classification
# split (tools/data/prepare_rsna_pneumonia.py, 70 / 15 / 15); masks and split lists by
#   python tools/data/prepare_rsna_seg.py --root data/rsna_pneumonia
_base_ = ['./seg_xray_224.py']

data_root = 'data/rsna_pneumonia'  # holds stage_2_train_images/, splits/ and seg/
classes = ('background', 'pneumonia')
dataset = dict(type='SegImageFolderDataset', data_root=data_root,
               img_dir='stage_2_train_images', img_suffix='.dcm',
               mask_dir='seg/masks', mask_suffix='.png', classes=classes)
train_dataloader = dict(dataset=dict(dataset, split_file='seg/splits/train.txt'))
val_dataloader = dict(dataset=dict(dataset, split_file='seg/splits/val.txt'))
test_dataloader = dict(dataset=dict(dataset, split_file='seg/splits/test.txt'))
