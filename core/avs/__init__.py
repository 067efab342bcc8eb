"""avs: audio-driven visual speech synthesis.

The import of ``avs`` itself is cheap (no torch): the CLI's start-up path and plugin
discovery depend on it. Heavy modules (``avs.train``, ``avs.checkpoint``) import torch
when they are imported themselves.
"""

__version__ = "0.1.0"
