# UniMedI ViT-B/16 + BioClinicalBERT pre-trained on CT-RATE alone (3D; findings as the
# text, as CT-CLIP). 8 GPUs x 32 volumes:
#   bash tools/dist_train.sh configs/unimedi/vit_b_pretrain_ct_rate.py 8 --amp
_base_ = [
    '../_base_/models/unimedi_vit_b.py',
    '../_base_/datasets/ct_rate_pretrain.py',
    '../_base_/schedules/pretrain_adamw_cosine.py',
    '../_base_/default_runtime.py',
]
# validation metrics at their iteration in scalars.json (MMEngine logs them by epoch)
default_hooks = dict(checkpoint=dict(interval=5000, by_epoch=False, max_keep_ckpts=3),
                     logger=dict(log_metric_by_epoch=False))
