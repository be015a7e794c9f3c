from .pretrained import resolve_pretrained_path

__all__ = ['resolve_pretrained_path']
