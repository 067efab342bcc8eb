"""Fréchet distance between two feature sets: the basis of FGD and FTD.

FD = ‖μ₁ − μ₂‖² + Tr(Σ₁ + Σ₂ − 2(Σ₁Σ₂)^½)   (Heusel et al. 2017; FGD: Yoon et al. 2020,
ai4r/Gesture-Generation-from-Trimodal-Context ``embedding_space_evaluator.py``; FTD: Qian et
al. 2021, ShenhanQian/SpeechDrivesTemplates ``core/utils/fgd.py``).

The trace term is computed robustly: Tr((Σ₁Σ₂)^½) equals the sum of the square roots of
the eigenvalues of the *symmetric* positive semi-definite matrix √Σ₁ Σ₂ √Σ₁, so we never
take ``sqrtm`` of the non-symmetric product (which returned large imaginary parts and even
negative distances with scipy ≥ 1.11.2). Tiny negative eigenvalues from round-off are clipped
to 0, and the result is clipped at 0.
"""

from __future__ import annotations

import numpy as np

from avs.errors import AvsError


def _psd_sqrt(sigma: np.ndarray) -> np.ndarray:
    values, vectors = np.linalg.eigh((sigma + sigma.T) / 2)
    return (vectors * np.sqrt(np.clip(values, 0.0, None))) @ vectors.T


def frechet_distance_from_stats(mu1: np.ndarray, sigma1: np.ndarray, mu2: np.ndarray, sigma2: np.ndarray) -> float:
    """Fréchet distance between Gaussians N(μ₁, Σ₁) and N(μ₂, Σ₂).

    Args:
        mu1, mu2: (D,) means.
        sigma1, sigma2: (D, D) symmetric positive semi-definite covariances (rank-deficient allowed).

    Returns:
        The distance (squared units of the features), ≥ 0; identical inputs give 0 within 1e-6.

    Raises:
        AvsError: shape mismatch or non-finite values.
    """
    mu1, mu2 = np.asarray(mu1, np.float64), np.asarray(mu2, np.float64)
    sigma1, sigma2 = np.asarray(sigma1, np.float64), np.asarray(sigma2, np.float64)
    d = mu1.shape[0]
    if mu1.shape != (d,) or mu2.shape != (d,) or sigma1.shape != (d, d) or sigma2.shape != (d, d):
        raise AvsError(f"Fréchet distance: shapes differ (μ {mu1.shape} vs {mu2.shape}, "
                       f"Σ {sigma1.shape} vs {sigma2.shape})")
    if not all(np.isfinite(a).all() for a in (mu1, mu2, sigma1, sigma2)):
        raise AvsError("Fréchet distance: features contain NaN or infinity")
    root1 = _psd_sqrt(sigma1)
    middle = root1 @ ((sigma2 + sigma2.T) / 2) @ root1
    eig = np.linalg.eigvalsh((middle + middle.T) / 2)
    trace_sqrt = float(np.sqrt(np.clip(eig, 0.0, None)).sum())
    diff = mu1 - mu2
    value = float(diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2.0 * trace_sqrt)
    return max(value, 0.0)


def frechet_distance(features1: np.ndarray, features2: np.ndarray) -> float:
    """Fréchet distance between two sets of feature vectors (FGD/FTD when the features come
    from the method's pose encoder; comparable only with the same encoder checkpoint).

    Args:
        features1, features2: (N₁, D) and (N₂, D) float arrays, N ≥ 2 each. Under a distributed
            evaluation, gather every rank's rows first (:func:`avs.distributed.gather_arrays`).

    Raises:
        AvsError: fewer than 2 samples, different feature widths, NaN.
    """
    f1, f2 = np.asarray(features1, np.float64), np.asarray(features2, np.float64)
    if f1.ndim != 2 or f2.ndim != 2 or f1.shape[1] != f2.shape[1]:
        raise AvsError(f"Fréchet distance needs (N, D) features of equal width, got {f1.shape} and {f2.shape}")
    if len(f1) < 2 or len(f2) < 2:
        raise AvsError("Fréchet distance needs at least 2 samples on each side")
    return frechet_distance_from_stats(f1.mean(0), np.cov(f1, rowvar=False).reshape(f1.shape[1], -1),
                                       f2.mean(0), np.cov(f2, rowvar=False).reshape(f2.shape[1], -1))
