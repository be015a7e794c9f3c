"""The modality vocabulary: every 2D / 3D switch of unimedi names one of these."""
from __future__ import annotations

#: ``'2d'``: a radiograph, image ``(C, H, W)``; ``'3d'``: a CT volume ``(C, D, H, W)``.
MODALITIES = ('2d', '3d')


def check_modality(value, where: str | None = None, optional: bool = False,
                   error: type[Exception] = ValueError):
    """Return ``value`` if it is a modality (or ``None`` when ``optional``), else raise.

    Args:
        value: the modality to check.
        where: what the value belongs to (a file, a manifest row), put first in the message.
        optional: also accept ``None`` ("infer it").
        error: the exception type to raise (e.g. a dataset's own error class).
    """
    if value in MODALITIES or (optional and value is None):
        return value
    allowed = f'{MODALITIES} or None' if optional else f'{MODALITIES}'
    prefix = f'{where}: ' if where else ''
    raise error(f'{prefix}modality must be one of {allowed}, got {value!r}')
