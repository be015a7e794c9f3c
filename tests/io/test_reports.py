"""Report text: section splitting, cleaning, composing and the IU X-ray XML parser."""
from __future__ import annotations

import csv
import tarfile

import pytest

from unimedi.io.reports import clean_report_text, compose_report, parse_iu_xml, split_sections

MIMIC_REPORT = """                                 FINAL REPORT
 EXAMINATION:  CHEST (PA AND LAT)

 INDICATION:  ___F with new onset ascites  // eval for infection

 COMPARISON:  None.

 FINDINGS:
 There is no focal consolidation, pleural effusion or pneumothorax.  Bilateral
 nodular opacities that most likely represent nipple shadows. The
 cardiomediastinal silhouette is normal.

 IMPRESSION:
 No acute cardiopulmonary process.
"""


# ---- split_sections ---------------------------------------------------------------------
def test_split_mimic_style_report():
    sections = split_sections(MIMIC_REPORT)
    assert set(sections) == {'examination', 'indication', 'comparison', 'findings',
                             'impression'}
    # the "FINAL REPORT" title line is dropped, so there is no preamble
    assert 'preamble' not in sections
    assert sections['examination'] == 'CHEST (PA AND LAT)'
    assert sections['indication'].startswith('___F with new onset ascites')
    assert sections['comparison'] == 'None.'
    assert sections['findings'].startswith('There is no focal consolidation')
    assert sections['findings'].endswith('cardiomediastinal silhouette is normal.')
    assert 'IMPRESSION' not in sections['findings']
    assert sections['impression'] == 'No acute cardiopulmonary process.'


def test_split_inline_headers():
    sections = split_sections('Findings: Lungs are clear. No effusion. Impression: Normal chest.')
    assert sections == {'findings': 'Lungs are clear. No effusion.',
                        'impression': 'Normal chest.'}


def test_split_inline_lower_case_header_after_sentence_is_prose():
    # only capitalised headers count after a sentence end
    sections = split_sections('Lungs clear. impression: normal')
    assert sections == {'findings': 'Lungs clear. impression: normal'}


def test_split_combined_findings_and_impression():
    sections = split_sections('FINDINGS AND IMPRESSION: Lungs are clear. No effusion.')
    assert sections == {'findings': 'Lungs are clear. No effusion.'}
    # spread across a line break too, and not read as a plain "FINDINGS" header
    sections = split_sections('FINDINGS AND\nIMPRESSION: Heart normal.')
    assert sections == {'findings': 'Heart normal.'}
    assert split_sections('FINDINGS/IMPRESSION: ok.') == {'findings': 'ok.'}


def test_split_repeated_section_is_joined():
    assert split_sections('FINDINGS: one.\nFINDINGS: two.') == {'findings': 'one. two.'}


def test_split_report_without_headers_is_findings():
    text = '  The lungs are clear.\nHeart size is normal.  '
    assert split_sections(text) == {'findings': 'The lungs are clear.\nHeart size is normal.'}


@pytest.mark.parametrize('text', ['', '   \n\t '])
def test_split_empty_report(text):
    assert split_sections(text) == {}


def test_no_acute_findings_prose_is_not_a_header():
    text = 'No acute findings: lungs are clear.'
    assert split_sections(text) == {'findings': text}
    # with a real header after it, the prose is the preamble and the findings
    sections = split_sections('No acute findings:\nthe lungs are clear.\nIMPRESSION: Normal.')
    assert sections['findings'] == 'No acute findings:\nthe lungs are clear.'
    assert sections['preamble'] == sections['findings']
    assert sections['impression'] == 'Normal.'


def test_text_before_first_header_without_findings_header_becomes_findings():
    sections = split_sections('Heart normal.\nIMPRESSION: fine')
    assert sections['findings'] == 'Heart normal.'
    assert sections['impression'] == 'fine'
    # ...but not when there is a findings section of its own
    sections = split_sections('Patient ID 7.\nFINDINGS: clear.\nIMPRESSION: fine')
    assert sections['preamble'] == 'Patient ID 7.'
    assert sections['findings'] == 'clear.'


def test_other_sections_map_to_canonical_names():
    sections = split_sections('CLINICAL HISTORY: cough.\nTECHNIQUE: PA view.\n'
                              'CONCLUSION: normal.\nRECOMMENDATION: none.')
    assert sections == {'history': 'cough.', 'technique': 'PA view.', 'impression': 'normal.',
                        'notification': 'none.'}
    # no findings header and no preamble: nothing invented for findings
    assert 'findings' not in sections


# ---- clean_report_text / compose_report -------------------------------------------------
def test_clean_collapses_xxxx_runs():
    text = 'There are no XXXX XXXX of a  pleural\n effusion. Inferior XXXX XXXX XXXX.'
    assert clean_report_text(text) == ('There are no XXXX of a pleural effusion. '
                                       'Inferior XXXX.')


def test_clean_collapses_underscore_runs():
    assert clean_report_text('___ ___ M with ___, ___ pain') == 'XXXX M with XXXX pain'
    assert clean_report_text('Dr. ___ was called', anonymisation_token='[ANON]') == \
        'Dr. [ANON] was called'


def test_clean_keeps_words_and_single_marks():
    # words containing X and a single underscore are not de-identification marks
    assert clean_report_text('XXL snake_case x-ray') == 'XXL snake_case x-ray'
    assert clean_report_text('Normal chest x-XXXX.') == 'Normal chest x-XXXX.'
    assert clean_report_text('  a \n\n b\t') == 'a b'


def test_compose_report_keeps_findings_then_impression():
    sections = split_sections(MIMIC_REPORT)
    text = compose_report(sections)
    assert text.startswith('There is no focal consolidation, pleural effusion or pneumothorax. '
                           'Bilateral nodular')
    assert text.endswith('silhouette is normal. No acute cardiopulmonary process.')
    assert 'ascites' not in text and 'CHEST (PA AND LAT)' not in text
    assert '\n' not in text and '  ' not in text


def test_compose_report_headers_order_and_empty():
    sections = {'findings': 'Lungs ___ clear.', 'impression': 'Normal.', 'indication': 'Cough'}
    assert compose_report(sections, with_headers=True) == \
        'FINDINGS: Lungs XXXX clear. IMPRESSION: Normal.'
    assert compose_report(sections, keep=('impression', 'indication')) == 'Normal. Cough'
    assert compose_report(sections, anonymisation_token='<unk>') == 'Lungs <unk> clear. Normal.'
    assert compose_report({}) == ''
    assert compose_report({'findings': '  ', 'impression': ''}) == ''
    assert compose_report({'indication': 'Cough'}) == ''


# ---- IU X-ray XML --------------------------------------------------------------------------
@pytest.fixture(scope='module')
def iu_members(shared_data):
    """``{member name: xml bytes}`` of the real IU report archive."""
    with tarfile.open(shared_data / 'reports' / 'NLMCXR_reports.tgz', 'r:*') as archive:
        return {m.name: archive.extractfile(m).read()
                for m in archive.getmembers() if m.isfile() and m.name.endswith('.xml')}


def test_parse_iu_xml_first_report(iu_members):
    report = parse_iu_xml(iu_members['ecgen-radiology/1.xml'], 'ecgen-radiology/1.xml')
    assert report['report_id'] == '1'
    assert report['comparison'] == 'None.'
    assert report['indication'] == 'Positive TB test'
    assert report['findings'].startswith('The cardiac silhouette and mediastinum size')
    assert 'There are no XXXX of a pleural effusion.' in report['findings']
    assert report['impression'] == 'Normal chest x-XXXX.'
    assert report['image_ids'] == ['CXR1_1_IM-0001-3001', 'CXR1_1_IM-0001-4001']
    assert report['mesh_major'] == ['normal']
    # the parser also takes text
    assert parse_iu_xml(iu_members['ecgen-radiology/1.xml'].decode('utf-8')) == report


def test_parse_iu_xml_matches_flattened_csv(iu_members, shared_data):
    """Every XML of the archive parses, and agrees with the independently flattened CSV."""
    with open(shared_data / 'reports' / 'iu_reports.csv', encoding='utf-8', newline='') as f:
        rows = {row['report_id']: row for row in csv.DictReader(f)}
    assert len(iu_members) == 3955
    with_text = 0
    for name, xml in iu_members.items():
        report = parse_iu_xml(xml, name)
        assert report['report_id'] == name.rsplit('/', 1)[1][:-len('.xml')]
        row = rows[report['report_id']]
        for key in ('comparison', 'indication', 'findings', 'impression'):
            assert report[key] == row[key], (name, key)
        assert report['image_ids'] == [i for i in row['images'].split(';') if i], name
        # the CSV keeps stray spaces of the XML text; the parser strips them
        assert report['mesh_major'] == [m.strip() for m in row['mesh_major'].split(';')
                                        if m.strip()], name
        with_text += bool(report['findings'] or report['impression'])
    assert with_text == 3927


def test_parse_iu_report_with_missing_section(iu_members):
    report = parse_iu_xml(iu_members['ecgen-radiology/3.xml'], '3.xml')
    assert report['findings'] == ''
    assert report['impression'].startswith('No displaced rib fractures')


def test_parse_iu_xml_malformed_names_file(iu_members):
    truncated = iu_members['ecgen-radiology/1.xml'][:500]
    with pytest.raises(ValueError, match=r'ecgen-radiology/1\.xml: malformed report XML'):
        parse_iu_xml(truncated, 'ecgen-radiology/1.xml')
    with pytest.raises(ValueError, match='broken.xml'):
        parse_iu_xml('<eCitation><AbstractText Label="FINDINGS">x</eCitation>', 'broken.xml')


def test_parse_iu_xml_not_an_iu_report():
    with pytest.raises(ValueError, match=r'other\.xml: no <AbstractText'):
        parse_iu_xml('<root><p>hello</p></root>', 'other.xml')


def test_parse_iu_xml_without_id_uses_name():
    report = parse_iu_xml('<r><AbstractText Label="IMPRESSION">Normal.</AbstractText>'
                          '<parentImage id="A1"/><parentImage/></r>', 'noid.xml')
    assert report['report_id'] == 'noid.xml'
    assert report['impression'] == 'Normal.'
    assert report['findings'] == '' and report['comparison'] == ''
    assert report['image_ids'] == ['A1']
    assert report['mesh_major'] == []
