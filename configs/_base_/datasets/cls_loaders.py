# The loaders every classification dataset base shares: epoch-based training (a shuffled
# DefaultSampler), sequential validation and test, samples kept as lists (pseudo_collate:
# the model's data preprocessor batches them). A dataset base inheriting this sets each
# loader's ``dataset`` and changes only the numbers (batch size, workers).
train_dataloader = dict(
    batch_size=32, num_workers=2, persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='pseudo_collate'))
val_dataloader = dict(
    batch_size=64, num_workers=2, persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='pseudo_collate'))
test_dataloader = val_dataloader
