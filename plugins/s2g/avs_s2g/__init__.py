"""Speech2Gesture (Ginosar et al., CVPR 2019) as an avs plugin."""

__version__ = "0.1.0"
