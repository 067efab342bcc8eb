"""Shared synthetic-data mechanics: atomic folders, speech sources, augmentation."""

from __future__ import annotations

import numpy as np
import pytest

from avs.errors import AvsError
from avs.synth import SpeechAugmentation, default_speech_sources, load_speech_sources, staged_directory


def test_staged_directory_appears_whole_or_not_at_all(tmp_path):
    with staged_directory(tmp_path / "ok") as tmp:
        (tmp / "a.txt").write_text("x")
        assert not (tmp_path / "ok").exists()
    assert (tmp_path / "ok" / "a.txt").read_text() == "x"

    with pytest.raises(RuntimeError), staged_directory(tmp_path / "failed") as tmp:
        (tmp / "half.txt").write_text("half")
        raise RuntimeError("boom")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ok"]  # no target, no temporary folder

    with pytest.raises(AvsError, match="not an empty folder"), staged_directory(tmp_path / "ok"):
        pass


def test_bundled_speech_and_augmentation():
    sources = default_speech_sources()
    assert [p.name for p in sources] == ["librivox_0870.wav", "librivox_0890.wav"]
    audios = load_speech_sources(sources, 16000, min_seconds=5.0)
    assert all(a.dtype == np.float32 and a.size > 5 * 16000 for a in audios.values())
    with pytest.raises(AvsError, match="too short"):
        load_speech_sources(sources, 16000, min_seconds=60.0)
    speech = audios[sources[0]][:32000]
    faster = SpeechAugmentation(rate=1.25, gain_db=-6.0).apply(speech, np.random.default_rng(0))
    assert abs(len(faster) - len(speech) / 1.25) < 600
    assert np.abs(faster).max() <= np.abs(speech).max()
