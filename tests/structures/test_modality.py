"""The modality vocabulary and its check."""
import pytest

from unimedi.structures import MODALITIES, check_modality


def test_vocabulary():
    assert MODALITIES == ('2d', '3d')
    assert [check_modality(m) for m in MODALITIES] == ['2d', '3d']
    assert check_modality(None, optional=True) is None


@pytest.mark.parametrize('value', ['2D', 'ct', '', None, 3])
def test_bad_values_raise_with_their_context(value):
    with pytest.raises(ValueError, match=r"scan\.nii: modality must be one of \('2d', '3d'\), got"):
        check_modality(value, where='scan.nii')


def test_optional_message_and_error_type():
    class ManifestError(ValueError):
        pass

    with pytest.raises(KeyError, match=r"modality must be one of \('2d', '3d'\) or None"):
        check_modality('xray', optional=True, error=KeyError)
    with pytest.raises(ManifestError, match=r'^m\.csv:3: modality'):
        check_modality('4d', where='m.csv:3', error=ManifestError)
