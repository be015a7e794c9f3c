"""Radiology report text: section splitting, cleaning, and the IU X-ray XML format.

Reports arrive as free text with section headers ("FINDINGS:", "IMPRESSION:" in MIMIC-CXR
style, "Conclusion:" elsewhere) or as Indiana University XML with
``<AbstractText Label="FINDINGS">``. The model sees findings + impression.
"""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET

# Canonical section -> header spellings (matched case-insensitively at a line start, or
# in upper case after a sentence end). Longer spellings first so that
# "FINDINGS AND IMPRESSION" is not read as "FINDINGS".
SECTION_HEADERS: dict[str, tuple[str, ...]] = {
    'findings_impression': ('FINDINGS AND IMPRESSION', 'FINDINGS/IMPRESSION',
                            'IMPRESSION AND FINDINGS'),
    'findings': ('FINDINGS', 'FINDING', 'REPORT'),
    'impression': ('IMPRESSIONS', 'IMPRESSION', 'CONCLUSIONS', 'CONCLUSION', 'OPINION',
                   'SUMMARY'),
    'indication': ('CLINICAL INDICATION', 'INDICATIONS', 'INDICATION', 'REASON FOR EXAMINATION',
                   'REASON FOR EXAM', 'REASON FOR STUDY'),
    'history': ('CLINICAL HISTORY', 'CLINICAL INFORMATION', 'HISTORY'),
    'comparison': ('COMPARISONS', 'COMPARISON'),
    'technique': ('TECHNIQUE', 'PROCEDURE'),
    'examination': ('EXAMINATION', 'EXAM', 'TYPE OF EXAMINATION'),
    'notification': ('NOTIFICATION', 'WET READ', 'RECOMMENDATIONS', 'RECOMMENDATION',
                     'ADDENDUM'),
}
_SPELLING_TO_SECTION = {spelling: section for section, spellings in SECTION_HEADERS.items()
                        for spelling in spellings}
_SPELLINGS = sorted(_SPELLING_TO_SECTION, key=len, reverse=True)
_ALTERNATION = '|'.join(re.escape(s).replace(r'\ ', r'\s+') for s in _SPELLINGS)
# A header: at a line start (any case), or capitalised after a sentence end / text start.
_HEADER_AT_LINE_START = re.compile(rf'(?im)^[ \t]*(?P<header>{_ALTERNATION})[ \t]*:')
_HEADER_INLINE = re.compile(rf'(?i)(?:(?<=[.;!?])|^)\s*(?P<header>{_ALTERNATION})\s*:')
# De-identification marks: IU uses "XXXX", MIMIC-CXR uses "___".
_TITLE_LINES = re.compile(r'(?i)\b(?:FINAL|PRELIMINARY|WET READ)\s+REPORT\b')
_ANONYMISATION = re.compile(r'(?:\bX{2,}\b|_{2,})(?:[\s,]*(?:\bX{2,}\b|_{2,}))*')


def split_sections(text: str) -> dict[str, str]:
    """Split a report into its sections.

    Args:
        text: the raw report.

    Returns:
        dict mapping canonical section names (``findings``, ``impression``, ``indication``,
        ``history``, ``comparison``, ``technique``, ``examination``, ``notification``) to
        their raw text. A combined "FINDINGS AND IMPRESSION" section goes to ``findings``.
        Text before the first header goes to ``preamble`` (title lines such as "FINAL
        REPORT" dropped), and also to ``findings`` when the report has no findings header;
        a report without any header is returned whole as ``findings``.
    """
    matches = {m.start('header'): m for m in _HEADER_AT_LINE_START.finditer(text)}
    for m in _HEADER_INLINE.finditer(text):
        if m.group('header')[0].isupper() and m.start('header') not in matches:
            matches[m.start('header')] = m
    if not matches:
        return {'findings': text.strip()} if text.strip() else {}
    ordered = [matches[k] for k in sorted(matches)]
    sections: dict[str, str] = {}
    preamble = _TITLE_LINES.sub('', text[:ordered[0].start('header')]).strip()
    if preamble:
        sections['preamble'] = preamble
    for i, match in enumerate(ordered):
        end = ordered[i + 1].start('header') if i + 1 < len(ordered) else len(text)
        header = re.sub(r'\s+', ' ', match.group('header').upper())
        section = _SPELLING_TO_SECTION[header]
        if section == 'findings_impression':
            section = 'findings'
        body = text[match.end():end].strip()
        if body:
            sections[section] = f'{sections[section]} {body}' if section in sections else body
    if preamble and 'findings' not in sections:
        sections['findings'] = preamble
    return sections


def clean_report_text(text: str, anonymisation_token: str = 'XXXX') -> str:
    """Normalise whitespace and de-identification marks.

    Runs of "XXXX" / "___" become one ``anonymisation_token``, so they neither vanish (the
    sentence keeps its shape) nor flood the tokenizer. Whitespace collapses to one space.
    """
    text = _ANONYMISATION.sub(anonymisation_token, text)
    return re.sub(r'\s+', ' ', text).strip()


def compose_report(sections: dict[str, str], keep: tuple[str, ...] = ('findings', 'impression'),
                   anonymisation_token: str = 'XXXX', with_headers: bool = False) -> str:
    """Join the ``keep`` sections of a split report into one cleaned text.

    Args:
        sections: output of :func:`split_sections`.
        keep: section names in the order to join.
        anonymisation_token: replacement for de-identification marks.
        with_headers: prefix each section with ``"FINDINGS: "`` etc.

    Returns:
        the cleaned text (``''`` when no kept section has content).
    """
    parts = []
    for name in keep:
        body = clean_report_text(sections.get(name, ''), anonymisation_token)
        if body:
            parts.append(f'{name.upper()}: {body}' if with_headers else body)
    return ' '.join(parts)


def parse_iu_xml(source: str | bytes, name: str = '<xml>') -> dict:
    """Parse one Indiana University (Open-i) chest X-ray report XML.

    Args:
        source: the XML text or bytes.
        name: file name used in error messages.

    Returns:
        dict with ``report_id`` (str), ``comparison``, ``indication``, ``findings``,
        ``impression`` (str, ``''`` when absent), ``image_ids`` (list[str]) and
        ``mesh_major`` (list[str]).

    Raises:
        ValueError: the XML is malformed or is not an IU report (names ``name``).
    """
    try:
        root = ET.fromstring(source)
    except ET.ParseError as exc:
        raise ValueError(f'{name}: malformed report XML ({exc})') from exc
    texts = {str(node.get('Label', '')).lower(): (node.text or '').strip()
             for node in root.iter('AbstractText')}
    if not texts:
        raise ValueError(f'{name}: no <AbstractText Label=...> sections; not an IU report XML')
    id_node = root.find('IUXRId')
    report_id = id_node.get('id') if id_node is not None else name
    return dict(
        report_id=str(report_id),
        comparison=texts.get('comparison', ''),
        indication=texts.get('indication', ''),
        findings=texts.get('findings', ''),
        impression=texts.get('impression', ''),
        image_ids=[node.get('id') for node in root.iter('parentImage') if node.get('id')],
        mesh_major=[(node.text or '').strip() for node in root.iter('major')],
    )
