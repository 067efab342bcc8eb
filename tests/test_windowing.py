"""avs.windowing: overlapping windows with a linear cross-fade."""

from __future__ import annotations

import numpy as np
import pytest

from avs.errors import AvsError
from avs.windowing import window_starts, windowed_inference


def _ramp(features: int = 3):
    def run(start: int, stop: int) -> np.ndarray:
        t = np.arange(start, stop, dtype=np.float32)[:, None]
        return t + np.arange(features, dtype=np.float32)[None, :] * 1000

    return run


@pytest.mark.parametrize(
    ("num_frames", "window", "overlap"),
    [(1, 8, 2), (7, 8, 2), (8, 8, 2), (9, 8, 2), (100, 8, 2), (100, 10, 0), (101, 10, 9), (64, 16, 4)],
)
def test_identity_reconstructs_ramp_exactly(num_frames, window, overlap):
    out = windowed_inference(num_frames, window, overlap, _ramp())
    assert out.shape == (num_frames, 3)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, _ramp()(0, num_frames), rtol=0, atol=1e-3)


def test_windows_cover_everything_and_are_never_longer_than_window():
    calls = []

    def run(start, stop):
        calls.append((start, stop))
        return np.zeros((stop - start, 2, 2))

    out = windowed_inference(1000, 64, 16, run)
    assert out.shape == (1000, 2, 2)
    assert all(stop - start == 64 for start, stop in calls)  # last window shifted back: all full
    assert calls[0][0] == 0 and calls[-1][1] == 1000
    assert [s for s, _ in calls] == window_starts(1000, 64, 16)
    covered = np.zeros(1000, bool)
    for start, stop in calls:
        covered[start:stop] = True
    assert covered.all()
    # neighbours overlap by exactly `overlap` except the last, shifted-back one (more)
    overlaps = [calls[i][1] - calls[i + 1][0] for i in range(len(calls) - 1)]
    assert overlaps[:-1] == [16] * (len(calls) - 2)
    assert 16 <= overlaps[-1] < 64


def test_short_input_is_one_call():
    calls = []

    def run(start, stop):
        calls.append((start, stop))
        return np.ones((stop - start, 4))

    out = windowed_inference(5, 32, 8, run)
    assert calls == [(0, 5)]
    assert out.shape == (5, 4)
    assert (out == 1).all()


def test_cross_fade_blends_two_constant_runs_linearly():
    # window 10, overlap 4, 16 frames: windows [0, 10) and [6, 16) share frames 6..9
    def run(start, stop):
        return np.full((stop - start, 1), 0.0 if start == 0 else 1.0)

    out = windowed_inference(16, 10, 4, run)[:, 0]
    np.testing.assert_array_equal(out[:6], 0.0)
    np.testing.assert_allclose(out[6:10], [0.2, 0.4, 0.6, 0.8], atol=1e-6)
    np.testing.assert_array_equal(out[10:], 1.0)


def test_overlap_zero_concatenates():
    out = windowed_inference(30, 10, 0, lambda s, e: np.full((e - s,), float(s)))
    np.testing.assert_array_equal(out, np.repeat([0.0, 10.0, 20.0], 10))


@pytest.mark.parametrize(("window", "overlap"), [(8, 8), (8, 9), (0, 0), (8, -1)])
def test_invalid_window_settings(window, overlap):
    with pytest.raises(AvsError):
        windowed_inference(100, window, overlap, _ramp())


def test_invalid_length_and_wrong_run_output():
    with pytest.raises(AvsError):
        windowed_inference(0, 8, 2, _ramp())
    with pytest.raises(ValueError, match="expected"):
        windowed_inference(20, 8, 2, lambda s, e: np.zeros((e - s + 1, 3)))
    with pytest.raises(ValueError, match="expected"):
        windowed_inference(20, 8, 2, lambda s, e: np.zeros((e - s, 3 if s == 0 else 4)))
