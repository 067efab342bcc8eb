"""EmoTalk (Peng et al., ICCV 2023) as an avs plugin: speech → 52 ARKit blendshapes at 30 fps."""

__version__ = "0.1.0"
