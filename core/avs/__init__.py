"""avs: audio-driven visual speech synthesis.

The import of ``avs`` itself is cheap (no torch): the CLI's start-up path and plugin
discovery depend on it. Heavy modules (``avs.train``, ``avs.checkpoint``) import torch
when they are imported themselves. ``avs.load("s2g")`` (:func:`avs.model.load`) is imported on
first use (PEP 562).
"""

from avs._exports import lazy_exports

__version__ = "0.1.0"

__getattr__, _exported = lazy_exports("avs", globals(), {"load": "avs.model"})


def __dir__() -> list[str]:
    return sorted({*globals(), *_exported()})
