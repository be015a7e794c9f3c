# Any 2D image + mask folders (SegImageFolderDataset): data_root/images/<stem>.png with
# data_root/masks/<stem>.png (grey PNG, pixel value = class index, 0 the background), and
# one split list per split (data_root/splits/<split>.txt, one stem a line). Set the
# classes (background first) and the suffixes for your data, e.g.
#   --cfg-options train_dataloader.dataset.data_root=... (and for val / test)
_base_ = ['./seg_xray_224.py']

data_root = 'data/seg_image_folder'
classes = ('background', 'foreground')
dataset = dict(type='SegImageFolderDataset', data_root=data_root, img_dir='images',
               img_suffix='.png', mask_dir='masks', mask_suffix='.png', classes=classes)
train_dataloader = dict(dataset=dict(dataset, split_file='splits/train.txt'))
val_dataloader = dict(dataset=dict(dataset, split_file='splits/val.txt'))
test_dataloader = dict(dataset=dict(dataset, split_file='splits/test.txt'))
