"""Report transform: raw radiology text -> cleaned findings + impression."""
from __future__ import annotations

from typing import Sequence

from mmcv.transforms import BaseTransform

from unimedi.io.reports import compose_report, split_sections
from unimedi.registry import TRANSFORMS


def sample_name(results: dict) -> str:
    """A name for error messages: the image path, else the report id, else the index."""
    for key in ('img_path', 'report_id', 'sample_idx'):
        if results.get(key) is not None:
            return f'{key}={results[key]}'
    return '<unnamed sample>'


@TRANSFORMS.register_module()
class ParseReport(BaseTransform):
    """Turn a raw report into the cleaned text the text encoder reads.

    Required keys: ``report`` (raw text), or pre-split ``findings`` / ``impression``.
    Modified keys: ``report`` (str, the kept sections joined and cleaned).
    Added keys: ``report_sections`` (dict[str, str]).

    Args:
        sections: sections to keep, in order.
        anonymisation_token: replacement for de-identification runs ("XXXX", "___").
        with_headers: keep "FINDINGS: " style prefixes in the text.
        allow_empty: keep samples whose kept sections are empty (``report`` = ``''``);
            otherwise such a sample raises ``ValueError`` naming it.
    """

    def __init__(self, sections: Sequence[str] = ('findings', 'impression'),
                 anonymisation_token: str = 'XXXX', with_headers: bool = False,
                 allow_empty: bool = False):
        self.sections = tuple(sections)
        self.anonymisation_token = anonymisation_token
        self.with_headers = with_headers
        self.allow_empty = allow_empty

    def transform(self, results: dict) -> dict:
        presplit = {k: results[k] for k in ('findings', 'impression')
                    if isinstance(results.get(k), str) and results[k].strip()}
        raw = results.get('report')
        if presplit:
            sections = presplit
        elif isinstance(raw, str):
            sections = split_sections(raw)
        else:
            raise KeyError(f'{sample_name(results)}: no "report" text (got {type(raw).__name__})')
        text = compose_report(sections, self.sections, self.anonymisation_token,
                              self.with_headers)
        if not text and not self.allow_empty:
            raise ValueError(f'{sample_name(results)}: empty report (no text in sections '
                             f'{self.sections})')
        results['report'] = text
        results['report_sections'] = sections
        return results

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(sections={self.sections})'
