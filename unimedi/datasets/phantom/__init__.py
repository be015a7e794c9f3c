"""Procedurally generated chest phantoms, the embedded default data of unimedi: the generator
and the datasets that read (or generate) them."""
from .anatomy import LOBES, TISSUE_HU, build_chest_anatomy
from .findings import FINDING_CLASSES, Finding, label_of, paint_findings, sample_findings
from .generator import PhantomConfig, generate_ct_case, generate_xray_case, write_phantom_dataset
from .phantom import PhantomDataset
from .phantom_seg import PhantomSeg2DDataset, PhantomSeg3DDataset
from .projection import project_labels, radiograph
from .report_writer import FINDING_KEYWORDS, mentioned_findings, write_report

__all__ = [
    'LOBES', 'TISSUE_HU', 'build_chest_anatomy', 'FINDING_CLASSES', 'Finding', 'label_of',
    'paint_findings', 'sample_findings', 'PhantomConfig', 'generate_ct_case',
    'generate_xray_case', 'write_phantom_dataset', 'project_labels', 'radiograph',
    'FINDING_KEYWORDS', 'mentioned_findings', 'write_report', 'PhantomDataset',
    'PhantomSeg2DDataset', 'PhantomSeg3DDataset'
]
