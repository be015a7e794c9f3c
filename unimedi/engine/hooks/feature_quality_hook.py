"""``FeatureQualityHook``: probe the frozen features while pre-training runs."""
from __future__ import annotations

import math

import numpy as np
import torch
from mmengine.dataset import pseudo_collate
from mmengine.dist import is_main_process
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from unimedi.evaluation.feature_quality import effective_rank, probe_auc, target_entropy
from unimedi.registry import DATASETS, HOOKS
from unimedi.structures import MODALITIES


@HOOKS.register_module()
class FeatureQualityHook(Hook):
    """Every ``interval`` iterations, measure the [CLS] features of the student and the EMA
    teacher on a small labelled set, per modality:

    - ``probe_auc``: macro AUC of a cross-validated logistic-regression (or k-NN) probe;
    - ``rank``: the effective rank (RankMe) of the features;
    - ``dino_entropy`` / ``dino_spread``: the mean entropy of one sample's distillation
      targets and the entropy of their batch mean (teacher: centred, teacher temperature;
      student: its own temperature), when the model distils on [CLS];

    and ``center_norm``, the norm of the [CLS] distillation centre (``center_norm_2d`` /
    ``_3d`` with one centre per modality). Values go to
    ``scalars.json`` as ``monitor/<encoder>_<modality>_<name>`` (with ``step`` = the
    iteration) and to the log. The first measurement is taken before training, i.e. at the
    initialisation: the baseline every later value is read against.

    The labelled set is loaded once, through the model's data preprocessor, and kept in
    memory; keep it small (``max_per_modality``). Only the main process measures.

    Args:
        dataset: a ``DATASETS`` config whose samples carry ``gt_label`` (multi-hot).
        interval: iterations between measurements (the last iteration is always measured).
        probe: ``'logistic'`` or ``'knn'``.
        folds: folds of the logistic probe.
        max_per_modality: keep at most this many samples of each modality (the first ones).
        batch_size: samples per forward pass.
        encoders: ``{name: dotted attribute path}`` of the encoders to measure.
        heads: ``{name: (head path, temperature key)}``: the DINO head each encoder's
            targets come from; the temperature key is ``'teacher_temp'`` (and centring) or
            ``'student_temp'`` of the model's ``cls_distill_loss``.
        before_train: also measure the initialisation.
    """

    priority = 'LOW'

    def __init__(self, dataset: dict, interval: int = 250, probe: str = 'logistic',
                 folds: int = 5, max_per_modality: int = 300, batch_size: int = 32,
                 encoders: dict | None = None, heads: dict | None = None,
                 before_train: bool = True):
        if interval < 1:
            raise ValueError(f'interval must be >= 1, got {interval}')
        self.dataset_cfg = dataset
        self.interval = interval
        self.probe = probe
        self.folds = folds
        self.max_per_modality = max_per_modality
        self.batch_size = batch_size
        self.encoders = encoders or dict(student='vision_encoder', teacher='teacher.encoder')
        self.heads = heads if heads is not None else dict(
            student=('dino_head', 'student_temp'), teacher=('teacher.head', 'teacher_temp'))
        self.measure_before_train = before_train
        self._cache: dict | None = None

    # ------------------------------------------------------------------ data
    def _load(self, model) -> dict:
        """``{modality: (images (N, C, ...), labels (N, K))}`` after the data preprocessor."""
        dataset = DATASETS.build(self.dataset_cfg) if isinstance(self.dataset_cfg, dict) \
            else self.dataset_cfg
        kept = {m: [] for m in MODALITIES}
        for index in range(len(dataset)):
            modality = dataset.get_data_info(index).get('modality')
            if modality in kept and len(kept[modality]) < self.max_per_modality:
                kept[modality].append(index)
        cache = {}
        for modality, indices in kept.items():
            images, labels = [], []
            for start in range(0, len(indices), self.batch_size):
                batch = pseudo_collate([dataset[i] for i in indices[start:start + self.batch_size]])
                data = model.data_preprocessor(batch, False)
                images.append(data['inputs'][modality].cpu())
                for sample in data['data_samples']:
                    if 'gt_label' not in sample:
                        raise ValueError(f'{sample.get("img_path", "<sample>")}: '
                                         'FeatureQualityHook needs samples with gt_label')
                    labels.append(sample.gt_label.cpu().numpy())
            if images:
                cache[modality] = (torch.cat(images), np.stack(labels))
        if not cache:
            raise ValueError('FeatureQualityHook: the dataset holds no 2d or 3d samples')
        return cache

    # ------------------------------------------------------------------ measuring
    @torch.no_grad()
    def _features(self, encoder, images: torch.Tensor, modality: str, device) -> torch.Tensor:
        rows = []
        for start in range(0, len(images), self.batch_size):
            x = images[start:start + self.batch_size].to(device)
            rows.append(encoder(x, modality)['cls'].float().cpu())
        return torch.cat(rows)

    def measure(self, model) -> dict:
        """The monitor values of ``model`` (an unwrapped model) as a flat dict."""
        if self._cache is None:
            self._cache = self._load(model)
        device = next(model.parameters()).device
        distill = getattr(model, 'cls_distill_loss', None)
        values = {}
        was_training = model.training
        model.eval()
        try:
            for name, path in self.encoders.items():
                encoder = model.get_submodule(path)
                for modality, (images, labels) in self._cache.items():
                    feats = self._features(encoder, images, modality, device)
                    key = f'monitor/{name}_{modality}'
                    probe = probe_auc(feats.numpy(), labels, method=self.probe,
                                      folds=self.folds)
                    values[f'{key}_probe_auc'] = probe['macro']
                    values[f'{key}_rank'] = effective_rank(feats)
                    if distill is not None and name in self.heads:
                        head_path, temp_key = self.heads[name]
                        with torch.no_grad():
                            logits = model.get_submodule(head_path)(feats.to(device)).cpu()
                        center = 0.0
                        if temp_key == 'teacher_temp':  # one centre, or one per modality
                            rows = distill.center.cpu()
                            center = rows[MODALITIES.index(modality)] if len(rows) > 1 else rows
                        row, spread = target_entropy(logits, center, getattr(distill, temp_key))
                        values[f'{key}_dino_entropy'] = row
                        values[f'{key}_dino_spread'] = spread
            if distill is not None:
                norms = distill.center.norm(dim=-1).tolist()
                if len(norms) == 1:
                    values['monitor/center_norm'] = norms[0]
                else:
                    values.update({f'monitor/center_norm_{m}': v
                                   for m, v in zip(MODALITIES, norms)})
        finally:
            model.train(was_training)
        return values

    def _log(self, runner, step: int) -> None:
        if not is_main_process():
            return
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        values = self.measure(model)
        runner.visualizer.add_scalars(dict(values, iter=step), step=step)
        text = '  '.join(f'{k[len("monitor/"):]}: {v:.4f}' for k, v in values.items()
                         if not (isinstance(v, float) and math.isnan(v)))
        runner.logger.info(f'Feature quality at iter {step}: {text}')

    def before_train(self, runner) -> None:
        if self.measure_before_train and runner.iter == 0:
            self._log(runner, 0)

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        if self.every_n_train_iters(runner, self.interval) or self.is_last_train_iter(runner):
            self._log(runner, runner.iter + 1)
