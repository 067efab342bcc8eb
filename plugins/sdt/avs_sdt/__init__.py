"""Speech Drives Templates (Qian et al., ICCV 2021) as an avs plugin."""

__version__ = "0.1.0"
