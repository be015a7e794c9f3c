# The loaders every segmentation dataset base shares: iteration-based training (an infinite,
# shuffled sampler), sequential validation and test, samples kept as lists (pseudo_collate:
# the model's data preprocessor batches them). A dataset base inheriting this sets each
# loader's ``dataset`` and changes only the numbers (batch size, workers).
train_dataloader = dict(
    batch_size=16, num_workers=2, persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    collate_fn=dict(type='pseudo_collate'))
val_dataloader = dict(
    batch_size=16, num_workers=2, persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='pseudo_collate'))
test_dataloader = val_dataloader
