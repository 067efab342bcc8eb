"""Image metrics with scikit-image: PSNR and SSIM (RD-GAN's SSIM settings by default).

RD-GAN's SSIM: grayscale, 11×11 Gaussian window σ = 1.5, K1 = 0.01, K2 = 0.03 (Wang et al. 2004),
which is ``skimage.metrics.structural_similarity(gaussian_weights=True, sigma=1.5,
use_sample_covariance=False)``.
"""

from __future__ import annotations

import numpy as np

from avs.metrics._checks import check_pair


def _gray(image: np.ndarray) -> np.ndarray:
    if image.ndim == 3 and image.shape[-1] == 3:
        from skimage.color import rgb2gray

        return rgb2gray(image)  # float in [0, 1] for uint8 or float input in [0, 1]
    return image


def _as_unit(image: np.ndarray) -> np.ndarray:
    return image / 255.0 if image.dtype == np.uint8 else np.asarray(image, np.float64)


def psnr(pred: np.ndarray, gt: np.ndarray) -> float:
    """Peak signal-to-noise ratio in dB of (H, W[, 3]) images (uint8 or float in [0, 1]); higher is better.

    Identical images give ``inf``.
    """
    from skimage.metrics import peak_signal_noise_ratio

    p, g = check_pair(_as_unit(np.asarray(pred)), _as_unit(np.asarray(gt)), "PSNR", min_ndim=2)
    if np.array_equal(p, g):
        return float("inf")
    return float(peak_signal_noise_ratio(g, p, data_range=1.0))


def ssim(pred: np.ndarray, gt: np.ndarray) -> float:
    """Structural similarity of the grayscale images, RD-GAN's settings; in [−1, 1], higher is better."""
    from skimage.metrics import structural_similarity

    p, g = check_pair(_as_unit(np.asarray(pred)), _as_unit(np.asarray(gt)), "SSIM", min_ndim=2)
    return float(structural_similarity(_gray(g), _gray(p), data_range=1.0, gaussian_weights=True, sigma=1.5,
                                       use_sample_covariance=False, K1=0.01, K2=0.03))
