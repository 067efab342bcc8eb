"""RD-GAN for avs: recursive dual GANs that animate one face photo from speech (task ``face-image``)."""

__version__ = "0.1.0"
