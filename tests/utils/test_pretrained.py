"""Where weights come from: local paths, shipped packages, the local Hugging Face cache."""
import pytest

from unimedi.utils.pretrained import resolve_pretrained_path


def _fake_hub_cache(root, model_id: str) -> str:
    """The layout huggingface_hub keeps: models--org--name/{refs/main, snapshots/<hash>/}."""
    repo = root / ('models--' + model_id.replace('/', '--'))
    snapshot = repo / 'snapshots' / 'abc123'
    snapshot.mkdir(parents=True)
    (snapshot / 'config.json').write_text('{}')
    (repo / 'refs').mkdir()
    (repo / 'refs' / 'main').write_text('abc123')
    return str(snapshot)


def test_a_model_id_resolves_from_the_local_cache_only(tmp_path, monkeypatch):
    cache = tmp_path / 'hub'
    snapshot = _fake_hub_cache(cache, 'someone/tiny-bert')
    monkeypatch.setenv('HF_HUB_CACHE', str(cache))
    monkeypatch.setenv('HF_HUB_OFFLINE', '1')
    assert resolve_pretrained_path('someone/tiny-bert', 'text encoder') == snapshot
    with pytest.raises(FileNotFoundError, match=r"no Hugging Face model 'someone/other' is in the "
                       r'local hub cache .*never downloads'):
        resolve_pretrained_path('someone/other', 'text encoder')


def test_a_local_path_wins_and_a_missing_one_is_named(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / 'someone' / 'tiny-bert').mkdir(parents=True)
    assert resolve_pretrained_path('someone/tiny-bert') == 'someone/tiny-bert'
    with pytest.raises(FileNotFoundError, match='does not exist. unimedi never downloads'):
        resolve_pretrained_path(str(tmp_path / 'missing'))


def test_a_missing_weights_file_is_not_taken_for_a_model_id(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(FileNotFoundError, match='does not exist. unimedi never downloads'):
        resolve_pretrained_path('checkpoints/deit_base_patch16_224.safetensors')
