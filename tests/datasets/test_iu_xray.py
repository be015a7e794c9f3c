"""IUXrayDataset on the real Indiana University report archive (and small fakes)."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from unimedi.datasets import IUXrayDataset, iter_iu_xml
from unimedi.registry import DATASETS

FIRST_IMAGES = ['CXR1_1_IM-0001-3001', 'CXR1_1_IM-0001-4001']


@pytest.fixture(scope='module')
def iu_tgz(shared_data) -> str:
    return str(shared_data / 'reports' / 'NLMCXR_reports.tgz')


@pytest.fixture(scope='module')
def iu_reports(iu_tgz) -> IUXrayDataset:
    """The text-only dataset over the whole archive, read once for the module."""
    return IUXrayDataset(ann_file=iu_tgz)


def test_report_count(iu_reports):
    # 3,955 XML files; 28 have neither findings nor impression and are skipped
    assert len(iu_reports) == 3927
    infos = [iu_reports.get_data_info(i) for i in range(len(iu_reports))]
    assert all(i['findings'] or i['impression'] for i in infos)
    assert len({i['report_id'] for i in infos}) == 3927
    assert all('img_path' not in i and 'modality' not in i for i in infos)
    # members are read in name order: 1.xml, 10.xml, 100.xml, 1000.xml...
    assert [i['report_id'] for i in infos[:4]] == ['1', '10', '100', '1000']


def test_first_report_fields(iu_reports):
    info = iu_reports.get_data_info(0)
    assert info['report_id'] == '1'
    assert info['comparison'] == 'None.'
    assert info['indication'] == 'Positive TB test'
    assert info['findings'].startswith('The cardiac silhouette and mediastinum size are within '
                                       'normal limits.')
    assert info['findings'].endswith('There is no evidence of pneumothorax.')
    assert info['impression'] == 'Normal chest x-XXXX.'
    assert info['image_ids'] == FIRST_IMAGES
    assert info['mesh_major'] == ['normal']
    assert info['report'] == f"FINDINGS: {info['findings']}\nIMPRESSION: Normal chest x-XXXX."
    assert info['sample_idx'] == 0


def test_report_with_only_impression(iu_reports):
    index = {iu_reports.get_data_info(i)['report_id']: i for i in range(len(iu_reports))}
    info = iu_reports.get_data_info(index['3'])
    assert info['findings'] == ''
    assert info['impression'].startswith('No displaced rib fractures')
    assert info['report'] == f"FINDINGS: \nIMPRESSION: {info['impression']}"
    assert info['indication'].startswith('rib pain after a XXXX')


def test_parse_report_pipeline_on_real_report(iu_reports):
    from unimedi.datasets.transforms import ParseReport

    parse = ParseReport()
    results = parse(iu_reports.get_data_info(0))
    assert results['report'] == (
        'The cardiac silhouette and mediastinum size are within normal limits. There is no '
        'pulmonary edema. There is no focal consolidation. There are no XXXX of a pleural '
        'effusion. There is no evidence of pneumothorax. Normal chest x-XXXX.')
    # every real report gives a non-empty text without headers or line breaks
    for i in range(0, len(iu_reports), 97):
        text = parse(iu_reports.get_data_info(i))['report']
        assert text and '\n' not in text and 'FINDINGS:' not in text and '  ' not in text


def _fake_pngs(folder, names):
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        Image.fromarray(np.full((16, 16), 128, np.uint8)).save(folder / f'{name}.png')


def test_img_dir_pairs_images_with_reports(iu_tgz, tmp_path):
    present = FIRST_IMAGES + ['CXR2_IM-0652-1001']
    _fake_pngs(tmp_path / 'images', present)
    dataset = DATASETS.build(dict(
        type='IUXrayDataset', ann_file=iu_tgz, img_dir=str(tmp_path / 'images'),
        skip_missing_images=True,
        pipeline=[dict(type='LoadMedicalImage'), dict(type='ParseReport'),
                  dict(type='PackMedInputs', meta_keys=('img_path', 'report_id'))]))
    infos = [dataset.get_data_info(i) for i in range(len(dataset))]
    assert [i['image_id'] for i in infos] == present
    assert [i['report_id'] for i in infos] == ['1', '1', '2']
    assert [i['img_path'] for i in infos] == [
        str(tmp_path / 'images' / f'{n}.png') for n in present]
    assert {i['modality'] for i in infos} == {'2d'}
    assert infos[0]['report'] == infos[1]['report']
    assert infos[2]['impression'] == 'No acute pulmonary findings.'
    # the sample loads through the image pipeline
    sample = dataset[2]
    assert tuple(sample['inputs'].shape) == (1, 16, 16)
    assert sample['data_samples'].report_id == '2'
    assert sample['data_samples'].report.endswith('No acute pulmonary findings.')


def test_img_dir_missing_image_raises(iu_tgz, tmp_path):
    _fake_pngs(tmp_path / 'images', FIRST_IMAGES[:1])
    with pytest.raises(FileNotFoundError, match=r'CXR1_1_IM-0001-4001\.png: image of report '
                                                r'.*NLMCXR_reports\.tgz:ecgen-radiology/1\.xml'):
        IUXrayDataset(ann_file=iu_tgz, img_dir=str(tmp_path / 'images'))


def _write_xml(folder, name, findings='', impression='', images=()):
    folder.mkdir(parents=True, exist_ok=True)
    sections = ''.join(f'<AbstractText Label="{label}">{text}</AbstractText>'
                       for label, text in (('FINDINGS', findings), ('IMPRESSION', impression)))
    parents = ''.join(f'<parentImage id="{i}"/>' for i in images)
    (folder / name).write_text(f'<eCitation><IUXRId id="{name[:-4]}"/><Abstract>{sections}'
                               f'</Abstract>{parents}</eCitation>')


def test_folder_of_xml_and_empty_reports(tmp_path):
    folder = tmp_path / 'xml'
    _write_xml(folder, '1.xml', findings='Clear lungs.', images=['A'])
    _write_xml(folder, '2.xml')
    _write_xml(folder, '3.xml', impression='Normal.')
    (folder / 'notes.txt').write_text('not a report')
    assert [name for name, _ in iter_iu_xml(str(folder))] == \
        [str(folder / f'{i}.xml') for i in (1, 2, 3)]
    dataset = IUXrayDataset(ann_file=str(folder))
    assert [dataset.get_data_info(i)['report_id'] for i in range(len(dataset))] == ['1', '3']
    assert dataset.get_data_info(1)['report'] == 'FINDINGS: \nIMPRESSION: Normal.'
    with pytest.raises(ValueError, match=r'2\.xml: report has neither findings nor impression'):
        IUXrayDataset(ann_file=str(folder), skip_empty=False)


def test_malformed_xml_in_folder_names_file(tmp_path):
    folder = tmp_path / 'xml'
    _write_xml(folder, '1.xml', findings='Clear.')
    (folder / '2.xml').write_text('<eCitation><Abstract>')
    with pytest.raises(ValueError, match=r'2\.xml: malformed report XML'):
        IUXrayDataset(ann_file=str(folder))


def test_missing_or_unreadable_archive(tmp_path):
    with pytest.raises(FileNotFoundError, match='IU X-ray reports not found'):
        IUXrayDataset(ann_file=str(tmp_path / 'nope.tgz'))
    bad = tmp_path / 'bad.tgz'
    bad.write_bytes(b'this is not a tar archive at all' * 20)
    with pytest.raises(ValueError, match=r'bad\.tgz: not a readable tar archive'):
        list(iter_iu_xml(str(bad)))
