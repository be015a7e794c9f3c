"""The one summary every converter returns and every prepare tool prints."""
from unimedi.datasets.prepare import PrepareSummary


def test_split_lines_count_samples_patients_and_classes():
    summary = PrepareSummary('Toy', classes=('a', 'b'))
    for split, names in (('test', ['a']), ('train', ['a', 'b']), ('train', []), ('val', ['b'])):
        summary.keep(split, names)
    summary.count_patients({'p1': 'train', 'p2': 'val', 'p3': 'test', 'p4': 'train'})
    summary.files['train'] = 'out/train.csv'
    summary.notes['seed'] = 3
    lines = summary.format().splitlines()
    assert lines == ['Toy: 4 samples',
                     '  train: 2 samples, 2 patients [a 1, b 1] -> out/train.csv',
                     '  val: 1 samples, 1 patients [a 0, b 1]',
                     '  test: 1 samples, 1 patients [a 1, b 0]',
                     'skipped 0',
                     'seed: 3']
    assert summary.num_samples == 4 and summary.class_counts['train'] == {'a': 1, 'b': 1}


def test_skips_are_counted_by_reason_with_a_few_examples():
    summary = PrepareSummary('Manifest', unit='rows', max_examples=2)
    summary.keep('train')
    for name in ('x1', 'x2', 'x3'):
        summary.skip('image file missing', name)
    summary.skip('view not kept', 'lateral', count=4)
    assert summary.skipped == {'image file missing': 3, 'view not kept': 4}
    assert summary.num_skipped == 7 and summary.examples['image file missing'] == ['x1', 'x2']
    lines = summary.format().splitlines()
    assert lines[:2] == ['Manifest: 1 rows', '  train: 1 rows']  # no classes: no brackets
    assert lines[2:] == ['skipped 7:', '  image file missing: 3 (e.g. x1, x2)',
                         '  view not kept: 4 (e.g. lateral)']


def test_max_examples_none_keeps_every_skipped_item():
    summary = PrepareSummary('All', max_examples=None)
    for index in range(8):
        summary.skip('short scan', f'scan{index}')
    assert summary.examples['short scan'] == [f'scan{index}' for index in range(8)]
