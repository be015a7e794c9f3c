# CT-RATE chest CTs (Hamamci et al., 2024; 50,188 volumes, 21,304 patients) through the
# manifest of tools/data/prepare_ct_rate.py (layout: docs/paper_data.md; the data cannot be
# redistributed). The variables the CT-RATE bases share: where the data is, the 18
# abnormality labels (predicted from the reports by a text classifier) and the CT
# preprocessing, which runs once per volume (data/cache/ct-rate): the v1 header fix
# (spacing and HU rescale of the metadata tables; a no-op on the *_fixed tree), the lung
# window and 5 x 1.5 x 1.5 mm, as the BIMCV CTs of the paper's pre-training.
data_root = 'data/ct-rate'
ct_rate_classes = (
    'Medical material', 'Arterial wall calcification', 'Cardiomegaly', 'Pericardial effusion',
    'Coronary artery wall calcification', 'Hiatal hernia', 'Lymphadenopathy', 'Emphysema',
    'Atelectasis', 'Lung nodule', 'Lung opacity', 'Pulmonary fibrotic sequela',
    'Pleural effusion', 'Mosaic attenuation pattern', 'Peribronchial thickening',
    'Consolidation', 'Bronchiectasis', 'Interlobular septal thickening')
# Zero-shot prompts: CT-CLIP's pair, "{label} is present." / "{label} is not present.".
# Ensembles: add phrasings to either list (e.g. 'There is {}.' / 'No {}.'); each class
# compares the image with the mean embedding of its positive and of its negative phrasings.
ct_rate_positive_templates = ['{} is present.']
ct_rate_negative_templates = ['{} is not present.']
ct_rate_zero_shot_prompts = {
    name: dict(positive=[t.format(name) for t in ct_rate_positive_templates],
               negative=[t.format(name) for t in ct_rate_negative_templates])
    for name in ct_rate_classes}
ct_rate_preprocess = dict(type='CachedTransforms', cache_dir='data/cache/ct-rate', transforms=[
    dict(type='LoadMedicalImage', modality='3d'),
    dict(type='OverrideHeader'),
    dict(type='HUWindow', windows='lung'),
    dict(type='Resample', spacing=(5.0, 1.5, 1.5)),
])
ct_rate_train_pipeline = [
    ct_rate_preprocess,
    dict(type='MedRandomCrop', size=(32, 128, 128)),
    dict(type='ParseReport', allow_empty=True),  # a row may have no findings
    dict(type='PackMedInputs'),
]
ct_rate_test_pipeline = [
    ct_rate_preprocess,
    dict(type='CenterCropOrPad', size=(32, 128, 128)),
    dict(type='ParseReport', allow_empty=True),  # a row may have no findings
    dict(type='PackMedInputs'),
]
# CT-CLIP trains on the findings alone; 'impression' or 'both' are the alternatives
ct_rate_text = 'findings'
