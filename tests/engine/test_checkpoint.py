"""The checkpoint policy: weights-only conversion, history restore, safe weight loading."""
import pickle
from collections import OrderedDict

import numpy as np
import pytest
import torch
from mmengine.logging import HistoryBuffer, MessageHub
from safetensors.torch import save_file

from unimedi.engine import load_state_dict_file, restore_history_buffers, to_weights_only
from unimedi.engine.hooks import SafeCheckpointHook
from unimedi.registry import HOOKS


class ArbitraryObject:
    """Something ``torch.load(weights_only=True)`` must refuse to unpickle."""

    def __init__(self, value):
        self.value = value


def _buffer(values, counts=None, max_length=100) -> HistoryBuffer:
    return HistoryBuffer(values, counts or [1] * len(values), max_length)


def _assert_same_buffer(restored, original):
    assert isinstance(restored, HistoryBuffer)
    np.testing.assert_array_equal(restored.data[0], original.data[0])
    np.testing.assert_array_equal(restored.data[1], original.data[1])
    assert restored.max_length == original.max_length


def _is_plain(value) -> bool:
    """Only tensors, Python scalars, strings and plain containers."""
    if isinstance(value, dict):
        return all(_is_plain(k) and _is_plain(v) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return all(_is_plain(v) for v in value)
    return value is None or isinstance(value, (bool, int, float, str, torch.Tensor))


def test_to_weights_only_converts_numpy_and_history_buffers():
    buffer = _buffer([0.5, 0.25, 0.125], [1, 2, 1], max_length=7)
    value = OrderedDict(
        scalars=OrderedDict(loss=buffer),
        array=np.arange(6, dtype=np.float32).reshape(2, 3),
        int_scalar=np.int64(3), float_scalar=np.float32(0.5), bool_scalar=np.bool_(True),
        nested=[np.float64(1.5), (np.int32(2), 'text')],
        tensor=torch.ones(2), keep=dict(a=1, b='x', c=None))
    converted = to_weights_only(value)

    assert _is_plain(converted)
    assert isinstance(converted, OrderedDict) and list(converted) == list(value)
    assert isinstance(converted['scalars'], OrderedDict)
    assert converted['array'] == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]
    assert converted['int_scalar'] == 3 and type(converted['int_scalar']) is int
    assert converted['float_scalar'] == 0.5 and type(converted['float_scalar']) is float
    assert converted['bool_scalar'] is True
    assert converted['nested'] == [1.5, (2, 'text')]
    assert type(converted['nested'][1][0]) is int
    assert converted['tensor'] is value['tensor']
    assert converted['keep'] == dict(a=1, b='x', c=None) and type(converted['keep']) is dict
    tagged = converted['scalars']['loss']
    assert tagged['log_history'] == [0.5, 0.25, 0.125]
    assert tagged['count_history'] == [1, 2, 1]
    assert tagged['max_length'] == 7
    # the input is not modified
    assert isinstance(value['scalars']['loss'], HistoryBuffer)
    assert isinstance(value['array'], np.ndarray)


def test_round_trip_restores_history_buffers_everywhere():
    first, second, third = _buffer([1.0, 2.0]), _buffer([3.0], max_length=5), _buffer([4.0])
    value = OrderedDict(a=first, nested=dict(inner=[second, 'x']), tup=(third, 1),
                        plain=[1, 2])
    restored = restore_history_buffers(to_weights_only(value))
    assert isinstance(restored, OrderedDict)
    _assert_same_buffer(restored['a'], first)
    _assert_same_buffer(restored['nested']['inner'][0], second)
    assert restored['nested']['inner'][1] == 'x'
    _assert_same_buffer(restored['tup'][0], third)
    assert restored['tup'][1] == 1
    assert restored['plain'] == [1, 2]
    # a restored buffer works like the original one
    assert restored['a'].mean() == pytest.approx(1.5)
    assert restored['a'].current() == 2.0


def test_restore_leaves_plain_values_alone():
    value = dict(a=[1, 2], b=dict(c='d'), e=3.0)
    assert restore_history_buffers(value) == dict(a=[1, 2], b=dict(c='d'), e=3.0)
    assert restore_history_buffers(5) == 5


def test_message_hub_checkpoint_loads_weights_only_after_conversion(tmp_path):
    hub = MessageHub.get_instance('test_checkpoint_hub')
    for step, loss in enumerate([0.9, 0.7, 0.4]):
        hub.update_scalar('train/loss', loss)
        hub.update_scalar('train/lr', np.float32(0.01))
        hub.update_info('iter', np.int64(step))
    hub.update_info('dataset_meta', dict(classes=('a', 'b')))
    checkpoint = dict(meta=dict(iter=np.int64(3), seed=0), message_hub=hub.state_dict(),
                      state_dict=OrderedDict(w=torch.randn(2, 2)))

    raw = tmp_path / 'raw.pth'
    torch.save(checkpoint, raw)
    with pytest.raises(pickle.UnpicklingError):  # why the conversion is needed
        torch.load(raw, weights_only=True)

    path = tmp_path / 'safe.pth'
    torch.save(to_weights_only(checkpoint), path)
    loaded = torch.load(path, weights_only=True)
    assert loaded['meta']['iter'] == 3
    torch.testing.assert_close(loaded['state_dict']['w'], checkpoint['state_dict']['w'])

    new_hub = MessageHub.get_instance('test_checkpoint_hub_restored')
    new_hub.load_state_dict(restore_history_buffers(loaded['message_hub']))
    original = hub.log_scalars['train/loss']
    _assert_same_buffer(new_hub.log_scalars['train/loss'], original)
    assert new_hub.get_scalar('train/loss').mean() == pytest.approx(np.mean([0.9, 0.7, 0.4]))
    assert new_hub.get_info('iter') == 2
    assert list(new_hub.get_info('dataset_meta')['classes']) == ['a', 'b']


def test_safe_checkpoint_hook_converts_before_save_and_restores_after_load(tmp_path):
    hook = HOOKS.build(dict(type='SafeCheckpointHook'))
    assert isinstance(hook, SafeCheckpointHook)
    weights = OrderedDict(w=torch.randn(3))
    optimizer = dict(state={}, param_groups=[dict(lr=0.1, params=[0])])
    buffer = _buffer([0.3, 0.2])
    checkpoint = dict(meta=dict(iter=np.int64(2)), state_dict=weights, optimizer=optimizer,
                      message_hub=dict(log_scalars=OrderedDict(loss=buffer)))
    hook.before_save_checkpoint(None, checkpoint)
    assert checkpoint['state_dict'] is weights and checkpoint['optimizer'] is optimizer
    assert _is_plain(checkpoint['meta']) and _is_plain(checkpoint['message_hub'])

    path = tmp_path / 'iter_2.pth'
    torch.save(checkpoint, path)
    loaded = torch.load(path, weights_only=True)
    hook.after_load_checkpoint(None, loaded)
    _assert_same_buffer(loaded['message_hub']['log_scalars']['loss'], buffer)
    assert loaded['meta']['iter'] == 2


# load_state_dict_file -------------------------------------------------------------------


def _weights():
    return OrderedDict(weight=torch.randn(4, 3), bias=torch.arange(4.0))


def _assert_same_weights(loaded, expected):
    assert set(loaded) == set(expected)
    for key, tensor in expected.items():
        torch.testing.assert_close(loaded[key], tensor)


def test_load_safetensors(tmp_path):
    weights = _weights()
    path = tmp_path / 'model.safetensors'
    save_file(dict(weights), str(path))
    _assert_same_weights(load_state_dict_file(str(path)), weights)


@pytest.mark.parametrize('suffix', ['.pth', '.pt', '.bin'])
def test_load_plain_state_dict(tmp_path, suffix):
    weights = _weights()
    path = tmp_path / f'model{suffix}'
    torch.save(weights, path)
    _assert_same_weights(load_state_dict_file(str(path)), weights)


def test_load_runner_checkpoint_returns_its_state_dict(tmp_path):
    weights = _weights()
    path = tmp_path / 'iter_10.pth'
    torch.save(dict(meta=dict(iter=10), state_dict=weights,
                    optimizer=dict(state={}, param_groups=[])), path)
    _assert_same_weights(load_state_dict_file(str(path)), weights)


def test_refuses_arbitrary_pickled_objects(tmp_path):
    path = tmp_path / 'unsafe.pth'
    torch.save(dict(state_dict=_weights(), extra=ArbitraryObject(1)), path)
    with pytest.raises(ValueError, match='refused') as info:
        load_state_dict_file(str(path))
    assert str(path) in str(info.value)

    path = tmp_path / 'object.pth'
    torch.save(ArbitraryObject(2), path)
    with pytest.raises(ValueError) as info:
        load_state_dict_file(str(path))
    assert str(path) in str(info.value)


def test_refuses_a_file_that_is_not_a_state_dict(tmp_path):
    path = tmp_path / 'tensor.pth'
    torch.save(torch.zeros(3), path)
    with pytest.raises(ValueError, match='expected a state dict') as info:
        load_state_dict_file(str(path))
    assert str(path) in str(info.value)


def test_missing_file_raises_file_not_found(tmp_path):
    for name in ('missing.pth', 'missing.safetensors'):
        path = tmp_path / name
        with pytest.raises(FileNotFoundError, match=name):
            load_state_dict_file(str(path))


# ---------------------------------------------------------------- corrupt vs unsafe files
class _CreatesAFile:
    """Unpickling this creates ``path``: the payload of a malicious checkpoint."""

    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return open, (self.path, 'w')


def _malicious_checkpoint(tmp_path):
    marker = tmp_path / 'payload_ran'
    path = tmp_path / 'bad.pth'
    torch.save(dict(state_dict=_weights(), meta=dict(x=_CreatesAFile(marker))), path)
    return path, marker


@pytest.mark.parametrize('damage', ['truncated', 'empty', 'random bytes'])
def test_corrupt_files_are_reported_as_corrupt_not_as_unsafe(tmp_path, damage):
    from unimedi.engine.checkpoint import CorruptCheckpointError
    path = tmp_path / 'weights.pth'
    torch.save(dict(state_dict=_weights()), path)
    data = path.read_bytes()
    path.write_bytes({'truncated': data[:len(data) // 2], 'empty': b'',
                      'random bytes': np.random.default_rng(0).bytes(4096)}[damage])
    with pytest.raises(CorruptCheckpointError, match='not a readable checkpoint') as info:
        load_state_dict_file(str(path))
    message = str(info.value)
    assert str(path) in message
    assert 'weights_only=False' not in message and 'run code' not in message


def test_random_bytes_named_safetensors_name_the_file(tmp_path):
    from unimedi.engine.checkpoint import CorruptCheckpointError
    path = tmp_path / 'model.safetensors'
    path.write_bytes(np.random.default_rng(0).bytes(4096))
    with pytest.raises(CorruptCheckpointError, match='not a readable .safetensors') as info:
        load_state_dict_file(str(path))
    assert str(path) in str(info.value)


def test_unsafe_files_name_the_object_and_never_advise_unsafe_loading(tmp_path):
    from unimedi.engine.checkpoint import UnsafeCheckpointError
    path, marker = _malicious_checkpoint(tmp_path)
    with pytest.raises(UnsafeCheckpointError, match='refused to load') as info:
        load_state_dict_file(str(path))
    message = str(info.value)
    assert str(path) in message and '.open' in message  # the global it would call
    assert 'weights_only=False' not in message
    assert not marker.exists()


def _toy_runner(tmp_path, **kwargs):
    from fakes.toy_training import toy_runner
    return toy_runner(tmp_path / 'work', 1, **kwargs)


def test_every_load_path_is_weights_only_even_when_the_environment_says_otherwise(
        tmp_path, monkeypatch):
    """TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=1 turns plain torch.load into unpickling; every
    unimedi and MMEngine load path still refuses the payload."""
    from mmengine.runner.checkpoint import _load_checkpoint, load_checkpoint

    from unimedi.engine.checkpoint import UnsafeCheckpointError
    path, marker = _malicious_checkpoint(tmp_path)
    monkeypatch.setenv('TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD', '1')
    runner = _toy_runner(tmp_path)
    entry_points = {
        'load_state_dict_file': lambda: load_state_dict_file(str(path)),
        # init_cfg=dict(type='Pretrained'), mmseg backbones and the runner all use these
        'mmengine _load_checkpoint': lambda: _load_checkpoint(str(path), map_location='cpu'),
        'mmengine load_checkpoint': lambda: load_checkpoint(runner.model, str(path)),
        'load_from / tools/test.py': lambda: runner.load_checkpoint(str(path)),
        '--resume FILE': lambda: runner.resume(str(path)),
    }
    for name, load in entry_points.items():
        with pytest.raises(UnsafeCheckpointError, match='refused to load'):
            load()
        assert not marker.exists(), f'{name} ran the payload'


@pytest.mark.parametrize('url', ['https://example.org/vit.pth', 'open-mmlab://resnet50',
                                 'torchvision://resnet50'])
def test_download_schemes_are_refused(url):
    from mmengine.runner.checkpoint import _load_checkpoint
    with pytest.raises(FileNotFoundError, match='never downloaded'):
        _load_checkpoint(url, map_location='cpu')
