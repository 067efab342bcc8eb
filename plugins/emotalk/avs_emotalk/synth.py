"""A small, learnable EmoTalk data set from real speech (``avs data synth emotalk DIR``).

The speech is real: the LibriVox recordings in the repository's ``examples/`` folder, cut at quiet
points into short "statements". Everything else is synthetic and documented here:

- **emotions** are audio transforms (:data:`EMOTION_AUDIO`): a pitch shift (semitones), a tempo
  change (time-stretch rate), a vocal-effort spectral tilt (a gain on the content above 1 kHz), an
  energy gain, with ``librosa.effects`` and ``scipy.signal``, and a voice-quality resonance (a +9 dB
  peak at an emotion's own frequency, :data:`EMOTION_RESONANCE`) that makes the emotions separable
  from short clips; the *strong* intensity scales every deviation by 1.6;
- **persons** (actors) speak with their own pitch offset (:data:`PERSON_PITCH`) and carry a fixed
  blendshape offset (:func:`person_offsets`);
- **blendshapes** are a fixed function of the transformed audio (:func:`audio_to_blendshapes`): jaw and
  lip curves follow its loudness and spectral shape, plus per-emotion offsets and gains
  (:data:`EMOTION_FACE`) and the person's offsets; smoothed with Savitzky–Golay (5, 2) as 3D-ETF.

Files are written in the 3D-ETF-style layout that :mod:`avs_emotalk.data` reads, with RAVDESS names
``03-01-EE-II-SS-01-AA`` so that every statement exists in every emotion for every actor, which is
what the pairs of the objective need::

    DIR/train/wav/03-01-05-02-01-01-02.wav   16 kHz mono PCM
    DIR/train/npy/03-01-05-02-01-01-02.npy   (T, 52) float32, T = ceil(30 · duration)
    DIR/dev/...  DIR/test/...  DIR/README.txt

Splits: every recording is cut into statements; the second-to-last statement of each recording goes to
``dev``, the last to ``test``; ``train`` statements are overlapping 1.4 s windows (hop 0.35 s) over the
audio before them. Dev and test hear speech that training never heard (held-out audio), from the same
speakers and actors; with a single recording they have one statement each and so no content/emotion
pairs (self-only items). A model that learns the mapping beats the mean face on dev and test; it says
nothing about real faces.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from avs.api import AvsError, default_speech_sources, load_speech_sources, staged_directory, write_wav
from avs_emotalk.arkit import EMOTIONS, INDEX, NUM_BLENDSHAPES

"""The repository's ``examples/`` folder (this file is ``plugins/emotalk/avs_emotalk/synth.py``)."""
SAMPLE_RATE = 16000
FPS = 30.0
HOP = 160  # feature hop: 100 frames per second
REFERENCE_RMS_DB = -23.0
"""Every source recording is first scaled to this RMS level (dBFS)."""
SILENCE_DB = -60.0
"""Absolute level (dBFS) below which a frame counts as silent."""
STRONG = 1.6
"""Factor on every emotional deviation for the strong intensity (RAVDESS intensity 02)."""
STATEMENT_SECONDS = 1.4
"""Target length of a statement cut from a recording."""
TRAIN_HOP_SECONDS = 0.35
"""Hop between the starts of overlapping training statements."""

EMOTION_AUDIO: dict[str, tuple[float, float, float, float]] = {
    # emotion:  (pitch semitones, tempo rate, tilt dB above 1 kHz, gain dB); tilts 4 dB apart (vocal effort)
    "neutral": (0.0, 1.00, 0.0, 0.0),
    "calm": (-1.0, 0.88, -8.0, -4.0),
    "happy": (3.0, 1.10, 8.0, 3.0),
    "sad": (-3.0, 0.82, -12.0, -6.0),
    "angry": (1.5, 1.12, 16.0, 6.0),
    "fearful": (5.0, 1.22, 4.0, -2.0),
    "disgust": (-2.0, 0.92, -4.0, 1.0),
    "surprised": (4.0, 1.00, 12.0, 4.0),
}
"""The audio transform of each emotion at the normal intensity."""

EMOTION_RESONANCE: dict[str, float] = {
    "neutral": 0.0, "calm": 400.0, "happy": 2500.0, "sad": 650.0, "angry": 4000.0, "fearful": 1000.0,
    "disgust": 1600.0, "surprised": 6000.0,
}
"""Centre frequency (Hz) of each emotion's voice-quality resonance (0: none), Q 1.5."""
RESONANCE_DB = 9.0
"""Gain of the resonance at the normal intensity (× 1.6 when strong)."""

EMOTION_FACE: dict[str, tuple[float, dict[str, float]]] = {
    # emotion: (jaw gain, static blendshape offsets; "X" means XLeft and XRight)
    "neutral": (1.0, {}),
    "calm": (0.8, {"mouthSmile": 0.08, "eyeSquint": 0.10, "eyeBlink": 0.10}),
    "happy": (1.1, {"mouthSmile": 0.45, "cheekSquint": 0.35, "eyeSquint": 0.25, "mouthDimple": 0.15}),
    "sad": (0.7, {"mouthFrown": 0.40, "browInnerUp": 0.50, "eyeBlink": 0.15, "mouthShrugLower": 0.20,
                  "eyeLookDown": 0.15}),
    "angry": (1.3, {"browDown": 0.55, "noseSneer": 0.30, "eyeSquint": 0.20, "mouthPress": 0.20,
                    "jawForward": 0.10}),
    "fearful": (1.0, {"browInnerUp": 0.45, "browOuterUp": 0.25, "eyeWide": 0.50, "mouthStretch": 0.30}),
    "disgust": (0.9, {"noseSneer": 0.50, "mouthUpperUp": 0.35, "browDown": 0.25, "mouthFrown": 0.15,
                      "cheekSquint": 0.15}),
    "surprised": (1.35, {"browInnerUp": 0.50, "browOuterUp": 0.55, "eyeWide": 0.55, "jawOpen": 0.10}),
}
"""Per-emotion jaw gain and static offsets (normal intensity; strong: deviations × 1.6)."""

PERSON_PITCH = (0.0, -1.0, 1.0, -0.5, 0.5, -1.5, 1.5, 0.25)
"""Voice pitch offset in semitones of actors 1, 2, 3, ... (cycled)."""
PERSON_STYLE_CHANNELS = ("browInnerUp", "browOuterUpLeft", "cheekSquintLeft", "eyeSquintRight", "jawLeft",
                         "mouthLeft", "mouthRight", "mouthPressLeft", "mouthShrugUpper", "mouthSmileLeft",
                         "mouthSmileRight", "mouthRollLower")
"""Channels a person's fixed offsets are drawn from."""


def _both(name: str) -> list[str]:
    return [name] if name in INDEX else [name + "Left", name + "Right"]


def person_offsets(actor: int) -> np.ndarray:
    """(52,) float32 fixed blendshape offsets of an actor (1-based): 5 of :data:`PERSON_STYLE_CHANNELS`,
    each +0.05 to +0.15, drawn from a generator seeded with ``1000 + actor`` (independent of the set's seed)."""
    rng = np.random.default_rng(1000 + int(actor))
    out = np.zeros(NUM_BLENDSHAPES, np.float32)
    for name in rng.choice(PERSON_STYLE_CHANNELS, size=5, replace=False):
        out[INDEX[str(name)]] = rng.uniform(0.05, 0.15)
    return out


def scale_emotion(values: tuple[float, ...], neutral: tuple[float, ...], factor: float) -> tuple[float, ...]:
    """``neutral + factor · (values − neutral)`` element-wise (the strong intensity uses factor 1.6)."""
    return tuple(n + factor * (v - n) for v, n in zip(values, neutral, strict=True))


def apply_emotion(audio: np.ndarray, emotion: str, strong: bool, pitch_offset: float = 0.0,
                  jitter: tuple[float, float] = (0.0, 0.0)) -> np.ndarray:
    """Speak ``audio`` with an emotion: tempo change, pitch shift, spectral tilt, resonance, gain.

    Args:
        audio: (N,) float32 16 kHz speech at :data:`REFERENCE_RMS_DB`.
        emotion: one of :data:`EMOTION_AUDIO`.
        strong: the strong intensity (deviations × :data:`STRONG`).
        pitch_offset: the speaker's own offset in semitones, added to the emotion's.
        jitter: small per-clip variation (semitones, relative tempo).

    Returns:
        (M,) float32, M ≈ N / rate, clipped to [-1, 1].
    """
    import librosa
    from scipy.signal import butter, iirpeak, lfilter, sosfilt

    pitch, rate, tilt, gain = EMOTION_AUDIO[emotion]
    boost = RESONANCE_DB * (STRONG if strong else 1.0)
    if strong:
        pitch, rate, tilt, gain = scale_emotion((pitch, rate, tilt, gain), EMOTION_AUDIO["neutral"], STRONG)
    y = np.asarray(audio, np.float32)
    rate = rate * (1.0 + jitter[1])
    if abs(rate - 1.0) > 1e-6:
        y = librosa.effects.time_stretch(y, rate=rate)
    steps = pitch + pitch_offset + jitter[0]
    if abs(steps) > 1e-6:
        y = librosa.effects.pitch_shift(y, sr=SAMPLE_RATE, n_steps=steps, res_type="soxr_mq")
    if tilt:
        high = sosfilt(butter(2, 1000.0, btype="highpass", fs=SAMPLE_RATE, output="sos"), y)
        y = y + (10.0 ** (tilt / 20.0) - 1.0) * high
    if EMOTION_RESONANCE[emotion]:
        b, a = iirpeak(EMOTION_RESONANCE[emotion], 1.5, fs=SAMPLE_RATE)
        y = y + (10.0 ** (boost / 20.0) - 1.0) * lfilter(b, a, y)
    y = y * 10.0 ** (gain / 20.0)
    return np.clip(y, -1.0, 1.0).astype(np.float32)


def audio_features(audio: np.ndarray, num_frames: int) -> tuple[np.ndarray, np.ndarray]:
    """``loudness`` in [0, 1] and ``brightness`` in [−1, 1] per 30 fps frame (sampled at (i + 0.5)/30 s).

    - loudness: RMS level (25 ms windows, 10 ms hop) in dB relative to the clip's 95th percentile,
      mapped linearly from −30 dB → 0 to 0 dB → 1 and clipped (so a gain change alone does not move it),
      times an absolute gate rising from 0 at −60 dBFS to 1 at −45 dBFS (silence stays silent);
    - brightness: log2(spectral centroid / 1500 Hz), clipped to [−1, 1], times loudness (0 in silence).

    Both are smoothed with a Gaussian of σ = 20 ms before sampling.
    """
    import librosa
    from scipy.ndimage import gaussian_filter1d

    y = np.asarray(audio, np.float32)
    rms = librosa.feature.rms(y=y, frame_length=400, hop_length=HOP)[0]
    db = 20.0 * np.log10(rms + 1e-5)
    gate = np.clip((db - SILENCE_DB) / 15.0, 0.0, 1.0)  # 0 at -60 dBFS and below, 1 from -45 dBFS
    loud = np.clip((db - np.percentile(db, 95) + 30.0) / 30.0, 0.0, 1.0) * gate
    centroid = librosa.feature.spectral_centroid(y=y, sr=SAMPLE_RATE, n_fft=512, hop_length=HOP)[0]
    n = min(loud.size, centroid.size)
    loud, centroid = loud[:n], centroid[:n]
    bright = np.clip(np.log2(np.maximum(centroid, 1.0) / 1500.0), -1.0, 1.0) * loud
    t_feat = np.arange(n) * HOP / SAMPLE_RATE
    t_frame = (np.arange(num_frames) + 0.5) / FPS
    return (np.interp(t_frame, t_feat, gaussian_filter1d(loud, 2.0)),
            np.interp(t_frame, t_feat, gaussian_filter1d(bright, 2.0)))


def audio_to_blendshapes(audio: np.ndarray, emotion: str, strong: bool, actor: int) -> np.ndarray:
    """THE synthetic ground truth: emotional speech → (T, 52) ARKit weights at 30 fps.

    With loudness L and brightness R per frame (:func:`audio_features`), R+ = max(R, 0), R− = max(−R, 0)
    and the emotion's jaw gain g (:data:`EMOTION_FACE`; strong: 1 + 1.6 (g − 1)):

    - jawOpen = 0.5 · g · L^1.2; mouthLowerDownLeft/Right = 0.35 · L;
      mouthUpperUpLeft/Right = 0.15 · L · (1 + R+);
    - mouthFunnel = 0.4 · L · R−; mouthPucker = 0.35 · L · R−; mouthStretchLeft/Right = 0.3 · L · R+;
    - mouthClose = 0.15 · (1 − L); mouthRollLower/Upper = 0.1 · (1 − L);
    - plus the emotion's static offsets (× 1.6 when strong), angry brows lowering a further 0.2 · L and
      surprised outer brows rising a further 0.2 · L;
    - plus the actor's offsets (:func:`person_offsets`);
    - then Savitzky–Golay (window 5, order 2) per channel and clipping to [0, 1].

    T = ceil(30 · duration). Silence gives a closed mouth with the emotion's and person's expression.

    Returns:
        (T, 52) float32.
    """
    from scipy.signal import savgol_filter

    num_frames = max(1, math.ceil(audio.size / SAMPLE_RATE * FPS - 1e-6))
    loud, bright = audio_features(audio, num_frames)
    up, down = np.maximum(bright, 0.0), np.maximum(-bright, 0.0)
    jaw_gain, offsets = EMOTION_FACE[emotion]
    factor = STRONG if strong else 1.0
    jaw_gain = 1.0 + factor * (jaw_gain - 1.0)
    bs = np.zeros((num_frames, NUM_BLENDSHAPES))

    def add(name: str, value: Any) -> None:
        for n in _both(name):
            bs[:, INDEX[n]] += value

    add("jawOpen", 0.5 * jaw_gain * loud**1.2)
    add("mouthLowerDown", 0.35 * loud)
    add("mouthUpperUp", 0.15 * loud * (1.0 + up))
    add("mouthFunnel", 0.4 * loud * down)
    add("mouthPucker", 0.35 * loud * down)
    add("mouthStretch", 0.3 * loud * up)
    add("mouthClose", 0.15 * (1.0 - loud))
    add("mouthRollLower", 0.1 * (1.0 - loud))
    add("mouthRollUpper", 0.1 * (1.0 - loud))
    for name, value in offsets.items():
        add(name, factor * value)
    if emotion == "angry":
        add("browDown", 0.2 * loud)
    if emotion == "surprised":
        add("browOuterUp", 0.2 * loud)
    bs += person_offsets(actor)[None]
    if num_frames >= 5:
        bs = savgol_filter(bs, 5, 2, axis=0)
    return np.clip(bs, 0.0, 1.0).astype(np.float32)


def cut_statements(audio: np.ndarray, pieces: int) -> list[np.ndarray]:
    """Cut a recording into ``pieces`` statements at its quietest points near equal divisions.

    Each boundary is the minimum of the 25 ms RMS level within ±0.35 s of the equal division.
    """
    import librosa

    rms = librosa.feature.rms(y=audio, frame_length=400, hop_length=HOP)[0]
    cuts = [0]
    for k in range(1, pieces):
        centre = int(round(k * rms.size / pieces))
        lo, hi = max(1, centre - 35), min(rms.size - 1, centre + 35)
        cuts.append((lo + int(np.argmin(rms[lo:hi]))) * HOP)
    cuts.append(audio.size)
    return [audio[a:b] for a, b in zip(cuts[:-1], cuts[1:], strict=True)]


def _scaled(audio: np.ndarray) -> np.ndarray:
    rms = float(np.sqrt(np.mean(audio.astype(np.float64) ** 2))) + 1e-9
    return (audio * (10.0 ** (REFERENCE_RMS_DB / 20.0) / rms)).astype(np.float32)


def plan_statements(sources: list[Path] | None) -> dict[str, list[np.ndarray]]:
    """The statements of each split (module docstring).

    Every recording is cut at quiet points into pieces of about :data:`STATEMENT_SECONDS`; its
    second-to-last piece goes to ``dev`` and its last to ``test``. The audio before them gives the
    ``train`` statements: windows of :data:`STATEMENT_SECONDS` every :data:`TRAIN_HOP_SECONDS` (they
    overlap, so training hears each word in several contexts; none reaches into dev or test audio).

    Raises:
        AvsError: no recordings, or one shorter than 4 s (it must give at least 3 pieces).
    """
    splits: dict[str, list[np.ndarray]] = {"train": [], "dev": [], "test": []}
    width, hop = int(STATEMENT_SECONDS * SAMPLE_RATE), int(TRAIN_HOP_SECONDS * SAMPLE_RATE)
    for y in load_speech_sources(sources, SAMPLE_RATE, min_seconds=4.0).values():
        pieces = cut_statements(_scaled(y), max(3, round(y.size / SAMPLE_RATE / STATEMENT_SECONDS)))
        train_audio = np.concatenate(pieces[:-2])
        starts = range(0, max(1, train_audio.size - width + 1), hop)
        splits["train"].extend(train_audio[s: s + width] for s in starts)
        splits["dev"].append(pieces[-2])
        splits["test"].append(pieces[-1])
    return splits


def synthesize(root: str | Path, cfg: Any = None, seed: int = 0, sources: list[Path] | None = None,
               actors: int = 4, intensities: tuple[int, ...] = (1, 2)) -> str:
    """Write the synthetic data set to ``root`` (which must not exist or be an empty folder).

    Args:
        root: output folder; written to a temporary folder beside it, then renamed.
        cfg: unused (the signature of ``Method.synthesize_data``).
        seed: seeds the small per-clip variations (±0.3 semitone, ±3 % tempo).
        sources: speech recordings (default: every ``.wav`` in the repository's ``examples/``).
        actors: number of actors (persons 0..actors−1), at most 24.
        intensities: RAVDESS intensity codes to write (1 normal, 2 strong; neutral has only 1).

    Returns:
        a one-line summary with the number of clips per split.

    Raises:
        AvsError: ``root`` is a file or a non-empty folder; bad ``actors``/``intensities``; no sources;
            a source shorter than 4 s.
    """
    root = Path(root)
    if not 1 <= actors <= 24:
        raise AvsError(f"actors must be 1-24 (got {actors})")
    if not intensities or any(i not in (1, 2) for i in intensities):
        raise AvsError(f"intensities must be a non-empty subset of (1, 2) (got {intensities})")
    sources = sorted(Path(s) for s in (sources if sources is not None else default_speech_sources()))
    statements = plan_statements(sources)
    rng = np.random.default_rng(seed)

    counts = {"train": 0, "dev": 0, "test": 0}
    seconds = 0.0
    with staged_directory(root) as tmp:
        number = 0
        for split in ("train", "dev", "test"):
            (tmp / split / "wav").mkdir(parents=True)
            (tmp / split / "npy").mkdir(parents=True)
            for speech in statements[split]:
                number += 1
                for actor in range(1, actors + 1):
                    pitch = PERSON_PITCH[(actor - 1) % len(PERSON_PITCH)]
                    for code, emotion in enumerate(EMOTIONS, start=1):
                        for intensity in intensities:
                            if emotion == "neutral" and intensity == 2:
                                continue  # RAVDESS has no strong neutral
                            jitter = (float(rng.uniform(-0.3, 0.3)), float(rng.uniform(-0.03, 0.03)))
                            y = apply_emotion(speech, emotion, intensity == 2, pitch, jitter)
                            bs = audio_to_blendshapes(y, emotion, intensity == 2, actor)
                            stem = f"03-01-{code:02d}-{intensity:02d}-{number:02d}-01-{actor:02d}"
                            write_wav(tmp / split / "wav" / f"{stem}.wav", y, SAMPLE_RATE)
                            with open(tmp / split / "npy" / f"{stem}.npy", "wb") as fh:
                                np.save(fh, bs)
                            counts[split] += 1
                            seconds += y.size / SAMPLE_RATE
        (tmp / "README.txt").write_text(_readme(sources, seed, actors, intensities, counts), encoding="utf-8")
    return (f"{sum(counts.values())} clips ({seconds / 60:.1f} min): train {counts['train']}, dev {counts['dev']}, "
            f"test {counts['test']}; {actors} actors, {len(EMOTIONS)} emotions, intensities {list(intensities)}; "
            f"dev/test statements are held-out audio")


def _readme(sources: list[Path], seed: int, actors: int, intensities: tuple[int, ...], counts: dict) -> str:
    table = "\n".join(f"  {e:9s} pitch {p:+.1f} st, tempo x{r:.2f}, tilt {t:+.0f} dB, gain {g:+.0f} dB, "
                      f"resonance {EMOTION_RESONANCE[e]:.0f} Hz" for e, (p, r, t, g) in EMOTION_AUDIO.items())
    faces = "\n".join(f"  {e:9s} jaw gain {g:.2f}, offsets {o or 'none'}" for e, (g, o) in EMOTION_FACE.items())
    return (
        "Synthetic EmoTalk data set (avs data synth emotalk), 3D-ETF-style layout:\n"
        "<split>/wav/<RAVDESS name>.wav (16 kHz mono) + <split>/npy/<same>.npy ((T, 52) float32 ARKit weights,\n"
        "30 fps, T = ceil(30 * duration)). Names 03-01-EE-II-SS-01-AA: emotion, intensity, statement, actor.\n"
        f"Sources: {', '.join(s.name for s in sources)} (real LibriVox speech); seed {seed}; {actors} actors; "
        f"intensities {list(intensities)}.\n"
        f"Clips: train {counts['train']}, dev {counts['dev']}, test {counts['test']}. Each recording's second-to-last\n"
        "statement is in dev and its last in test (held-out audio); the actors are the same.\n\n"
        f"Emotions as audio transforms (strong intensity: deviations x {STRONG}):\n{table}\n"
        f"Actors' voice pitch offsets (semitones, cycled): {PERSON_PITCH}\n\n"
        f"Per-emotion faces:\n{faces}\n\n"
        "Blendshapes (avs_emotalk.synth.audio_to_blendshapes):\n" + (audio_to_blendshapes.__doc__ or "")
    )
