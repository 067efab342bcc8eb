"""Shared mechanics of the synthetic data sets (``avs data synth <plugin>``).

Each plugin owns its *mapping* from speech to motion (the synthetic ground truth, documented in
its own ``synth.py``); what they share lives here: the bundled real speech, the audio
augmentations that turn two recordings into many, and writing a data set atomically.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from avs.errors import AvsError

SPEECH_DIR = Path(__file__).resolve().parent / "data" / "speech"
"""The bundled real speech (public-domain LibriVox, 16 kHz mono), package data of ``avs``
(``examples/`` in a source checkout points here)."""
EXAMPLES_DIR = SPEECH_DIR  # the name before the speech became package data


def default_speech_sources() -> list[Path]:
    """Every bundled speech ``.wav`` (package data ``avs/data/speech``), sorted by name."""
    return sorted(SPEECH_DIR.glob("*.wav")) if SPEECH_DIR.is_dir() else []


def bundled_speech(name: str = "librivox_0870") -> Path:
    """One bundled recording by stem: ``librivox_0870`` (7.1 s) or ``librivox_0890`` (5.3 s).

    Raises:
        AvsError: no bundled recording of that name.
    """
    path = SPEECH_DIR / f"{name}.wav"
    if not path.is_file():
        names = ", ".join(p.stem for p in default_speech_sources()) or "none"
        raise AvsError(f"no bundled speech {name!r} (bundled: {names})")
    return path


def load_speech_sources(sources: Sequence[str | Path] | None, sample_rate: int,
                        min_seconds: float) -> dict[Path, np.ndarray]:
    """Load the recordings a synthetic set is built from.

    Args:
        sources: audio files (any format :func:`avs.audio.load_audio` reads); None = the bundled speech.
        sample_rate: the method's rate in Hz.
        min_seconds: the shortest recording the set can use.

    Returns:
        path → (N,) float32 mono audio, in sorted path order.

    Raises:
        AvsError: no recordings; one unreadable or shorter than ``min_seconds``.
    """
    from avs.audio import load_audio

    paths = sorted(Path(s) for s in (sources if sources is not None else default_speech_sources()))
    if not paths:
        raise AvsError(f"no speech recordings to build from: {SPEECH_DIR} has no .wav files")
    audios = {}
    for path in paths:
        audios[path] = load_audio(path, sample_rate)
        if audios[path].size < round(min_seconds * sample_rate):
            raise AvsError(f"{path} is too short: synthesis needs at least {min_seconds:.1f} s of speech "
                           "per recording")
    return audios


@dataclass(frozen=True)
class SpeechAugmentation:
    """One audio variant: time-stretch ``rate`` (>1 faster), pitch shift in semitones, gain in dB,
    added white noise at ``snr_db`` (None: no noise). librosa's ``effects`` do the work."""

    rate: float = 1.0
    semitones: float = 0.0
    gain_db: float = 0.0
    snr_db: float | None = None

    def apply(self, audio: np.ndarray, rng: np.random.Generator, sample_rate: int = 16000) -> np.ndarray:
        """(N,) float32 → (M,) float32 augmented (M ≈ N / rate), clipped to [-1, 1]."""
        import librosa

        y = np.asarray(audio, dtype=np.float32)
        if self.rate != 1.0:
            y = librosa.effects.time_stretch(y, rate=self.rate)
        if self.semitones != 0.0:
            y = librosa.effects.pitch_shift(y, sr=sample_rate, n_steps=self.semitones)
        y = y * np.float32(10.0 ** (self.gain_db / 20.0))
        if self.snr_db is not None:
            rms = float(np.sqrt(np.mean(y.astype(np.float64) ** 2)))
            y = y + rng.normal(0.0, rms * 10.0 ** (-self.snr_db / 20.0), y.shape).astype(np.float32)
        return np.clip(y, -1.0, 1.0).astype(np.float32)


def random_augmentation(rng: np.random.Generator) -> SpeechAugmentation:
    """Rate 0.85–1.15, ±3 semitones, −6…+4 dB, noise at 25–45 dB SNR."""
    return SpeechAugmentation(rate=float(rng.uniform(0.85, 1.15)), semitones=float(rng.uniform(-3.0, 3.0)),
                              gain_db=float(rng.uniform(-6.0, 4.0)), snr_db=float(rng.uniform(25.0, 45.0)))


@contextlib.contextmanager
def staged_directory(root: str | Path) -> Iterator[Path]:
    """Yield an empty temporary folder beside ``root``; rename it onto ``root`` on success.

    A failure (or Ctrl-C) removes the temporary folder, so a half-written data set never appears.

    Raises:
        AvsError: ``root`` is a file or a non-empty folder.
    """
    root = Path(root)
    if root.exists() and (not root.is_dir() or any(root.iterdir())):
        raise AvsError(f"{root} already exists and is not an empty folder; choose a new path")
    root.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{root.name}.", dir=root.parent))
    try:
        yield tmp
        if root.exists():
            root.rmdir()  # empty, checked above
        os.replace(tmp, root)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
