"""``PretrainedEncoderMixin``: what every downstream model does with its vision encoder."""
from __future__ import annotations

from .checkpoint_loading import load_encoder_checkpoint, pretrained_spec


class PretrainedEncoderMixin:
    """Load a pre-trained encoder in ``init_weights()`` and keep a frozen one frozen.

    Shared by ``ImageClassifier``, ``VolumeSegmentor`` and ``ViTSegBackbone``: put it
    before the ``BaseModel`` / ``BaseModule`` base and call
    :meth:`setup_pretrained_encoder` once the encoder (attribute ``encoder_attr``) is built.
    """

    #: the attribute holding the ``UnifiedViT``
    encoder_attr = 'backbone'

    def setup_pretrained_encoder(self, pretrained: str | dict | None, frozen: bool) -> None:
        """
        Args:
            pretrained: ``None`` (random init), a checkpoint path, or
                ``dict(checkpoint=..., format='auto', prefix='vision_encoder.', strict=True)``
                (see :func:`load_encoder_checkpoint`: a UniMedI runner checkpoint with
                ``prefix='vision_encoder.'`` or ``'teacher.encoder.'``, an exported
                encoder, or timm / Hugging Face ViT weights with ``format='timm'`` /
                ``'hf'``), loaded by :meth:`init_weights`, which the runner calls before
                training (a resume or ``load_from`` wins).
            frozen: the encoder gets no gradients and stays in eval mode (no drop path).
        """
        self.pretrained = pretrained_spec(pretrained)
        self.frozen = frozen
        if frozen:
            getattr(self, self.encoder_attr).requires_grad_(False)

    def init_weights(self) -> None:
        """Initialise, then load the pre-trained encoder when ``pretrained`` is set."""
        super().init_weights()
        if self.pretrained is not None:
            load_encoder_checkpoint(getattr(self, self.encoder_attr), **self.pretrained)

    def train(self, mode: bool = True):
        super().train(mode)
        if self.frozen:
            getattr(self, self.encoder_attr).eval()
        return self
