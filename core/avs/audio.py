"""The audio front-end: any audio file → float32 mono at a method's sample rate → features.

Audio enters the toolkit once, through :func:`load_audio`. Decoding goes through
soundfile (libsndfile: wav, flac, ogg/vorbis/opus, mp3 and more), then ``librosa.load``
for what libsndfile cannot read, then, as a last resort, the ffmpeg executable bundled
with imageio-ffmpeg (m4a/aac, webm, the sound track of a video file). Sample-rate
conversion is librosa's (soxr, high quality).

:func:`log_mel` is the Speech2Gesture front-end (Ginosar et al., "Learning Individual
Styles of Conversational Gesture", CVPR 2019; reference implementation
``amirbar/speech2gesture``, ``common/audio_repr.py``).
"""

from __future__ import annotations

import contextlib
import os
import struct
import subprocess
import sys
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import soundfile as sf

from avs.errors import AvsError
from avs.io import atomic_path

__all__ = ["load_audio", "log_mel", "mel_filterbank", "mono_audio", "write_wav"]

# RIFF chunk sizes that streaming writers (ffmpeg to a pipe, sox -) put in place of a
# size they did not know; a file carrying them is not "truncated".
_UNKNOWN_SIZES = (0, 0xFFFFFFFF)


def load_audio(
    path: str | os.PathLike[str],
    sample_rate: int,
    min_duration: float = 0.0,
    *,
    min_duration_name: str = "the minimum",
) -> np.ndarray:
    """Read an audio file as mono float32 samples at ``sample_rate``.

    Any format libsndfile reads (wav, flac, ogg, mp3, aiff, ...) takes the fast path
    through soundfile; anything else goes to ``librosa.load`` and then to the ffmpeg
    bundled with imageio-ffmpeg (m4a, aac, webm, video files). Several channels are
    averaged to one; the sample rate is converted with librosa (soxr, ``soxr_hq``).
    Silence is valid input and comes back as zeros.

    Args:
        path: the audio file.
        sample_rate: wanted rate in Hz (e.g. 16000).
        min_duration: shortest acceptable length in seconds (e.g. one video frame).
        min_duration_name: what ``min_duration`` is, for the error message
            (e.g. ``"one frame"``).

    Returns:
        (N,) float32 samples in [-1, 1] at ``sample_rate`` Hz,
        ``N ≈ duration_s * sample_rate``.

    Raises:
        AvsError: (one line) the file is missing, a directory, unreadable, empty, not audio, a
            truncated WAV (its RIFF or data chunk claims more bytes than the file holds),
            holds no samples or non-finite samples, or is shorter than ``min_duration``;
            or ``sample_rate`` is not positive.
    """
    if int(sample_rate) != sample_rate or sample_rate <= 0:
        raise AvsError(f"invalid sample rate {sample_rate!r}: expected a positive integer in Hz")
    sample_rate = int(sample_rate)
    path = Path(path)
    if not path.exists():
        raise AvsError(f"audio file not found: {path}")
    if path.is_dir():
        raise AvsError(f"expected an audio file but {path} is a directory")
    if not os.access(path, os.R_OK):
        raise AvsError(f"cannot read audio file {path}: permission denied")
    size = path.stat().st_size
    if size == 0:
        raise AvsError(f"audio file {path} is empty (0 bytes)")
    _check_riff(path, size)

    samples, native_rate = _decode(path)
    if samples.size == 0 or samples.shape[0] == 0:
        raise AvsError(f"audio file {path} contains no samples")
    if not np.isfinite(samples).all():
        raise AvsError(f"audio file {path} contains NaN or infinite samples")
    duration = samples.shape[0] / native_rate
    if duration < min_duration:
        raise AvsError(
            f"audio {path.name} is {duration:.3f} s long, shorter than {min_duration_name} "
            f"({min_duration:.3f} s)"
        )

    mono = samples.mean(axis=1, dtype=np.float32) if samples.ndim == 2 else samples
    mono = np.ascontiguousarray(mono, dtype=np.float32)
    if native_rate != sample_rate:
        import librosa

        mono = librosa.resample(mono, orig_sr=native_rate, target_sr=sample_rate, res_type="soxr_hq")
    return np.ascontiguousarray(mono, dtype=np.float32)


def mono_audio(audio: np.ndarray) -> np.ndarray:
    """An in-memory signal checked for a method's front-end: (N,) float32 mono, every sample finite.

    Args:
        audio: (N,) samples at the method's rate (any float or int dtype; converted to float32).

    Returns:
        (N,) float32 (the input itself when it already is one).

    Raises:
        AvsError: not 1-D, or a NaN or infinite sample.
    """
    audio = np.asarray(audio, dtype=np.float32)
    if audio.ndim != 1:
        raise AvsError(f"expected mono audio of shape (N,), got shape {audio.shape}")
    if not np.isfinite(audio).all():
        raise AvsError("audio contains NaN or infinite samples")
    return audio


def _check_riff(path: Path, size: int) -> None:
    """Raise AvsError if ``path`` is a RIFF/WAVE file whose chunk sizes overrun the file.

    libsndfile reads such a file up to where it ends and says nothing; a WAV cut short by
    an interrupted copy or download would then pass silently as a shorter clip.
    """
    with open(path, "rb") as fh:
        header = fh.read(12)
        if len(header) < 12 or header[:4] != b"RIFF" or header[8:12] != b"WAVE":
            return  # not a little-endian RIFF/WAVE file (RF64, RIFX, others: libsndfile checks)
        (riff_size,) = struct.unpack("<I", header[4:8])
        # Allow one byte of slack: writers differ on counting the final pad byte.
        if riff_size not in _UNKNOWN_SIZES and 8 + riff_size > size + 1:
            raise AvsError(
                f"audio file {path} is a truncated WAV: its header promises {8 + riff_size} bytes "
                f"but the file has {size}"
            )
        offset = 12
        while offset + 8 <= size:
            fh.seek(offset)
            chunk_id, chunk_size = struct.unpack("<4sI", fh.read(8))
            if chunk_id == b"data":
                available = size - offset - 8
                if chunk_size not in _UNKNOWN_SIZES and chunk_size > available + 1:
                    raise AvsError(
                        f"audio file {path} is a truncated WAV: its data chunk promises {chunk_size} "
                        f"bytes but only {available} are there"
                    )
                return
            offset += 8 + chunk_size + (chunk_size & 1)


def _decode(path: Path) -> tuple[np.ndarray, int]:
    """Decode ``path`` to ((N,) or (N, C) float32 samples, native rate in Hz).

    The C decoders behind soundfile (libsndfile's libmpg123 prints "Note: Illegal
    Audio-MPEG-Header ..." for a corrupt mp3) write to the process's stderr; that text is
    captured while they run and only used to explain a failure.

    Raises:
        AvsError: no decoder reads the file; the reason is the most specific one found
            (libsndfile's, else ffmpeg's, plus the decoder's own note).
    """
    notes: list[str] = []
    with _captured_stderr(notes):
        try:
            data, rate = sf.read(str(path), dtype="float32", always_2d=False)
            return data, int(rate)
        except (sf.LibsndfileError, RuntimeError, TypeError, ValueError) as err:
            sf_error = err
        try:
            return _decode_librosa(path)
        except Exception:  # any decoder failure means "try the next one"
            pass
    try:
        return _decode_ffmpeg(path)
    except _FfmpegDecodeError as err:
        ffmpeg_reason = str(err)
    raise AvsError(f"{path} is not a readable audio file ({_failure_reason(sf_error, ffmpeg_reason, notes)})")


# libsndfile's message when a codec library (libmpg123) rejects a file that does exist.
_MISLEADING = ("does not exist", "not a regular file")


def _failure_reason(sf_error: Exception, ffmpeg_reason: str, notes: list[str]) -> str:
    """The most specific one-line reason why no decoder read a file."""
    reason = str(sf_error).split(":")[-1].strip().rstrip(".") or type(sf_error).__name__
    if any(text in reason for text in _MISLEADING) or "unknown format" in reason.lower():
        reason = ffmpeg_reason or "unknown format"
    decoder = next((line.strip() for line in notes if "Illegal" in line or "error" in line.lower()), "")
    if decoder:
        decoder = decoder.removeprefix("Note:").strip().rstrip(".")
        reason = f"{reason}; decoder: {decoder}"
    return reason


@contextlib.contextmanager
def _captured_stderr(lines: list[str]) -> Iterator[None]:
    """Point file descriptor 2 at a temporary file while C libraries run; append its lines to ``lines``.

    Python-level ``sys.stderr`` writes in between are captured too. When fd 2 cannot be
    duplicated (closed, exotic embedding) the block runs with stderr untouched.
    """
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError, AttributeError):
        yield
        return
    with tempfile.TemporaryFile() as sink:
        os.dup2(sink.fileno(), 2)
        try:
            yield
        finally:
            with contextlib.suppress(OSError, ValueError, AttributeError):
                sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            sink.seek(0)
            lines.extend(sink.read().decode("utf-8", errors="replace").splitlines())


def _decode_librosa(path: Path) -> tuple[np.ndarray, int]:
    import librosa

    with _quiet():
        data, rate = librosa.load(str(path), sr=None, mono=False, dtype=np.float32)
    data = np.asarray(data, dtype=np.float32)
    if data.ndim == 2:  # librosa returns (C, N)
        data = data.T
    return data, int(rate)


class _FfmpegDecodeError(Exception):
    pass


def _decode_ffmpeg(path: Path) -> tuple[np.ndarray, int]:
    """Decode the first audio stream with the bundled ffmpeg to mono float32 at its own rate."""
    import imageio_ffmpeg

    exe = imageio_ffmpeg.get_ffmpeg_exe()
    # The stream's native rate, so that resampling stays librosa's job.
    probe = subprocess.run(
        [exe, "-hide_banner", "-nostdin", "-i", str(path)], capture_output=True, text=True, errors="replace"
    )
    rate = None
    for line in probe.stderr.splitlines():
        if "Audio:" in line:
            for part in line.split(","):
                part = part.strip()
                if part.endswith(" Hz") and part[:-3].strip().isdigit():
                    rate = int(part[:-3])
                    break
            break
    if rate is None:
        raise _FfmpegDecodeError(_ffmpeg_error(probe.stderr))
    result = subprocess.run(
        [exe, "-hide_banner", "-nostdin", "-v", "error", "-i", str(path), "-map", "0:a:0",
         "-ac", "1", "-f", "f32le", "-acodec", "pcm_f32le", "pipe:1"],
        capture_output=True,
    )
    if result.returncode != 0:
        raise _FfmpegDecodeError(_ffmpeg_error(result.stderr.decode("utf-8", errors="replace")))
    return np.frombuffer(result.stdout, dtype="<f4").astype(np.float32), rate


def _ffmpeg_error(stderr: str) -> str:
    """ffmpeg's own reason (its last error line, without the ``[in#0 @ 0x...]`` prefix)."""
    for line in reversed(stderr.splitlines()):
        line = line.strip()
        if ":" in line and ("rror" in line or "nvalid" in line):
            reason = line.rsplit(": ", 1)[-1].strip().rstrip(".")
            return reason[:1].lower() + reason[1:]
    if "Audio:" not in stderr:
        return "no audio stream found"
    return ""


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Silence librosa's and audioread's deprecation and fallback warnings."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def log_mel(
    audio: np.ndarray,
    sample_rate: int = 16000,
    n_fft: int = 512,
    win_length: int = 400,
    hop_length: int = 160,
    n_mels: int = 64,
    fmin: float = 125.0,
    fmax: float = 7500.0,
    eps: float = 1e-6,
) -> np.ndarray:
    """Log-mel spectrogram, the Speech2Gesture audio front-end.

    Source: Ginosar et al. 2019, reference ``amirbar/speech2gesture`` ``common/audio_repr.py``
    (``tf.contrib.signal.stft(frame_length=400, frame_step=160, fft_length=512)``, ``tf.abs``,
    a 64-band 125-7500 Hz mel matrix, ``log(x + 1e-6)``). Here: STFT *magnitude* (power 1)
    with a periodic Hann window of ``win_length`` samples zero-padded to ``n_fft``, hop
    ``hop_length``, no centering (frame ``t`` covers samples ``[t*hop, t*hop + win_length)``),
    an HTK-scale mel filterbank without area normalisation
    (``librosa.filters.mel(htk=True, norm=None)``, which follows TensorFlow's
    ``linear_to_mel_weight_matrix`` closely but not bit for bit), then ``log(x + eps)``.

    Audio shorter than one window is zero-padded at the end to ``win_length`` samples, so
    any non-empty clip gives at least one frame.

    Args:
        audio: (N,) float samples at ``sample_rate`` Hz.
        sample_rate: Hz.
        n_fft: FFT size in samples.
        win_length: analysis window in samples (400 = 25 ms at 16 kHz).
        hop_length: hop in samples (160 = 10 ms at 16 kHz, i.e. 100 frames/s).
        n_mels: number of mel bands.
        fmin, fmax: band edges in Hz.
        eps: added before the logarithm.

    Returns:
        (T, n_mels) float32 natural-log mel magnitudes, ``T = 1 + (max(N, win_length) -
        win_length) // hop_length`` frames at ``sample_rate / hop_length`` frames/s
        (67267 samples → 418 frames with the defaults).

    Raises:
        AvsError: ``audio`` is empty, not one-dimensional or not finite, or the
            parameters are inconsistent (``win_length > n_fft``, ``fmax`` above Nyquist).
    """
    y = np.asarray(audio, dtype=np.float32)
    if y.ndim != 1:
        raise AvsError(f"log_mel expects mono audio of shape (N,), got shape {y.shape}")
    if y.size == 0:
        raise AvsError("log_mel got empty audio (0 samples)")
    if not np.isfinite(y).all():
        raise AvsError("log_mel got audio with NaN or infinite samples")
    if not 0 < win_length <= n_fft or hop_length <= 0:
        raise AvsError(
            f"invalid STFT settings: win_length={win_length}, n_fft={n_fft}, hop_length={hop_length}"
        )
    if not 0 <= fmin < fmax <= sample_rate / 2:
        raise AvsError(f"invalid mel band edges {fmin}-{fmax} Hz for a {sample_rate} Hz sample rate")
    if y.size < win_length:
        y = np.pad(y, (0, win_length - y.size))
    # Frame t is samples [t*hop, t*hop + win_length) (TensorFlow's framing, no centring), windowed
    # and zero-padded to n_fft: the magnitude of librosa.stft(center=False) on the same frames
    # (where the window sits inside the FFT frame changes only the phase). numpy's FFT, because
    # librosa's first call costs ~1.5 s of CPU on a cold start (tests: equal to librosa within 1e-5).
    frames = np.lib.stride_tricks.sliding_window_view(y, win_length)[::hop_length]  # (T, win_length)
    # In float64: librosa's float32 FFT rounds near-silent bands by up to ~3e-4 in the log.
    spec = np.abs(np.fft.rfft(frames * _periodic_hann(win_length), n=n_fft, axis=-1))  # (T, 1 + n_fft // 2)
    mel_basis = mel_filterbank(sample_rate, n_fft, n_mels, fmin, fmax)  # (n_mels, 1 + n_fft // 2)
    mel = spec @ mel_basis.T.astype(np.float64)  # (T, n_mels)
    return np.log(mel + eps).astype(np.float32)


def _periodic_hann(length: int) -> np.ndarray:
    """(length,) float64 periodic Hann window, ``scipy.signal.get_window("hann", length)``."""
    return 0.5 - 0.5 * np.cos(2.0 * np.pi * np.arange(length) / length)


def mel_filterbank(sample_rate: int, n_fft: int, n_mels: int, fmin: float, fmax: float) -> np.ndarray:
    """HTK-scale triangular mel filters without area normalisation (``librosa.filters.mel(htk=True, norm=None)``).

    The same construction as librosa's (band edges equally spaced on the HTK mel scale
    ``2595·log10(1 + f/700)``, triangles over the ``np.fft.rfftfreq`` bins), written out in numpy
    so that the predict path does not pay for importing librosa's filters (~1.5 s of CPU cold);
    a test checks it against librosa to 1e-6.

    Args:
        sample_rate: Hz.
        n_fft: FFT size in samples.
        n_mels: number of bands.
        fmin, fmax: band edges in Hz.

    Returns:
        (n_mels, 1 + n_fft // 2) float32 weights.
    """
    def hz_to_mel(f: np.ndarray) -> np.ndarray:
        return 2595.0 * np.log10(1.0 + f / 700.0)

    def mel_to_hz(m: np.ndarray) -> np.ndarray:
        return 700.0 * (10.0 ** (m / 2595.0) - 1.0)

    fft_freqs = np.fft.rfftfreq(n=n_fft, d=1.0 / sample_rate)
    edges = mel_to_hz(np.linspace(hz_to_mel(np.float64(fmin)), hz_to_mel(np.float64(fmax)), n_mels + 2))
    widths = np.diff(edges)
    ramps = edges[:, None] - fft_freqs[None, :]
    lower = -ramps[:-2] / widths[:-1, None]
    upper = ramps[2:] / widths[1:, None]
    return np.maximum(0.0, np.minimum(lower, upper)).astype(np.float32)


def write_wav(path: str | os.PathLike[str], audio: np.ndarray, sample_rate: int) -> Path:
    """Write 16-bit PCM WAV atomically (a temporary file beside ``path``, then renamed).

    Args:
        path: target ``.wav`` file; parent directories are created.
        audio: (N,) mono or (N, C) float samples in [-1, 1]; values outside are clipped.
        sample_rate: Hz.

    Returns:
        ``path`` as a :class:`~pathlib.Path`.

    Raises:
        AvsError: ``audio`` has the wrong shape or non-finite values, or ``sample_rate`` is
            not positive. Nothing is written then.
    """
    data = np.asarray(audio)
    if data.ndim not in (1, 2) or data.shape[0] == 0:
        raise AvsError(f"write_wav expects (N,) or (N, C) samples with N > 0, got shape {data.shape}")
    if int(sample_rate) != sample_rate or sample_rate <= 0:
        raise AvsError(f"invalid sample rate {sample_rate!r}: expected a positive integer in Hz")
    floating = np.issubdtype(data.dtype, np.floating)
    if floating and not all(np.isfinite(data[a : a + _WAV_BLOCK]).all() for a in range(0, len(data), _WAV_BLOCK)):
        raise AvsError("write_wav got NaN or infinite samples")
    path = Path(path)
    channels = 1 if data.ndim == 1 else data.shape[1]
    with atomic_path(path, suffix=".wav") as tmp:
        # block by block: memory stays flat however long the sound track is
        with sf.SoundFile(str(tmp), "w", int(sample_rate), channels, subtype="PCM_16", format="WAV") as fh:
            for a in range(0, len(data), _WAV_BLOCK):
                block = data[a : a + _WAV_BLOCK]
                # libsndfile wraps around rather than clipping float → int overflows.
                fh.write(np.clip(block, -1.0, 1.0) if floating else block)
    return path


_WAV_BLOCK = 1 << 18
"""Samples :func:`write_wav` checks, clips and writes at once."""
