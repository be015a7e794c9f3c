"""ParseReport: raw report text -> cleaned findings + impression."""
from __future__ import annotations

import pytest

from unimedi.datasets.transforms import ParseReport
from unimedi.registry import TRANSFORMS

RAW = ('EXAMINATION: Chest PA.\nINDICATION: cough.\nFINDINGS: The lungs are clear.\n'
       '  No effusion.\nIMPRESSION: Normal chest.\nRECOMMENDATION: none.')


def test_keeps_findings_and_impression_only():
    results = ParseReport()(dict(report=RAW, img_path='a.png'))
    assert results['report'] == 'The lungs are clear. No effusion. Normal chest.'
    assert results['report_sections']['indication'] == 'cough.'
    assert results['report_sections']['findings'] == 'The lungs are clear.\n  No effusion.'
    assert results['img_path'] == 'a.png'


def test_sections_and_headers_options():
    results = ParseReport(sections=('impression', 'indication'), with_headers=True)(
        dict(report=RAW))
    assert results['report'] == 'IMPRESSION: Normal chest. INDICATION: cough.'


def test_built_from_registry():
    transform = TRANSFORMS.build(dict(type='ParseReport', sections=('impression', )))
    assert isinstance(transform, ParseReport)
    assert transform(dict(report=RAW))['report'] == 'Normal chest.'


def test_presplit_findings_and_impression_win_over_report():
    results = ParseReport()(dict(findings='Heart  normal.', impression='No XXXX XXXX.',
                                 report='FINDINGS: something else'))
    assert results['report'] == 'Heart normal. No XXXX.'
    assert results['report_sections'] == {'findings': 'Heart  normal.',
                                          'impression': 'No XXXX XXXX.'}
    # only impression pre-split
    results = ParseReport()(dict(findings='', impression='Clear.', report=None))
    assert results['report'] == 'Clear.'


def test_empty_presplit_falls_back_to_report():
    results = ParseReport()(dict(findings='', impression='', report='IMPRESSION: ok'))
    assert results['report'] == 'ok'


@pytest.mark.parametrize('report', ['', '   ', 'INDICATION: cough only.'])
def test_empty_report_names_the_sample(report):
    with pytest.raises(ValueError, match=r'img_path=/data/ct_7\.nii\.gz: empty report'):
        ParseReport()(dict(report=report, img_path='/data/ct_7.nii.gz', sample_idx=3))


def test_empty_report_named_by_report_id_without_path():
    with pytest.raises(ValueError, match='report_id=42'):
        ParseReport()(dict(report='', report_id='42'))


def test_allow_empty_keeps_the_sample():
    results = ParseReport(allow_empty=True)(dict(report='INDICATION: cough.', img_path='x'))
    assert results['report'] == ''
    assert results['report_sections'] == {'indication': 'cough.'}


def test_missing_report_raises_key_error():
    with pytest.raises(KeyError, match='img_path=b.png'):
        ParseReport()(dict(img_path='b.png'))


def test_xxxx_is_harmless():
    raw = ('FINDINGS: There are no XXXX XXXX of a pleural effusion. XXXX-year-old XXXX.\n'
           'IMPRESSION: Normal chest x-XXXX.')
    text = ParseReport()(dict(report=raw))['report']
    assert text == ('There are no XXXX of a pleural effusion. XXXX-year-old XXXX. '
                    'Normal chest x-XXXX.')
    # a report of only marks is not empty: the marks stand for words
    assert ParseReport()(dict(report='FINDINGS: XXXX XXXX'))['report'] == 'XXXX'
    assert ParseReport(anonymisation_token='[UNK]')(
        dict(report='FINDINGS: ___ and XXXX'))['report'] == '[UNK] and [UNK]'
