# SIIM-ACR Pneumothorax Segmentation (DICOM radiographs, Kaggle RLE masks), background +
# pneumothorax. Masks (0/1 PNGs mirroring the DICOM tree) and 70 / 15 / 15 split lists
# (by patient, stratified by "has pneumothorax", seeded) written by
#   python tools/data/prepare_siim.py --root data/siim
_base_ = ['./seg_xray_224.py']

data_root = 'data/siim'  # holds train-rle.csv, dicom-images-train/ and prepared/
classes = ('background', 'pneumothorax')
dataset = dict(type='SegImageFolderDataset', data_root=data_root,
               img_dir='dicom-images-train', img_suffix='.dcm',
               mask_dir='prepared/masks', mask_suffix='.png', classes=classes)
train_dataloader = dict(dataset=dict(dataset, split_file='prepared/splits/train.txt'))
val_dataloader = dict(dataset=dict(dataset, split_file='prepared/splits/val.txt'))
test_dataloader = dict(dataset=dict(dataset, split_file='prepared/splits/test.txt'))
