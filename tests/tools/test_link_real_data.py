"""tools/data/link_real_data.sh: links the real files under data/, copies nothing."""
import subprocess
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / 'tools' / 'data' / 'link_real_data.sh'


def _run(*args):
    return subprocess.run(['bash', str(SCRIPT), *map(str, args)], capture_output=True,
                          text=True, timeout=60)


def test_links_the_folders_present_and_keeps_real_folders(tmp_path):
    source, dest = tmp_path / 'shared', tmp_path / 'data'
    for name in ('ct', 'dicom', 'other'):
        (source / name).mkdir(parents=True)
    (source / 'ct' / 'a.nii.gz').write_bytes(b'x')
    (dest / 'dicom').mkdir(parents=True)  # a real folder of the user's: never replaced
    result = _run(source, dest)
    assert result.returncode == 0, result.stderr
    assert (dest / 'ct').is_symlink() and (dest / 'ct').resolve() == (source / 'ct').resolve()
    assert (dest / 'ct' / 'a.nii.gz').read_bytes() == b'x'
    assert not (dest / 'dicom').is_symlink() and 'left alone' in result.stderr
    assert not (dest / 'other').exists() and not (dest / 'reports').exists()
    # re-running replaces its own links
    assert _run(source, dest).returncode == 0 and (dest / 'ct').is_symlink()


def test_missing_source_is_an_error(tmp_path):
    result = _run(tmp_path / 'absent', tmp_path / 'data')
    assert result.returncode == 1 and 'no folder' in result.stderr
