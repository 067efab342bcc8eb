"""avs.audio: loading any audio file, the Speech2Gesture log-mel front-end, WAV writing."""

from __future__ import annotations

import struct
import subprocess
from pathlib import Path

import imageio_ffmpeg
import librosa
import numpy as np
import pytest
import soundfile as sf

from avs.audio import load_audio, log_mel, mel_filterbank, write_wav
from avs.errors import AvsError

SAMPLE = Path(__file__).resolve().parents[1] / "examples" / "librivox_0870.wav"  # bundled LibriVox speech
SR = 16000


@pytest.fixture(scope="module")
def speech() -> np.ndarray:
    if not SAMPLE.exists():
        pytest.skip(f"speech sample {SAMPLE} not available")
    data, rate = sf.read(SAMPLE, dtype="float32")
    assert rate == SR and data.ndim == 1
    return data


def _best_correlation(a: np.ndarray, b: np.ndarray, max_lag: int = 64) -> float:
    """Largest Pearson correlation of a and b over small time shifts (codec delays)."""
    n = min(len(a), len(b)) - 2 * max_lag
    ref = b[max_lag : max_lag + n]
    return max(float(np.corrcoef(a[max_lag + lag : max_lag + lag + n], ref)[0, 1])
               for lag in range(-max_lag, max_lag + 1, 4))


def _write_mp3(path: Path, data: np.ndarray, rate: int) -> None:
    try:
        sf.write(path, data, rate, format="MP3")
    except (sf.LibsndfileError, TypeError, ValueError):  # libsndfile built without MP3
        wav = path.with_suffix(".src.wav")
        sf.write(wav, data, rate)
        subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-y", "-v", "error", "-i", str(wav), str(path)],
                       check=True)


def test_reads_wav_at_native_rate(speech):
    out = load_audio(SAMPLE, SR)
    assert out.dtype == np.float32 and out.ndim == 1
    np.testing.assert_array_equal(out, speech)


@pytest.mark.parametrize(
    ("fmt", "rate", "channels"),
    [
        ("wav", 8000, 1),
        ("wav", 44100, 2),
        ("flac", 22050, 1),
        ("flac", 48000, 2),
        ("ogg", 44100, 1),
        ("mp3", 22050, 2),
        ("mp3", 48000, 1),
    ],
)
def test_formats_rates_and_stereo(tmp_path, speech, fmt, rate, channels):
    src = librosa.resample(speech, orig_sr=SR, target_sr=rate)
    if channels == 2:  # an attenuated copy on the right: the mean must be taken
        src = np.stack([src, 0.5 * src], axis=1)
    path = tmp_path / f"speech.{fmt}"
    if fmt == "mp3":
        _write_mp3(path, src, rate)
    else:
        sf.write(path, src, rate)

    out = load_audio(path, SR)
    assert out.dtype == np.float32 and out.ndim == 1
    # length within a codec frame of the original's at 16 kHz
    assert abs(len(out) - len(speech)) <= (1200 if fmt == "mp3" else 2)
    expected = speech * (0.75 if channels == 2 else 1.0)
    # level preserved (mono mixdown is the mean, not the sum)
    assert np.std(out) == pytest.approx(np.std(expected), rel=0.1)
    threshold = 0.97 if fmt in ("wav", "flac") and rate >= SR else 0.9
    assert _best_correlation(out, expected) > threshold


def test_falls_back_to_ffmpeg_for_formats_libsndfile_cannot_read(tmp_path, speech):
    wav = tmp_path / "src.wav"
    sf.write(wav, speech, SR)
    m4a = tmp_path / "speech.m4a"
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-y", "-v", "error", "-i", str(wav), "-ar", "44100",
                    "-c:a", "aac", str(m4a)], check=True)
    out = load_audio(m4a, SR)
    assert out.dtype == np.float32
    assert abs(len(out) - len(speech)) < 2048
    assert _best_correlation(out, speech, max_lag=1100) > 0.9


def test_silence_is_valid(tmp_path):
    path = tmp_path / "silence.wav"
    sf.write(path, np.zeros(SR, dtype=np.float32), SR, subtype="PCM_16")
    out = load_audio(path, 22050)
    assert out.shape == (22050,)
    assert not out.any()


def test_missing_file(tmp_path):
    with pytest.raises(AvsError, match="not found"):
        load_audio(tmp_path / "nonexistent" / "voice.wav", SR)


def test_directory(tmp_path):
    with pytest.raises(AvsError, match="directory"):
        load_audio(tmp_path, SR)


def test_empty_file(tmp_path):
    path = tmp_path / "empty.wav"
    path.touch()
    with pytest.raises(AvsError, match="empty"):
        load_audio(path, SR)


def test_text_file_named_wav(tmp_path):
    path = tmp_path / "notes.wav"
    path.write_text("this is not audio\n" * 20)
    with pytest.raises(AvsError, match="not a readable audio file") as info:
        load_audio(path, SR)
    assert "\n" not in str(info.value)


def test_truncated_wav_is_detected(tmp_path, speech):
    full = tmp_path / "full.wav"
    sf.write(full, speech, SR, subtype="PCM_16")
    cut = tmp_path / "cut.wav"
    cut.write_bytes(full.read_bytes()[: full.stat().st_size // 2])
    assert sf.info(cut).frames > 0  # libsndfile alone would read the first half silently
    with pytest.raises(AvsError, match="truncated"):
        load_audio(cut, SR)


def test_truncated_data_chunk_only(tmp_path, speech):
    """RIFF size patched to the cut length: the data chunk still overruns the file."""
    full = tmp_path / "full.wav"
    sf.write(full, speech[:4000], SR, subtype="PCM_16")
    data = bytearray(full.read_bytes()[:-1000])
    data[4:8] = struct.pack("<I", len(data) - 8)
    cut = tmp_path / "cut.wav"
    cut.write_bytes(bytes(data))
    with pytest.raises(AvsError, match="data chunk"):
        load_audio(cut, SR)


def test_streamed_wav_with_unknown_sizes_is_accepted(tmp_path, speech):
    """Writers to a pipe put 0xFFFFFFFF where the sizes go; that is not truncation."""
    full = tmp_path / "full.wav"
    sf.write(full, speech, SR, subtype="PCM_16")
    data = bytearray(full.read_bytes())
    assert data[36:40] == b"data"
    data[4:8] = data[40:44] = struct.pack("<I", 0xFFFFFFFF)
    streamed = tmp_path / "streamed.wav"
    streamed.write_bytes(bytes(data))
    assert len(load_audio(streamed, SR)) == len(speech)


def test_zero_samples(tmp_path):
    path = tmp_path / "nothing.wav"
    sf.write(path, np.zeros(0, dtype=np.float32), SR)
    with pytest.raises(AvsError, match="no samples"):
        load_audio(path, SR)


def test_too_short(tmp_path):
    path = tmp_path / "blip.wav"
    sf.write(path, np.full(480, 0.1, dtype=np.float32), SR)  # 0.03 s
    with pytest.raises(AvsError, match=r"0\.030 s long, shorter than one frame \(0\.067 s\)"):
        load_audio(path, SR, min_duration=1 / 15, min_duration_name="one frame")
    assert len(load_audio(path, SR, min_duration=0.03)) == 480


def test_non_finite_samples(tmp_path):
    path = tmp_path / "nan.wav"
    data = np.zeros(1000, dtype=np.float32)
    data[10] = np.nan
    sf.write(path, data, SR, subtype="FLOAT")
    with pytest.raises(AvsError, match="NaN"):
        load_audio(path, SR)


def test_bad_sample_rate(tmp_path):
    with pytest.raises(AvsError, match="sample rate"):
        load_audio(SAMPLE, 0)


# --- log_mel -------------------------------------------------------------------------------------


def _reference_log_mel(y: np.ndarray) -> np.ndarray:
    """TensorFlow-style framing done by hand: frame t = samples [160 t, 160 t + 400)."""
    window = librosa.filters.get_window("hann", 400, fftbins=True)
    count = 1 + (len(y) - 400) // 160
    frames = np.stack([y[t * 160 : t * 160 + 400] * window for t in range(count)])
    magnitude = np.abs(np.fft.rfft(frames, n=512, axis=1))
    basis = librosa.filters.mel(sr=SR, n_fft=512, n_mels=64, fmin=125, fmax=7500, htk=True, norm=None)
    return np.log(magnitude @ basis.T + 1e-6)


def test_log_mel_shape_and_reference():
    y = np.random.default_rng(0).standard_normal(67267).astype(np.float32) * 0.1
    mel = log_mel(y)
    assert mel.shape == (418, 64)
    assert mel.dtype == np.float32
    assert np.isfinite(mel).all()
    np.testing.assert_allclose(mel, _reference_log_mel(y), atol=1e-4)


def _librosa_log_mel(y: np.ndarray) -> np.ndarray:
    """The front-end as it was written with librosa (stft of the window centred in the FFT frame)."""
    y = np.pad(y, (56, 56))
    spec = np.abs(librosa.stft(y, n_fft=512, hop_length=160, win_length=400, window="hann", center=False))
    basis = librosa.filters.mel(sr=SR, n_fft=512, n_mels=64, fmin=125, fmax=7500, htk=True, norm=None)
    return np.log((basis @ spec).T + 1e-6).astype(np.float32)


def test_log_mel_equals_the_librosa_front_end():
    """The numpy front-end gives librosa's features: within 1e-5 of librosa's framing, window and filters
    computed in float64; librosa.stft itself runs in float32, whose rounding moves near-silent bands."""
    rng = np.random.default_rng(1)
    for y in (rng.standard_normal(67267).astype(np.float32) * 0.1, np.zeros(5000, np.float32),
              (0.3 * np.sin(np.arange(20000) * 0.2)).astype(np.float32)):
        np.testing.assert_allclose(log_mel(y), _reference_log_mel(y), atol=1e-5, rtol=0)
        ours, theirs = np.exp(log_mel(y)), np.exp(_librosa_log_mel(y))
        np.testing.assert_allclose(ours, theirs, atol=1e-5 * theirs.max(), rtol=0)


@pytest.mark.parametrize(("sr", "n_fft", "n_mels", "fmin", "fmax"),
                         [(16000, 512, 64, 125.0, 7500.0), (16000, 512, 80, 55.0, 7500.0),
                          (22050, 1024, 128, 0.0, 11025.0)])
def test_mel_filterbank_is_librosas(sr, n_fft, n_mels, fmin, fmax):
    ours = mel_filterbank(sr, n_fft, n_mels, fmin, fmax)
    theirs = librosa.filters.mel(sr=sr, n_fft=n_fft, n_mels=n_mels, fmin=fmin, fmax=fmax, htk=True, norm=None)
    assert ours.shape == theirs.shape and ours.dtype == np.float32
    np.testing.assert_allclose(ours, theirs, atol=1e-6, rtol=0)


@pytest.mark.parametrize("length", [400, 559, 560, 16000, 16001])
def test_log_mel_frame_count(length):
    assert log_mel(np.zeros(length, dtype=np.float32)).shape == (1 + (length - 400) // 160, 64)


def test_log_mel_short_audio_is_padded_to_one_frame():
    mel = log_mel(np.full(100, 0.5, dtype=np.float32))
    assert mel.shape == (1, 64)
    assert np.isfinite(mel).all()


def test_log_mel_silence_is_log_eps():
    mel = log_mel(np.zeros(8000, dtype=np.float32))
    np.testing.assert_allclose(mel, np.log(1e-6), rtol=1e-6)


@pytest.mark.parametrize("freq", [300.0, 1000.0, 4000.0])
def test_log_mel_tone_lands_in_its_band(freq):
    t = np.arange(SR) / SR
    mel = log_mel((0.5 * np.sin(2 * np.pi * freq * t)).astype(np.float32))
    centres = librosa.mel_frequencies(n_mels=66, fmin=125.0, fmax=7500.0, htk=True)[1:-1]
    assert abs(int(np.argmax(mel.mean(axis=0))) - int(np.argmin(np.abs(centres - freq)))) <= 1


def test_log_mel_is_magnitude_not_power():
    y = np.random.default_rng(1).standard_normal(8000).astype(np.float32) * 0.1
    # doubling the amplitude adds log 2 to a magnitude spectrogram (log 4 to a power one)
    np.testing.assert_allclose(log_mel(2 * y) - log_mel(y), np.log(2), atol=1e-3)


def test_log_mel_rejects_bad_input():
    with pytest.raises(AvsError):
        log_mel(np.zeros(0, dtype=np.float32))
    with pytest.raises(AvsError):
        log_mel(np.zeros((100, 2), dtype=np.float32))
    with pytest.raises(AvsError):
        log_mel(np.array([0.0, np.nan] * 300, dtype=np.float32))


# --- write_wav -----------------------------------------------------------------------------------


def test_write_wav_round_trip_and_clipping(tmp_path):
    y = np.sin(np.linspace(0, 100, 4000)).astype(np.float32) * 0.5
    y[0] = 3.0  # clipped, not wrapped around
    path = write_wav(tmp_path / "sub" / "out.wav", y, 22050)
    info = sf.info(path)
    assert (info.samplerate, info.channels, info.subtype) == (22050, 1, "PCM_16")
    back, _ = sf.read(path, dtype="float32")
    assert back[0] == pytest.approx(1.0, abs=1e-4)
    np.testing.assert_allclose(back[1:], y[1:], atol=1 / 32767 + 1e-6)
    assert [p.name for p in path.parent.iterdir()] == ["out.wav"]  # no temporary left


def test_write_wav_bad_input_writes_nothing(tmp_path):
    with pytest.raises(AvsError):
        write_wav(tmp_path / "a.wav", np.array([0.0, np.inf]), SR)
    with pytest.raises(AvsError):
        write_wav(tmp_path / "b.wav", np.zeros(10), 0)
    assert list(tmp_path.iterdir()) == []


def test_write_wav_in_blocks_equals_one_write(tmp_path):
    """Long tracks are written block by block (flat memory): same bytes as libsndfile writing it at once."""
    from avs.audio import _WAV_BLOCK

    rng = np.random.default_rng(0)
    y = rng.uniform(-1.3, 1.3, (2 * _WAV_BLOCK + 123, 2)).astype(np.float32)
    ours = write_wav(tmp_path / "ours.wav", y, SR)
    sf.write(tmp_path / "ref.wav", np.clip(y, -1, 1), SR, subtype="PCM_16", format="WAV")
    assert ours.read_bytes() == (tmp_path / "ref.wav").read_bytes()
    y[-1, 0] = np.nan  # in the last block: still refused before anything is written
    with pytest.raises(AvsError, match="NaN"):
        write_wav(tmp_path / "bad.wav", y, SR)
    assert not (tmp_path / "bad.wav").exists()


def test_mono_audio_checks_an_in_memory_signal():
    from avs.audio import mono_audio

    out = mono_audio(np.array([0, 1, -1], dtype=np.int16))
    assert out.dtype == np.float32 and out.shape == (3,)
    with pytest.raises(AvsError, match=r"shape \(N,\)"):
        mono_audio(np.zeros((2, 10), np.float32))
    with pytest.raises(AvsError, match="NaN or infinite"):
        mono_audio(np.array([0.0, np.inf], np.float32))
