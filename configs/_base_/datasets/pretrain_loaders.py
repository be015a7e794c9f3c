# The training loader every paper-scale pre-training base shares: iteration-based (an
# infinite, shuffled sampler), batches of 32 per GPU, samples kept as lists
# (pseudo_collate: the data preprocessor batches each modality). A base inheriting this
# sets the loader's dataset.
train_dataloader = dict(
    batch_size=32,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    collate_fn=dict(type='pseudo_collate'))
