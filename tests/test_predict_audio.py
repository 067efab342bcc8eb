"""The sound track that ``avs predict`` hands to the encoder: fitted once to the video's length."""

from __future__ import annotations

import numpy as np

from avs.predict import fit_audio_length


def test_trim_is_a_view_and_pad_is_silence() -> None:
    audio = np.arange(16000 * 2 + 500, dtype=np.float32)
    trimmed = fit_audio_length(audio, 30, 15.0, 16000)  # 30 frames at 15 fps = 32000 samples
    assert trimmed.shape == (32000,) and np.shares_memory(trimmed, audio)  # no copy of a long recording
    padded = fit_audio_length(audio[:31000], 30, 15.0, 16000)
    assert padded.shape == (32000,) and not padded[31000:].any()
    np.testing.assert_array_equal(padded[:31000], audio[:31000])
    stereo = fit_audio_length(np.ones((100, 2), np.float32), 1, 100.0, 16000)
    assert stereo.shape == (160, 2) and stereo[100:].sum() == 0
