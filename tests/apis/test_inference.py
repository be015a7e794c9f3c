"""unimedi.apis on a tiny model built from the phantom config: real DICOM, NIfTI, DICOM series
and PNG inputs; checkpoints; skipping unreadable files; retrieval and zero-shot."""
from __future__ import annotations

import copy
import shutil
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn

from unimedi.apis import (UniMedIInferencer, inference_pipeline, init_model, list_image_files,
                          load_weights, rank_by_similarity)
from unimedi.io.readers import MedicalImageError
from repo_scripts import TINY_EMBED_DIM, TINY_UNIMEDI_CONFIG

REPO_ROOT = Path(__file__).resolve().parents[2]
REPORTS = ['There is a pulmonary nodule.', 'The lungs are clear.', 'Small pleural effusion.',
           'FINDINGS: Cardiomegaly. IMPRESSION: enlarged heart.']


def write_png(path: Path, seed: int = 0) -> str:
    pixels = np.random.default_rng(seed).integers(0, 255, (48, 40), dtype=np.uint8)
    Image.fromarray(pixels).save(path)
    return str(path)


def write_nifti(path: Path, seed: int = 0) -> str:
    hu = np.random.default_rng(seed).normal(-500, 300, (24, 20, 12)).astype(np.float32)
    nib.save(nib.Nifti1Image(hu, np.diag([1.5, 1.5, 3.0, 1.0])), str(path))
    return str(path)


@pytest.fixture(scope='module')
def workdir(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp('apis')
    (root / 'tiny.py').write_text(TINY_UNIMEDI_CONFIG)
    torch.manual_seed(0)
    model = init_model(root / 'tiny.py')
    torch.save(dict(meta=dict(iter=1), state_dict=model.state_dict()), root / 'tiny.pth')
    write_png(root / 'xray.png')
    write_nifti(root / 'ct.nii.gz')
    return root


@pytest.fixture(scope='module')
def inferencer(workdir) -> UniMedIInferencer:
    return UniMedIInferencer(workdir / 'tiny.py', workdir / 'tiny.pth')


@pytest.fixture(scope='module')
def images(workdir, shared_data) -> list:
    """PNG, 2D DICOM radiograph, NIfTI CT, single CT slice DICOM, DICOM series, PNG again."""
    return [str(workdir / 'xray.png'), str(shared_data / 'dicom' / 'RG1_UNCR.dcm'),
            str(shared_data / 'ct' / 'example_ct_sm.nii.gz'),
            str(shared_data / 'dicom' / 'CT_small.dcm'),
            str(shared_data / 'ct' / 'example_ct_dicom'), str(workdir / 'xray.png')]


@pytest.fixture(scope='module')
def encoded(inferencer, images):
    return inferencer.encode_images(images, batch_size=4, progress=False)


# images ---------------------------------------------------------------------------------


def test_embed_images_of_every_format(encoded, images):
    embeddings = encoded.embeddings
    assert embeddings.shape == (len(images), TINY_EMBED_DIM)
    assert torch.isfinite(embeddings).all()
    torch.testing.assert_close(embeddings.norm(dim=1), torch.ones(len(images)))
    # a single-file CT DICOM is one slice: a 2D image
    assert encoded.modalities == ['2d', '2d', '3d', '2d', '3d', '2d']
    assert encoded.paths == images and encoded.indices == list(range(6))
    assert encoded.skipped == []
    # the same file twice gives the same vector; different images differ
    torch.testing.assert_close(embeddings[0], embeddings[5])
    assert (embeddings[:5] @ embeddings[:5].t()).triu(1).max() < 0.9999


def test_batch_size_and_order_do_not_change_embeddings(inferencer, encoded, images):
    keep = [0, 2, 3, 5]  # the large radiograph and the series folder only cost time here
    reversed_one_by_one = inferencer.embed_images([images[i] for i in keep[::-1]],
                                                  batch_size=1, progress=False)
    torch.testing.assert_close(reversed_one_by_one, encoded.embeddings[keep[::-1]], atol=1e-5,
                               rtol=1e-4)


def test_image_argument_errors(inferencer, workdir):
    nifti = str(workdir / 'ct.nii.gz')
    with pytest.raises(MedicalImageError, match=r'ct\.nii\.gz.*expected a 2d image'):
        inferencer.embed_images([nifti], modality='2d', progress=False)
    with pytest.raises(ValueError, match='modality must be'):
        inferencer.embed_images([nifti], modality='4d')
    with pytest.raises(TypeError, match='list of paths'):
        inferencer.embed_images(nifti)
    with pytest.raises(ValueError, match='batch_size'):
        inferencer.embed_images([nifti], batch_size=0)
    with pytest.raises(ValueError, match='on_error'):
        inferencer.encode_images([nifti], on_error='ignore')
    assert inferencer.embed_images([]).shape == (0, TINY_EMBED_DIM)


def test_unreadable_files_raise_or_are_skipped(inferencer, workdir, tmp_path):
    png = str(workdir / 'xray.png')
    broken = tmp_path / 'broken.png'
    broken.write_bytes(b'not a png at all')
    missing = str(tmp_path / 'missing.nii.gz')
    with pytest.raises(MedicalImageError, match=r'broken\.png'):
        inferencer.embed_images([png, str(broken)], progress=False)
    result = inferencer.encode_images([str(broken), png, missing], on_error='skip',
                                      progress=False)
    assert result.paths == [png] and result.indices == [1] and result.modalities == ['2d']
    assert [(s.index, s.path) for s in result.skipped] == [(0, str(broken)), (2, missing)]
    assert 'corrupt' in result.skipped[0].reason and 'not found' in result.skipped[1].reason
    torch.testing.assert_close(result.embeddings, inferencer.embed_images([png]))


# checkpoints ----------------------------------------------------------------------------


def test_checkpoint_round_trip_gives_identical_embeddings(workdir, inferencer):
    torch.manual_seed(1)
    source = init_model(workdir / 'tiny.py')
    checkpoint = workdir / 'round_trip.pth'
    torch.save(source.state_dict(), checkpoint)  # a plain state dict this time
    loaded = init_model(workdir / 'tiny.py', checkpoint)
    assert not loaded.training and loaded.cfg.model.embed_dim == TINY_EMBED_DIM
    inputs = [str(workdir / 'xray.png'), str(workdir / 'ct.nii.gz')]
    expected = UniMedIInferencer(source).embed_images(inputs, progress=False)
    assert torch.equal(UniMedIInferencer(loaded).embed_images(inputs, progress=False), expected)
    # the runner-style checkpoint of the fixture holds other weights
    assert not torch.allclose(inferencer.embed_images(inputs, progress=False), expected)


def test_checkpoint_key_mismatches_are_named(workdir, inferencer, tmp_path):
    state = torch.load(workdir / 'tiny.pth', weights_only=True)['state_dict']
    missing = dict(state)
    missing.pop('image_projection.layers.weight')
    torch.save(missing, tmp_path / 'missing.pth')
    with pytest.raises(ValueError, match=r'checkpoint: image_projection\.layers\.weight'):
        init_model(workdir / 'tiny.py', tmp_path / 'missing.pth')
    model = copy.deepcopy(inferencer.model)
    with pytest.warns(UserWarning, match=r'not in the checkpoint: image_projection'):
        load_weights(model, tmp_path / 'missing.pth', strict=False)
    torch.save(dict(state, extra_head=torch.zeros(2)), tmp_path / 'extra.pth')
    with pytest.warns(UserWarning, match='not used by the model: extra_head'):
        load_weights(model, tmp_path / 'extra.pth')
    torch.save({f'module.{k}': v for k, v in state.items()}, tmp_path / 'ddp.pth')
    load_weights(model, tmp_path / 'ddp.pth')  # the DDP prefix is stripped
    torch.save(dict(state, **{'image_projection.layers.bias': torch.zeros(3)}),
               tmp_path / 'shape.pth')
    with pytest.raises(ValueError, match='do not fit the model'):
        load_weights(model, tmp_path / 'shape.pth')
    torch.save(dict(state_dict=state, unsafe=Path('x')), tmp_path / 'unsafe.pth')
    with pytest.raises(ValueError, match='refused to load'):
        load_weights(model, tmp_path / 'unsafe.pth')
    with pytest.raises(FileNotFoundError):
        load_weights(model, tmp_path / 'nowhere.pth')


def test_init_model_options(workdir):
    model = init_model(str(workdir / 'tiny.py'), cfg_options={'model.embed_dim': 16})
    assert model.cfg.model.embed_dim == 16 and not model.training
    assert UniMedIInferencer(model).embed_dim == 16
    with pytest.raises(TypeError, match='config must be'):
        init_model(dict(model=dict(type='UniMedI')))


# reports and retrieval ------------------------------------------------------------------


def test_embed_reports(inferencer):
    embeddings = inferencer.embed_reports(REPORTS, batch_size=3, progress=False)
    assert embeddings.shape == (len(REPORTS), TINY_EMBED_DIM)
    torch.testing.assert_close(embeddings.norm(dim=1), torch.ones(len(REPORTS)))
    torch.testing.assert_close(inferencer.embed_reports(REPORTS[::-1], batch_size=1),
                               embeddings.flip(0), atol=1e-5, rtol=1e-4)
    with pytest.raises(ValueError, match='report 1 is empty'):
        inferencer.embed_reports(['fine', '  '])
    with pytest.raises(ValueError, match='report 0 is empty once parsed'):
        inferencer.embed_reports(['INDICATION: cough.'])
    with pytest.raises(TypeError, match='list of reports'):
        inferencer.embed_reports('a single report')


def test_rank_reports_matches_the_similarity_matrix(inferencer, workdir):
    png = str(workdir / 'xray.png')
    similarity = (inferencer.embed_images([png]) @ inferencer.embed_reports(REPORTS).t())[0]
    ranking = inferencer.rank_reports(png, REPORTS, top_k=3, progress=False)
    assert len(ranking) == 3
    scores = [score for _, _, score in ranking]
    assert scores == sorted(scores, reverse=True)
    assert ranking[0][0] == int(similarity.argmax())
    for index, report, score in ranking:
        assert report == REPORTS[index]
        assert score == pytest.approx(similarity[index].item(), abs=1e-5)
    everything = inferencer.rank_reports(inferencer.embed_images([png])[0], REPORTS, top_k=None)
    assert [i for i, _, _ in everything[:3]] == [i for i, _, _ in ranking]
    assert len(everything) == len(REPORTS)
    with pytest.raises(ValueError, match='top_k'):
        inferencer.rank_reports(png, REPORTS, top_k=0)


def test_rank_images_matches_the_similarity_matrix(inferencer, workdir, tmp_path):
    paths = [str(workdir / 'xray.png'), str(workdir / 'ct.nii.gz'),
             write_png(tmp_path / 'other.png', seed=3)]
    similarity = inferencer.embed_images(paths) @ inferencer.embed_reports(REPORTS[:1])[0]
    ranking = inferencer.rank_images(REPORTS[0], paths, top_k=5, progress=False)
    assert [i for i, _, _ in ranking] == similarity.argsort(descending=True).tolist()
    assert [p for _, p, _ in ranking] == [paths[i] for i, _, _ in ranking]
    assert [s for _, _, s in ranking] == pytest.approx(similarity.sort(descending=True)[0]
                                                       .tolist(), abs=1e-5)


def test_rank_by_similarity_checks_its_inputs():
    queries = torch.eye(3)[:2]
    ranked = rank_by_similarity(queries, torch.eye(3), ['a', 'b', 'c'], top_k=1)
    assert ranked == [[(0, 'a', 1.0)], [(1, 'b', 1.0)]]
    with pytest.raises(ValueError, match=r'\(2, E\) for 2 items'):
        rank_by_similarity(queries, torch.eye(3), ['a', 'b'])


# zero-shot ------------------------------------------------------------------------------


def test_zero_shot_probabilities(inferencer, encoded, workdir):
    classes = list(inferencer.cfg.model.zero_shot_prompts)
    assert inferencer.zero_shot_classes == classes
    probabilities = inferencer.zero_shot(encoded.embeddings)
    assert list(probabilities) == classes
    for values in probabilities.values():
        assert values.shape == (len(encoded), ) and ((values >= 0) & (values <= 1)).all()
    from_paths = inferencer.zero_shot([str(workdir / 'xray.png')], progress=False)
    for name in classes:
        assert from_paths[name][0].item() == pytest.approx(probabilities[name][0].item(),
                                                           abs=1e-5)


def test_zero_shot_with_given_prompts_and_errors(inferencer, encoded, monkeypatch):
    prompts = {'opacity': {'positive': 'An opacity.', 'negative': ['No opacity.']}}
    probabilities = inferencer.zero_shot(encoded.embeddings, prompts=prompts)
    assert list(probabilities) == ['opacity']
    assert inferencer.model.zero_shot_prompts == inferencer.cfg.model.zero_shot_prompts
    with pytest.raises(ValueError, match="'opacity' needs non-empty negative"):
        inferencer.zero_shot(encoded.embeddings, prompts={'opacity': {'positive': ['x']}})
    monkeypatch.setattr(inferencer.model, 'zero_shot_prompts', None)
    with pytest.raises(ValueError, match='no zero-shot prompts'):
        inferencer.zero_shot(encoded.embeddings)


# pipeline and construction --------------------------------------------------------------


def test_test_pipeline_without_annotation_transforms(inferencer):
    names = [type(t).__name__ for t in inferencer.pipeline.transforms]
    assert names == ['LoadMedicalImage', 'PerModality', 'PackMedInputs']
    assert type(inferencer.report_parser).__name__ == 'ParseReport'
    pipeline = [dict(type='LoadMedicalImage'), dict(type='LoadMedicalMask'),
                dict(type='PerModality', pipelines={'3d': [dict(type='unimedi.ParseReport'),
                                                           dict(type='HUWindow')]}),
                dict(type='ParseReport'), dict(type='PackMedInputs')]
    kept = inference_pipeline(pipeline)
    assert [t['type'] for t in kept] == ['LoadMedicalImage', 'PerModality', 'PackMedInputs']
    assert kept[1]['pipelines'] == {'3d': [dict(type='HUWindow')]}
    assert len(pipeline) == 5  # the config is not modified


def test_inferencer_from_a_built_model(inferencer, encoded, workdir, monkeypatch):
    model = inferencer.model
    with pytest.raises(ValueError, match='checkpoint and cfg_options'):
        UniMedIInferencer(model, checkpoint=workdir / 'tiny.pth')
    with pytest.raises(TypeError, match='Linear has no encode_image'):
        UniMedIInferencer(nn.Linear(2, 2), pipeline=[])
    monkeypatch.delattr(model, 'cfg')
    with pytest.raises(ValueError, match='no test pipeline'):
        UniMedIInferencer(model)
    pipeline = [dict(type='LoadMedicalImage'),
                dict(type='MedResize', size=(112, 112), image_mode='area'),
                dict(type='PackMedInputs')]
    own = UniMedIInferencer(model, pipeline=pipeline)
    assert own.report_parser is None
    torch.testing.assert_close(own.embed_images([str(workdir / 'xray.png')], progress=False)[0],
                               encoded.embeddings[0])


# listing files --------------------------------------------------------------------------


def test_list_image_files(tmp_path, shared_data):
    import pydicom

    series = shared_data / 'ct' / 'example_ct_dicom'
    assert list_image_files(series) == [str(series)]
    root = tmp_path / 'inputs'
    (root / 'nested' / 'deeper').mkdir(parents=True)
    (root / 'series').mkdir()
    (root / 'single').mkdir()
    write_png(root / 'a.png')
    write_png(root / '.hidden.png')
    (root / 'notes.txt').write_text('not an image')
    write_nifti(root / 'nested' / 'ct.nii.gz')
    write_png(root / 'nested' / 'deeper' / 'b.jpg')
    ct_slice = shared_data / 'dicom' / 'CT_small.dcm'
    shutil.copy(ct_slice, root / 'series' / 'slice1.dcm')
    shutil.copy(ct_slice, root / 'series' / 'slice2')  # found by its DICOM preamble
    shutil.copy(ct_slice, root / 'single' / 'only.dcm')
    other = pydicom.dcmread(ct_slice)
    other.SeriesInstanceUID = '1.2.826.0.1.3680043.8.498.1'
    other.save_as(root / 'single' / 'other.dcm')  # two single-file series: two 2D images
    found = [Path(p).relative_to(root).as_posix() for p in list_image_files(root)]
    assert found == ['a.png', 'nested/ct.nii.gz', 'nested/deeper/b.jpg', 'series',
                     'single/only.dcm', 'single/other.dcm']
    assert list_image_files(root, recursive=False) == [str(root / 'a.png')]
    with pytest.raises(FileNotFoundError, match='not a folder'):
        list_image_files(root / 'a.png')


# explanations ---------------------------------------------------------------------------


@pytest.fixture(scope='module')
def explained(inferencer, images):
    return inferencer.explain(images, batch_size=4, progress=False)


def test_explain_maps_have_the_input_shapes(inferencer, explained, images):
    assert [e.path for e in explained] == images
    assert [e.modality for e in explained] == ['2d', '2d', '3d', '2d', '3d', '2d']
    for explanation in explained:
        # the map covers the model's input; the token attention is a distribution
        assert explanation.attention_map.shape == explanation.image.shape
        assert explanation.attention.ndim == explanation.image.ndim
        assert explanation.attention.sum() == pytest.approx(1.0, abs=1e-4)
        assert 0.0 <= explanation.attention_map.min() <= explanation.attention_map.max() <= 1.0
        assert explanation.student_mask.shape == explanation.attention.shape
        assert explanation.mask_map().shape == explanation.image.shape
    for explanation in (explained[2], explained[4]):  # NIfTI CT and DICOM series
        depth = explanation.image.shape[0]
        assert explanation.slice_scores.shape == (depth,)
        k = inferencer.model.slice_selector.num_slices(depth)
        chosen = explanation.selected_slices
        assert chosen.shape == (k,) and (np.diff(chosen) > 0).all()
        # the chosen slices are the top-scoring ones
        assert explanation.slice_scores[chosen].min() >= np.delete(
            explanation.slice_scores, chosen).max() - 1e-7
    for explanation in (explained[0], explained[1]):
        assert explanation.slice_scores is None and explanation.selected_slices is None
    np.testing.assert_array_equal(explained[0].attention, explained[5].attention)


def test_explain_equals_the_training_selection(inferencer, images):
    """The chosen slices are the selector's output on the teacher's attention, and the
    mask the student's, for the same preprocessed volume."""
    from mmengine.dataset import pseudo_collate

    model = inferencer.model
    packed = inferencer._load(0, images[2], None)
    data = model.data_preprocessor(pseudo_collate([packed]), False)
    volume = data['inputs']['3d']
    teacher = model.teacher_pass(volume, '3d')
    selected = model.slice_selector(teacher['cls_attention'], teacher['grid'], volume.shape[2])
    explanation = inferencer.explain([images[2]], progress=False)[0]
    np.testing.assert_array_equal(explanation.selected_slices, selected[0].numpy())
    np.testing.assert_array_equal(explanation.student_mask.reshape(-1),
                                  model.token_masker(teacher['cls_attention'])[0].numpy())
    np.testing.assert_allclose(explanation.image, volume[0, 0].numpy())


def test_explain_skips_unreadable_files_and_needs_a_teacher(inferencer, workdir, tmp_path):
    broken = tmp_path / 'broken.png'
    broken.write_bytes(b'not a png')
    explained = inferencer.explain([str(broken), str(workdir / 'xray.png')], on_error='skip',
                                   progress=False)
    assert [e.path for e in explained] == [str(workdir / 'xray.png')]
    with pytest.raises(MedicalImageError, match='broken.png'):
        inferencer.explain([str(broken)], progress=False)
    encoder_only = copy.copy(inferencer)
    encoder_only.model = nn.Module()
    with pytest.raises(TypeError, match='teacher_pass'):
        encoder_only.explain([str(workdir / 'xray.png')])
