"""Model folders: export an encoder or a whole UniMedI model, read them back."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from mmengine.config import Config
from PIL import Image

from unimedi.apis import UniMedIInferencer, export_encoder, export_model, init_model
from unimedi.models.encoders import UnifiedViT
from unimedi.models.encoders.checkpoint_loading import load_encoder_checkpoint
from repo_scripts import TINY_UNIMEDI_CONFIG, load_script


@pytest.fixture(scope='module')
def run(tmp_path_factory) -> dict:
    """A tiny UniMedI checkpoint as the runner writes it (its config in the meta), with a
    metrics.json beside it."""
    root = tmp_path_factory.mktemp('export')
    (root / 'tiny.py').write_text(TINY_UNIMEDI_CONFIG)
    torch.manual_seed(0)
    model = init_model(root / 'tiny.py')
    with torch.no_grad():  # a teacher that differs from the student
        for parameter in model.teacher.parameters():
            parameter.add_(0.01)
    cfg = Config.fromfile(str(root / 'tiny.py'))
    torch.save(dict(meta=dict(iter=7, cfg=cfg.pretty_text), state_dict=model.state_dict()),
               root / 'iter_7.pth')
    (root / 'metrics.json').write_text(json.dumps({'retrieval/i2t_R@10': 0.5, 'zs/auc': 0.75}))
    image = np.random.default_rng(0).integers(0, 255, (64, 64), dtype=np.uint8)
    Image.fromarray(image).save(root / 'xray.png')
    return dict(root=root, model=model, checkpoint=str(root / 'iter_7.pth'))


@pytest.mark.parametrize('teacher', [False, True])
def test_encoder_folder_round_trip(run, tmp_path, teacher):
    folder = export_encoder(run['checkpoint'], str(tmp_path / 'enc'), teacher=teacher)
    names = sorted(p.name for p in Path(folder).iterdir())
    assert names == ['README.md', 'config.json', 'metrics.json', 'model.safetensors']
    info = json.loads((Path(folder) / 'config.json').read_text())
    assert info['format'] == 'unimedi' and info['kind'] == 'encoder' and info['iteration'] == 7
    encoder = UnifiedViT.from_pretrained(folder)
    source = run['model'].teacher['encoder'] if teacher else run['model'].vision_encoder
    for key, value in source.state_dict().items():
        torch.testing.assert_close(encoder.state_dict()[key], value, msg=key)
    again = UnifiedViT(**{k: v for k, v in info['encoder'].items() if k != 'type'})
    load_encoder_checkpoint(again, folder)  # wherever a model takes pretrained
    torch.testing.assert_close(again.cls_token, source.cls_token)
    card = (Path(folder) / 'README.md').read_text()
    assert 'UnifiedViT.from_pretrained' in card and '| zs/auc | 0.7500 |' in card
    assert 'ImageReportDataset' in card and '## Training config' in card


def test_whole_model_folder_gives_the_same_embeddings(run, tmp_path):
    folder = export_model(run['checkpoint'], str(tmp_path / 'model'))
    assert (Path(folder) / 'text_encoder' / 'config.json').is_file()
    original = UniMedIInferencer(run['model'], cfg=Config.fromfile(str(run['root'] / 'tiny.py')))
    loaded = UniMedIInferencer.from_pretrained(folder)
    # the checkpoint keeps its config as MMEngine's pretty text, which sorts dict keys
    assert sorted(loaded.zero_shot_classes) == sorted(original.zero_shot_classes)
    image = [str(run['root'] / 'xray.png')]
    torch.testing.assert_close(loaded.embed_images(image), original.embed_images(image))
    reports = ['There is a pulmonary nodule.', 'The lungs are clear.']
    torch.testing.assert_close(loaded.embed_reports(reports), original.embed_reports(reports))
    encoder = UnifiedViT.from_pretrained(folder)  # the encoder of a whole-model folder
    torch.testing.assert_close(encoder.cls_token, run['model'].vision_encoder.cls_token)
    with pytest.raises(ValueError, match='an encoder folder'):
        UniMedIInferencer.from_pretrained(export_encoder(run['checkpoint'],
                                                         str(tmp_path / 'enc')))


def test_export_tool_writes_a_folder_a_file_and_clear_errors(run, tmp_path, capsys):
    tool = load_script('tools/misc/export_encoder.py')
    assert tool.main([run['checkpoint'], str(tmp_path / 'folder')]) == 0
    assert (tmp_path / 'folder' / 'model.safetensors').is_file()
    assert tool.main([run['checkpoint'], str(tmp_path / 'enc.safetensors'), '--teacher']) == 0
    assert '(teacher.encoder.*)' in capsys.readouterr().out
    bare = tmp_path / 'bare.pth'
    torch.save(dict(state_dict=run['model'].state_dict()), bare)  # no config in the meta
    assert tool.main([str(bare), str(tmp_path / 'x')]) == 2
    assert 'keeps no config' in capsys.readouterr().err
    with pytest.raises(FileNotFoundError, match='not a unimedi model folder|not found'):
        UnifiedViT.from_pretrained(str(tmp_path / 'nowhere'))


def test_teacher_with_whole_model_is_an_error(run, tmp_path, capsys):
    tool = load_script('tools/misc/export_encoder.py')
    assert tool.main([run['checkpoint'], str(tmp_path / 'm'), '--whole-model', '--teacher']) == 2
    assert '--teacher exports an encoder' in capsys.readouterr().err
