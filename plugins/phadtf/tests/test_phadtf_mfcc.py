"""The MFCC front-end against the reference's procedure (atcnet_test1.py / dataset.py)."""

from __future__ import annotations

import numpy as np
import pytest

from avs_phadtf.mfcc import frame_windows, mfcc, speech_windows


def _reference_windows(speech: np.ndarray) -> np.ndarray:
    """The reference's steps verbatim in behaviour: pad 1920 zeros both ends, library defaults except winstep,
    windows mfcc[(ind-3)*4:(ind+4)*4, 1:] for ind = 3 .. len//4 - 4."""
    import python_speech_features

    speech = np.insert(speech, 0, np.zeros(1920))
    speech = np.append(speech, np.zeros(1920))
    feats = python_speech_features.mfcc(speech, 16000, winstep=0.01)
    out, ind = [], 3
    while ind <= int(feats.shape[0] / 4) - 4:
        out.append(feats[(ind - 3) * 4:(ind + 4) * 4, 1:])
        ind += 1
    return np.stack(out)


def test_windows_equal_reference() -> None:
    rng = np.random.default_rng(0)
    t = np.arange(16000 * 2) / 16000
    speech = (0.3 * np.sin(2 * np.pi * 220 * t) * (1 + np.sin(2 * np.pi * 3 * t)) + 0.01 * rng.standard_normal(t.size))
    ours = speech_windows(speech)
    ref = _reference_windows(speech)
    assert ours.shape == (50, 28, 12)
    # the reference stops one window short; every window it has is ours to 1e-5
    assert ref.shape[0] == 49
    np.testing.assert_allclose(ours[:49], ref, atol=1e-5, rtol=0)


def test_mfcc_rate_and_energy_column() -> None:
    speech = np.random.default_rng(1).standard_normal(16000).astype(np.float32) * 0.1
    feats = mfcc(speech)
    assert feats.shape[1] == 13
    # 100 Hz over the speech plus 2 x 0.12 s padding
    assert abs(feats.shape[0] - 124) <= 1
    # column 0 is log energy: lower in the zero padding than in the noise
    assert feats[:5, 0].mean() < feats[40:60, 0].mean() - 10


def test_exact_frame_count_and_errors() -> None:
    from avs.errors import AvsError

    w = frame_windows(mfcc(np.zeros(640 * 7) + 1e-3), 7)
    assert w.shape == (7, 28, 12) and w.dtype == np.float32
    with pytest.raises(AvsError):
        speech_windows(np.zeros(100))
