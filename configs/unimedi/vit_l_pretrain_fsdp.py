# ViT-L/16 UniMedI sharded over the GPUs with FSDP (MMEngine FlexibleRunner + FSDPStrategy):
# parameters, gradients and AdamW states are split across the ranks, so each GPU holds about
# 1/N of the ~0.6 B parameters of student + teacher plus their optimizer state.
#   bash tools/dist_train.sh configs/unimedi/vit_l_pretrain_fsdp.py 8
# Differences from vit_b_pretrain.py (the paper's ViT-B): the ViT-L encoder, activation
# checkpointing (the 3D sequences of 512 CT tokens plus the selected slices), fused AdamW,
# bf16 autocast. One FSDP unit per transformer block, text layer and DINO head
# (unimedi/engine/fsdp.py); the EMA teacher update gathers full parameters once per step
# (TeacherEMAHook). FSDP gathers a block's parameters at each call, so every rank must run
# the same passes: every batch holds radiographs and CTs (ModalityRatioBatchSampler); a
# rank without CTs would wait for the others forever. Not measured at scale yet.
_base_ = ['./vit_b_pretrain.py']

model = dict(vision_encoder=dict(arch='large', grad_checkpointing=True))
train_dataloader = dict(batch_sampler=dict(type='ModalityRatioBatchSampler', fraction_3d=0.25))
runner_type = 'FlexibleRunner'
strategy = dict(
    type='FSDPStrategy',
    model_wrapper=dict(
        auto_wrap_policy=dict(type='unimedi.transformer_layer_wrap_policy'),
        # frozen text layers and the teacher sit beside trained parameters: keep the
        # original parameters (also what the EMA update and the optimizer groups name)
        use_orig_params=True),
    state_dict_cfg='full')  # checkpoints hold whole tensors: they load without FSDP
# each rank's gradients are its FSDP shard: clip_grad's norm is all-reduced (sharded_grads)
optim_wrapper = dict(type='AutocastOptimWrapper', dtype='bfloat16', sharded_grads=True,
                     optimizer=dict(fused=True))  # fused AdamW: CUDA (and CPU) kernels
