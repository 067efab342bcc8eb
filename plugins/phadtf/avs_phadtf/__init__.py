"""PHADTF (Yi et al., 2020): audio-driven talking face video with learned personalised head pose."""

__version__ = "0.1.0"
