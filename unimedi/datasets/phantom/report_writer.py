"""Radiology reports for the phantoms: FINDINGS and IMPRESSION in varied English.

The wording varies by synonyms, sentence order, hedging, measurement units and negated
findings; CT reports speak of lobes and attenuation, radiograph reports of zones and
opacities. :data:`FINDING_KEYWORDS` lists, per class, the phrases a positive mention
uses, and :func:`mentioned_findings` reads them back (negated sentences excluded) so that
reports can be checked against the labels.
"""
from __future__ import annotations

import re

import numpy as np

from unimedi.structures import check_modality
from .findings import FINDING_CLASSES, Finding

#: Phrases that name each finding class in a positive sentence (lower case).
FINDING_KEYWORDS = {
    'nodule': ('nodule', 'nodular opacity'),
    'mass': ('mass',),
    'consolidation': ('consolidation', 'airspace opacity', 'airspace disease'),
    'ground_glass_opacity': ('ground-glass', 'ground glass', 'hazy opacity'),
    'pleural_effusion': ('pleural effusion',),
    'pneumothorax': ('pneumothorax',),
    'cardiomegaly': ('cardiomegaly', 'heart is enlarged', 'enlarged cardiac silhouette',
                     'cardiac enlargement'),
}
_NEGATIONS = ('no ', 'without ', 'negative for ', 'there is no ', 'there are no ')

# Negative statements, one list per class: a report draws some of them for absent findings.
_NEGATED = {
    'nodule': ('No suspicious pulmonary nodules.', 'No discrete nodules are seen.'),
    'mass': ('No mass lesion.', 'No pulmonary mass is identified.'),
    'consolidation': ('No focal consolidation.', 'No airspace consolidation is seen.'),
    'ground_glass_opacity': ('No ground-glass opacity.',),
    'pleural_effusion': ('No pleural effusion.', 'There is no pleural effusion.'),
    'pneumothorax': ('No pneumothorax.', 'There is no pneumothorax.'),
    'cardiomegaly': ('Heart size is normal.', 'Normal cardiac size.',
                     'The cardiomediastinal silhouette is within normal limits.'),
}
_NORMAL_IMPRESSION = ('No acute cardiopulmonary abnormality.', 'Normal chest.',
                      'No acute intrathoracic process.')
_HEDGES = ('likely ', 'probably ', 'suspicious for ', 'compatible with ', 'consistent with ')


def _pick(rng: np.random.Generator, options):
    return options[int(rng.integers(len(options)))]


def _size(rng, size_mm: float) -> str:
    return f'{size_mm / 10:.1f} cm' if rng.random() < 0.4 else f'{int(size_mm)} mm'


def _zone(lobe: str) -> str:
    """Radiographs see zones, not lobes."""
    side, level = lobe.split()[:2]
    return f'{side} {dict(upper="upper", middle="mid", lower="lower")[level]} zone'


def _sentence(rng, finding: Finding, modality: str) -> str:
    ct = modality == '3d'
    kind = finding.kind
    where = finding.lobe if ct else (_zone(finding.lobe) if finding.lobe else '')
    if kind == 'nodule':
        noun = f'{finding.density} nodule' if ct else _pick(rng, ('nodule', 'nodular opacity'))
        return _pick(rng, (
            f'There is a {_size(rng, finding.size_mm)} {noun} in the {where}.',
            f'A {noun} measuring {_size(rng, finding.size_mm)} is seen in the {where}.',
            f'{where.capitalize()} {noun}, {_size(rng, finding.size_mm)}.'))
    if kind == 'mass':
        return _pick(rng, (
            f'There is a {_size(rng, finding.size_mm)} mass in the {where}, '
            f'{_pick(rng, ("suspicious for malignancy", "concerning for neoplasm"))}.',
            f'A lobulated mass measuring {_size(rng, finding.size_mm)} occupies the {where}.'))
    if kind == 'consolidation':
        noun = 'consolidation' if ct else _pick(rng, ('airspace opacity', 'consolidation'))
        return _pick(rng, (
            f'{noun.capitalize()} in the {where}, {_pick(rng, _HEDGES)}pneumonia.',
            f'There is {noun} of the {where}' +
            (' with air bronchograms.' if ct and rng.random() < 0.5 else '.'),
            f'Patchy {noun} is present in the {where}.'))
    if kind == 'ground_glass_opacity':
        noun = _pick(rng, ('ground-glass opacity', 'ground glass opacity')) if ct else \
            'hazy opacity'
        extent = _pick(rng, ("faint ", "patchy ", ""))
        return _pick(rng, (f'{noun.capitalize()} in the {where}.',
                           f'There is {extent}{noun} in the {where}.'))
    if kind == 'pleural_effusion':
        if not ct and finding.amount == 'small' and rng.random() < 0.5:
            return (f'Blunting of the {finding.side} costophrenic angle, consistent with a '
                    'small pleural effusion.')
        return _pick(rng, (f'{finding.amount.capitalize()} {finding.side} pleural effusion.',
                           f'There is a {finding.amount} {finding.side}-sided pleural effusion.'))
    if kind == 'pneumothorax':
        return _pick(rng, (f'{finding.amount.capitalize()} {finding.side} pneumothorax.',
                           f'There is a {finding.amount} {finding.side}-sided pneumothorax.'))
    if kind == 'cardiomegaly':
        return _pick(rng, ('The heart is enlarged.', 'Cardiomegaly.',
                           'Enlarged cardiac silhouette.' if not ct else
                           'Cardiomegaly without pericardial effusion.',
                           f'{_pick(rng, ("Mild", "Moderate"))} cardiac enlargement.'))
    raise ValueError(f'unknown finding kind {kind!r}')


def _impression(rng, finding: Finding, modality: str) -> str:
    names = dict(nodule='pulmonary nodule', mass='pulmonary mass', consolidation='consolidation',
                 ground_glass_opacity='ground-glass opacity' if modality == '3d' else
                 'hazy opacity', pleural_effusion='pleural effusion',
                 pneumothorax='pneumothorax', cardiomegaly='cardiomegaly')
    name = names[finding.kind]
    if finding.side and finding.kind not in ('cardiomegaly', ):
        name = f'{finding.side} {name}' if rng.random() < 0.6 else name
    return name


def write_report(findings: list[Finding], modality: str, rng: np.random.Generator) -> str:
    """A report with FINDINGS and IMPRESSION sections for the given findings.

    Args:
        findings: the placed findings (empty for a normal case).
        modality: ``'3d'`` (CT wording) or ``'2d'`` (radiograph wording).
        rng: random generator for the wording.
    """
    check_modality(modality)
    positives = [_sentence(rng, f, modality) for f in findings]
    present = {f.kind for f in findings}
    absent = [k for k in FINDING_CLASSES if k not in present]
    negatives = [_pick(rng, _NEGATED[k]) for k in absent if rng.random() < 0.5]
    sentences = positives + negatives
    order = rng.permutation(len(sentences))
    body = ' '.join(sentences[i] for i in order)
    if not findings:
        body = (body + ' The lungs are clear.').strip()
    if findings:
        parts = [_impression(rng, f, modality) for f in findings]
        impression = (', '.join(parts[:-1]) + ' and ' + parts[-1] if len(parts) > 1
                      else parts[0]).capitalize() + '.'
    else:
        impression = _pick(rng, _NORMAL_IMPRESSION)
    technique = 'CT CHEST WITHOUT CONTRAST' if modality == '3d' else 'CHEST RADIOGRAPH, PA'
    return f'EXAMINATION: {technique}\nFINDINGS: {body}\nIMPRESSION: {impression}'


def mentioned_findings(report: str) -> set[str]:
    """Finding classes named in positive (non-negated) sentences of a report."""
    found = set()
    for sentence in re.split(r'(?<=[.!?])\s+|\n', report.lower()):
        sentence = re.sub(r'^[a-z ]+:\s*', '', sentence.strip())
        if not sentence or sentence.startswith(_NEGATIONS) or ' normal' in f' {sentence}':
            continue
        for kind, words in FINDING_KEYWORDS.items():
            if any(w in sentence for w in words):
                found.add(kind)
    return found
