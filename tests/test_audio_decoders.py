"""Decoder noise and reasons (issue 12 item 10): a corrupt mp3 gives avs's one line only.

libsndfile decodes mp3 through libmpg123, which prints "Note: Illegal Audio-MPEG-Header"
lines straight to file descriptor 2; and libsndfile then reports "File does not exist",
which is wrong for a file that exists. Both are checked here at the file-descriptor level.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest

from avs.audio import load_audio
from avs.errors import AvsError
from cli_helpers import assert_one_error_line, run_cli


@pytest.fixture(scope="module")
def speech_mp3(tmp_path_factory: pytest.TempPathFactory, speech_path: Path) -> Path:
    import imageio_ffmpeg

    out = tmp_path_factory.mktemp("mp3") / "speech.mp3"
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-nostdin", "-loglevel", "error", "-i", str(speech_path),
                    "-t", "2", str(out)], check=True)
    return out


def _corrupt(source: Path, target: Path) -> Path:
    data = source.read_bytes()
    noise = np.random.default_rng(0).integers(0, 256, len(data) - 200, dtype=np.uint8).tobytes()
    target.write_bytes(data[:200] + noise)  # the ID3/Xing header survives, the frames do not
    return target


def test_corrupt_mp3_reason_and_no_decoder_noise(tmp_path: Path, speech_mp3: Path, capfd):
    bad = _corrupt(speech_mp3, tmp_path / "bad.mp3")
    with pytest.raises(AvsError) as info:
        load_audio(bad, 16000)
    message = str(info.value)
    assert "does not exist" not in message and "not a regular file" not in message, message
    assert "invalid data" in message.lower(), message
    err = capfd.readouterr().err
    assert "Illegal Audio-MPEG-Header" not in err and "Note:" not in err, err


def test_corrupt_mp3_cli_one_line(tmp_path: Path, speech_mp3: Path):
    _corrupt(speech_mp3, tmp_path / "bad.mp3")
    result = run_cli("predict", "s2g", "bad.mp3", "--out", "o.mp4", cwd=tmp_path)
    assert_one_error_line(result, "bad.mp3 is not a readable audio file")
    assert not (tmp_path / "o.mp4").exists()


def test_cut_mp3_decodes_quietly(tmp_path: Path, speech_mp3: Path, capfd):
    """An mp3 cut short decodes up to its end; mpg123's 'Xing stream size' warning is not shown."""
    cut = tmp_path / "cut.mp3"
    cut.write_bytes(speech_mp3.read_bytes()[:6000])
    audio = load_audio(cut, 16000)
    assert 0.1 * 16000 < audio.size < 2.0 * 16000
    assert capfd.readouterr().err == ""


def test_stderr_restored_after_decoding(tmp_path: Path, speech_mp3: Path, capfd):
    import os

    load_audio(speech_mp3, 16000)
    os.write(2, b"still here\n")
    assert "still here" in capfd.readouterr().err
