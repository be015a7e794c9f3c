"""``UniMedI``: language-guided 2D/3D pre-training with self-distillation."""
from __future__ import annotations

import copy
import math
from typing import Sequence

import torch
from torch import nn

from unimedi.registry import ENCODERS, HEADS, LOSSES, MODELS, SELECTORS
from unimedi.structures import MODALITIES
from ..losses.masked_pixel import patchify
from ..selectors.slice_selectors import _SliceSelector
from .base_model import MedBaseModel


def _build(registry, cfg):
    return registry.build(cfg) if isinstance(cfg, dict) else cfg


@MODELS.register_module()
class UniMedI(MedBaseModel):
    """Unified 2D/3D image-report pre-training (He et al., ECCV 2024).

    Per modality of the batch: the EMA teacher encodes the full input and gives the
    [CLS] -> patch attention; for CTs the ``slice_selector`` keeps the slices the (report-
    trained) [CLS] attends to, which are tokenised by the 2D tokenizer and appended to the
    3D tokens; the ``token_masker`` hides tokens from the student. Losses: symmetric
    InfoNCE between the student's [CLS] projection and the report projection over the
    whole batch (2D and 3D share the negatives), DINO on [CLS] and iBOT on masked patches
    against the teacher; optionally (not in the paper) the pixels of the masked patches
    regressed from the student's patch tokens. The teacher follows the student by EMA
    (``TeacherEMAHook``).

    Args:
        vision_encoder: ``ENCODERS`` config of the shared ViT (e.g. ``UnifiedViT``).
        text_encoder: ``ENCODERS`` config of the report encoder (e.g. ``HFTextEncoder``).
        embed_dim: width of the common image-report space.
        image_projection: ``HEADS`` config projecting [CLS] to the common space
            (``in_dim``/``out_dim`` filled in); default a linear ``ProjectionHead``.
        text_projection: the same for report embeddings.
        contrastive_loss: ``LOSSES`` config for image-report alignment.
        dino_head: ``HEADS`` config of the self-distillation head (``in_dim`` filled in).
        cls_distill_loss: ``LOSSES`` config on [CLS] (``out_dim`` filled in), or ``None``.
        patch_distill_loss: ``LOSSES`` config on masked patches, or ``None``.
        slice_selector: ``SELECTORS`` config choosing CT slices, or ``None`` (no selection).
        token_masker: ``SELECTORS`` config masking the student's tokens, or ``None``.
        loss_weights: ``{'vl': 1.0, 'icl': 1.0, 'pcl': 1.0, 'koleo': 0.0, 'mim': 0.0}``;
            a weight of 0 drops a loss. ``koleo`` and ``mim`` (not in the paper) weigh
            ``koleo_loss`` and ``pixel_loss``.
        koleo_loss: ``LOSSES`` config of the spreading regulariser on the student's [CLS]
            features, per modality (default ``KoLeoLoss``; used when ``koleo > 0``).
        pixel_head: ``HEADS`` config predicting a masked patch's pixels from its student
            token (``in_dim``/``out_dim`` filled in, one head per modality; default a
            linear ``PixelPredictionHead``); used when ``mim > 0``.
        pixel_loss: ``LOSSES`` config of the masked-patch reconstruction (default
            ``MaskedPixelLoss``); used when ``mim > 0`` and a ``token_masker`` is set.
        selection_attention_layers: average the teacher's [CLS] attention used for slice
            selection and attentive masking over the last N blocks only; ``None`` (the
            paper) averages over all blocks.
        contrastive_negatives: ``'batch'`` (the paper: every report of the batch is a
            negative, 2D and 3D alike) or ``'modality'`` (radiographs only against
            radiograph reports, CTs against CT reports, so the wording of a modality's
            reports cannot separate a pair on its own).
        distill_centers: ``'shared'`` (one DINO centre for every teacher output, as DINO)
            or ``'modality'`` (one centre for radiographs, one for CTs: with a shared
            centre the teacher can collapse one modality onto a single prototype while
            the other keeps the mean of the centre in check).
        zero_shot_prompts: ``{class: {'positive': [...], 'negative': [...]}}`` for
            zero-shot scores in ``predict`` (see :meth:`zero_shot_scores`).
        compile_encoder: ``torch.compile`` the student and teacher encoders in place
            (``nn.Module.compile``: the state dict keys do not change): ``False``
            (default), ``True``, or a dict of ``torch.compile`` arguments (``mode``,
            ``dynamic``, ``backend``...). The first steps of each new input shape pay the
            compilation.
        data_preprocessor: ``MedDataPreprocessor`` config (with the text tokenizer).
    """

    def __init__(self, vision_encoder: dict, text_encoder: dict, embed_dim: int = 256,
                 image_projection: dict | None = None, text_projection: dict | None = None,
                 contrastive_loss: dict | None = None, dino_head: dict | None = None,
                 cls_distill_loss: dict | None = None, patch_distill_loss: dict | None = None,
                 slice_selector: dict | None = None, token_masker: dict | None = None,
                 loss_weights: dict | None = None, koleo_loss: dict | None = None,
                 pixel_head: dict | None = None, pixel_loss: dict | None = None,
                 selection_attention_layers: int | None = None,
                 contrastive_negatives: str = 'batch',
                 distill_centers: str = 'shared',
                 zero_shot_prompts: dict | None = None,
                 compile_encoder: bool | dict = False,
                 data_preprocessor: dict | None = None, init_cfg=None):
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.vision_encoder = _build(ENCODERS, vision_encoder)
        self.text_encoder = _build(ENCODERS, text_encoder)
        vision_dim, text_dim = self.vision_encoder.embed_dim, self.text_encoder.embed_dim
        self.image_projection = HEADS.build(dict(
            image_projection or dict(type='ProjectionHead'), in_dim=vision_dim, out_dim=embed_dim))
        self.text_projection = HEADS.build(dict(
            text_projection or dict(type='ProjectionHead'), in_dim=text_dim, out_dim=embed_dim))
        self.contrastive_loss = _build(LOSSES, contrastive_loss or dict(type='InfoNCELoss'))
        weights = dict(vl=1.0, icl=1.0, pcl=1.0, koleo=0.0, mim=0.0)
        weights.update(loss_weights or {})
        unknown = set(weights) - {'vl', 'icl', 'pcl', 'koleo', 'mim'}
        if unknown:
            raise ValueError('loss_weights keys must be vl, icl, pcl, koleo, mim; got '
                             f'{sorted(unknown)}')
        self.loss_weights = weights
        self.koleo_loss = _build(LOSSES, koleo_loss or dict(type='KoLeoLoss')) \
            if weights['koleo'] > 0 else None
        self.pixel_loss, self.pixel_heads = None, None
        if weights['mim'] > 0:
            self.pixel_loss = _build(LOSSES, pixel_loss or dict(type='MaskedPixelLoss'))
            self.pixel_heads = nn.ModuleDict({
                modality: HEADS.build(dict(pixel_head or dict(type='PixelPredictionHead'),
                                           in_dim=vision_dim,
                                           out_dim=tokenizer.in_channels
                                           * math.prod(tokenizer.patch_size)))
                for modality, tokenizer in self.vision_encoder.tokenizers.items()})
        dino_head = dict(dino_head or dict(type='DINOHead', out_dim=8192), in_dim=vision_dim)
        self.dino_head = HEADS.build(dino_head)
        out_dim = self.dino_head.out_dim
        if distill_centers not in ('shared', 'modality'):
            raise ValueError("distill_centers must be 'shared' or 'modality', got "
                             f'{distill_centers!r}')
        self.distill_centers = distill_centers
        centers = dict(out_dim=out_dim, num_centers=2 if distill_centers == 'modality' else 1)
        self.cls_distill_loss = None if cls_distill_loss is None and weights['icl'] == 0 else \
            LOSSES.build(dict(cls_distill_loss or dict(type='DINOLoss'), **centers))
        self.patch_distill_loss = None if patch_distill_loss is None and weights['pcl'] == 0 \
            else LOSSES.build(dict(patch_distill_loss or dict(type='PatchDistillationLoss'),
                                   **centers))
        self.slice_selector = _build(SELECTORS, slice_selector) if slice_selector else None
        self.token_masker = _build(SELECTORS, token_masker) if token_masker else None
        # The EMA teacher: encoder and DINO head, never touched by the optimiser.
        self.teacher = nn.ModuleDict(dict(encoder=copy.deepcopy(self.vision_encoder),
                                          head=copy.deepcopy(self.dino_head)))
        self.teacher.requires_grad_(False)
        self.zero_shot_prompts = zero_shot_prompts
        self.selection_attention_layers = selection_attention_layers
        if contrastive_negatives not in ('batch', 'modality'):
            raise ValueError("contrastive_negatives must be 'batch' or 'modality', got "
                             f'{contrastive_negatives!r}')
        self.contrastive_negatives = contrastive_negatives
        if compile_encoder:  # after the teacher's deepcopy: each module compiles its own forward
            options = {} if compile_encoder is True else dict(compile_encoder)
            self.vision_encoder.compile(**options)
            self.teacher['encoder'].compile(**options)

    # ------------------------------------------------------------------ teacher
    def init_weights(self) -> None:
        """Initialise (the vision encoder loads its ``pretrained`` weights, e.g. ImageNet),
        then start the EMA teacher as a copy of the student, as DINO does."""
        super().init_weights()
        with torch.no_grad():
            self.teacher['encoder'].load_state_dict(self.vision_encoder.state_dict())
            self.teacher['head'].load_state_dict(self.dino_head.state_dict())

    @torch.no_grad()
    def momentum_update(self, momentum: float) -> None:
        """``teacher = momentum * teacher + (1 - momentum) * student`` (encoder and head)."""
        pairs = ((self.teacher['encoder'], self.vision_encoder), (self.teacher['head'],
                                                                  self.dino_head))
        for teacher, student in pairs:
            for t, s in zip(teacher.parameters(), student.parameters()):
                t.mul_(momentum).add_(s.detach(), alpha=1.0 - momentum)

    def train(self, mode: bool = True):
        super().train(mode)
        self.teacher.eval()  # no dropout / drop path in the teacher
        return self

    # ------------------------------------------------------------------ parts
    def encode_text(self, text: dict) -> torch.Tensor:
        """Tokenized reports ``{'input_ids', 'attention_mask'}`` -> ``(N, E)`` unit vectors."""
        return self.text_projection(self.text_encoder(text['input_ids'], text['attention_mask']))

    def encode_image(self, x: torch.Tensor, modality: str) -> torch.Tensor:
        """Images of one modality -> ``(N, E)`` unit vectors (student, unmasked)."""
        return self.image_projection(self.vision_encoder(x, modality)['cls'])

    def extract_feat(self, inputs: dict) -> torch.Tensor:
        """``(N, E)`` image embeddings of the batch, 2D rows first then 3D."""
        feats = [self.encode_image(inputs[m], m) for m in MODALITIES if inputs.get(m) is not None]
        return torch.cat(feats)

    @torch.no_grad()
    def teacher_pass(self, x: torch.Tensor, modality: str) -> dict:
        """The EMA teacher on the full input, with the [CLS] attention that selection and
        attentive masking use (over ``selection_attention_layers``)."""
        return self.teacher['encoder'](x, modality, return_attention=True,
                                       attention_layers=self.selection_attention_layers)

    @staticmethod
    def selection_precision(selected: torch.Tensor, samples: Sequence, depth: int):
        """Per 3D sample with known lesion slices: the fraction of ``selected`` slices
        holding a lesion, and chance (the fraction of lesion slices among ``depth``).

        Returns:
            two lists of scalar tensors (precision, chance), one entry per such sample.
        """
        precision, chance = [], []
        for sample, chosen in zip(samples, selected):
            lesions = sample.get('lesion_slices')
            if lesions is not None and len(lesions) > 0:
                precision.append(torch.isin(chosen.cpu(), lesions.cpu()).float().mean())
                chance.append(torch.tensor(len(lesions) / depth))
        return precision, chance

    def _select_slices(self, x, attention, grid, samples, log: dict):
        selected = self.slice_selector(attention, grid, x.shape[2])
        extra = self.vision_encoder.embed_extra(_SliceSelector.gather(x, selected), '2d')
        for sample, chosen in zip(samples, selected):
            sample.set_selected_slices(chosen.detach().cpu())
        precision, chance = self.selection_precision(selected, samples, x.shape[2])
        if precision:
            log.setdefault('sel_prec', []).extend(precision)
            log.setdefault('sel_chance', []).extend(chance)
        return extra

    def _student_teacher(self, x, modality, samples, log: dict):
        """One modality: teacher pass, selection, masked student pass, distillation."""
        teacher = self.teacher_pass(x, modality)
        attention = teacher['cls_attention']
        extra = None
        if modality == '3d' and self.slice_selector is not None:
            extra = self._select_slices(x, attention, teacher['grid'], samples, log)
        mask = self.token_masker(attention) if self.token_masker is not None else None
        student = self.vision_encoder(x, modality, mask=mask, extra_tokens=extra)
        losses, targets = {}, {}
        group = self.center_group(modality)
        if self.cls_distill_loss is not None and self.loss_weights['icl'] > 0:
            with torch.no_grad():
                targets['icl'] = self.teacher['head'](teacher['cls'])
            losses['icl'] = self.cls_distill_loss(self.dino_head(student['cls']),
                                                  targets['icl'], update_center=False,
                                                  group=group)
        if self.patch_distill_loss is not None and self.loss_weights['pcl'] > 0 \
                and mask is not None:
            with torch.no_grad():
                targets['pcl'] = self.teacher['head'](teacher['patch'][mask])
            losses['pcl'] = self.patch_distill_loss(self.dino_head(student['patch'][mask]),
                                                    targets['pcl'], update_center=False,
                                                    group=group)
        if self.pixel_loss is not None and mask is not None:
            patches = patchify(x, self.vision_encoder.tokenizers[modality].patch_size)
            losses['mim'] = self.pixel_loss(
                self.pixel_heads[modality](student['patch'][mask]), patches[mask])
        return student['cls'], losses, targets

    def center_group(self, modality: str) -> int:
        """The distillation centre a modality's teacher outputs are centred with."""
        return MODALITIES.index(modality) if self.distill_centers == 'modality' else 0

    def _update_centers(self, targets: dict) -> None:
        """One centre update per loss, centre and step, over the teacher outputs of the
        modalities it centres (one collective each, in a fixed order, so ranks with
        different 2D / 3D mixes stay in step).

        Args:
            targets: ``{loss name: {modality: (N, K) teacher logits}}``.
        """
        if not self.training:
            return
        for name, loss in (('icl', self.cls_distill_loss), ('pcl', self.patch_distill_loss)):
            if loss is None or self.loss_weights[name] <= 0:
                continue
            by_modality = targets.get(name, {})
            width = loss.center.shape[-1]
            for group in range(loss.center.shape[0]):
                rows = [v for m, v in by_modality.items() if self.center_group(m) == group]
                loss.update_center(torch.cat(rows) if rows else loss.center.new_zeros(0, width),
                                   group)

    # ------------------------------------------------------------------ modes
    def _forward(self, inputs: dict) -> dict:
        """``image`` embeddings ``(N, E)`` and, when reports exist, ``text`` ``(N, E)``."""
        out = dict(image=self.extract_feat(inputs))
        if inputs.get('text') is not None:
            out['text'] = self.encode_text(inputs['text'])
        return out

    def loss(self, inputs: dict, data_samples: Sequence) -> dict:
        """Losses (``loss_vl``, ``loss_icl``, ``loss_pcl``, ``loss_koleo``, ``loss_mim``) and
        logged metrics (``i2t_acc``, ``sel_prec``/``sel_chance`` when lesion slices are known)."""
        if inputs.get('text') is None:
            raise ValueError('UniMedI needs reports: configure a text_tokenizer in the data '
                             'preprocessor and a report for every sample')
        cls_tokens, distill, log, targets, groups = [], {}, {}, {}, []
        start = 0
        for group, modality in enumerate(MODALITIES):
            x = inputs.get(modality)
            if x is None:
                continue
            samples = data_samples[start:start + x.shape[0]]
            start += x.shape[0]
            cls, losses, teacher_targets = self._student_teacher(x, modality, samples, log)
            cls_tokens.append(cls)
            groups.append(torch.full((x.shape[0], ), group, device=x.device))
            for name, value in losses.items():
                distill.setdefault(name, []).append(value * x.shape[0])
            for name, value in teacher_targets.items():
                targets.setdefault(name, {})[modality] = value
        self._update_centers(targets)
        image = self.image_projection(torch.cat(cls_tokens))
        text = self.encode_text(inputs['text'])
        if self.contrastive_negatives == 'modality':
            loss_vl = self.contrastive_loss(image, text, groups=torch.cat(groups))
        else:
            loss_vl = self.contrastive_loss(image, text)
        losses = dict(loss_vl=self.loss_weights['vl'] * loss_vl)
        for name, values in distill.items():
            losses[f'loss_{name}'] = self.loss_weights[name] * torch.stack(values).sum() / start
        rows = [c for c in cls_tokens if c.shape[0] > 1]  # KoLeo within each modality
        if self.koleo_loss is not None and rows:
            total = sum(self.koleo_loss(c) * c.shape[0] for c in rows)
            losses['loss_koleo'] = self.loss_weights['koleo'] * total / sum(len(c) for c in rows)
        with torch.no_grad():
            targets = torch.arange(image.shape[0], device=image.device)
            losses['i2t_acc'] = ((image @ text.t()).argmax(dim=1) == targets).float().mean()
            losses['logit_scale'] = self.contrastive_loss.logit_scale.detach()
            for name, values in log.items():
                losses[name] = torch.stack(values).mean().to(image.device)
        return losses

    @torch.no_grad()
    def zero_shot_scores(self, image: torch.Tensor) -> torch.Tensor:
        """Zero-shot probability of each class from prompt ensembles.

        For each class, the mean embedding of its positive prompts and of its negative
        prompts are compared with the image; the score is the softmax over the two scaled
        similarities (probability of "positive").

        Returns:
            ``(N, num_classes)`` scores in [0, 1].
        """
        tokenizer = getattr(self.data_preprocessor, 'text_tokenizer', None)
        if tokenizer is None:
            raise ValueError('zero-shot needs a text_tokenizer in the data preprocessor')
        scale = self.contrastive_loss.logit_scale
        scores = []
        for name, prompts in self.zero_shot_prompts.items():
            prototypes = []
            for polarity in ('positive', 'negative'):
                if not prompts.get(polarity):
                    raise ValueError(f'zero-shot class {name!r} needs {polarity} prompts')
                tokens = {k: v.to(image.device) for k, v in tokenizer(prompts[polarity]).items()}
                embedding = self.encode_text(tokens).mean(dim=0)
                prototypes.append(torch.nn.functional.normalize(embedding, dim=0))
            logits = scale * image @ torch.stack(prototypes).t()
            scores.append(logits.softmax(dim=-1)[:, 0])
        return torch.stack(scores, dim=1)

    def _set_predictions(self, inputs: dict, data_samples: Sequence) -> None:
        """Set ``img_embed`` (and ``txt_embed`` when reports exist, ``pred_score`` with
        zero-shot prompts) on every sample."""
        image = self.extract_feat(inputs)
        text = self.encode_text(inputs['text']) if inputs.get('text') is not None else None
        scores = self.zero_shot_scores(image) if self.zero_shot_prompts else None
        for i, sample in enumerate(data_samples):
            sample.set_field(image[i], 'img_embed', dtype=torch.Tensor)
            if text is not None:
                sample.set_field(text[i], 'txt_embed', dtype=torch.Tensor)
            if scores is not None:
                sample.set_pred_score(scores[i])
