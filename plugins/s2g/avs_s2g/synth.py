"""A small, learnable Speech2Gesture data set made from real speech (``avs data synth s2g DIR``).

The audio is real: the bundled LibriVox recordings in the repository's ``examples/`` folder,
augmented (time-stretch, pitch-shift, gain, noise; ``librosa.effects``). The poses are synthetic:
a fixed, documented function of the audio, :func:`audio_to_pose`, drives a 49-keypoint skeleton.
A model that learns the mapping from log-mel to pose beats the mean pose on held-out speech,
which is what the tests and the bundled default checkpoint rely on; it says nothing about real
gestures.

Written in the speech2gesture layout (see :mod:`avs_s2g.data`): ``train.csv`` plus one ``.npz``
per 64-frame window (stride 5 frames) with ``pose`` (64, 98) float32 pixels and ``audio``
(67267,) float32 at 16 kHz, and a ``README.txt`` describing the set.

Splits: with two or more sources, the last one (sorted by name; ``librivox_0890.wav`` with the
bundled samples) is held out: ``dev`` and ``test`` are different augmentations of it and ``train``
never hears it. With one source, ``dev`` and ``test`` are augmentations of the training audio with
parameters not used for training (less honest; said in the summary).
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import numpy as np

from avs.api import AvsError, SpeechAugmentation, load_speech_sources, random_augmentation, staged_directory
from avs_s2g.data import FPS, SAMPLE_RATE, WINDOW_FRAMES, WINDOW_SAMPLES
from avs_s2g.skeleton import NUM_KEYPOINTS, keypoints_to_flat, left_finger, right_finger

"""The repository's ``examples/`` folder (this file is ``plugins/s2g/avs_s2g/synth.py``)."""
SPEAKER = "synth"
"""``speaker`` column value of every row."""
STRIDE_FRAMES = 5
"""Frames between the starts of consecutive windows (speech2gesture: 5)."""
TRAIN_VARIANTS = 12
"""Augmented versions of each training source (the first is the unmodified recording)."""
EVAL_VARIANTS = 4
"""Augmented versions of the held-out source in each of dev and test."""

# Skeleton geometry in pixels (image coordinates, y down), roughly a 1280x720 upper-body shot.
NECK_POSITION = (640.0, 260.0)
SHOULDER_HALF_WIDTH = 110.0
UPPER_ARM = 120.0
FOREARM = 110.0
PALM_OFFSET = 10.0  # wrist → hand root, along the forearm
# Finger segment lengths (root → knuckle → … → tip), thumb first; a hand spans about 50 px.
FINGER_SEGMENTS = ((14.0, 11.0, 9.0, 7.0), (24.0, 11.0, 8.0, 7.0), (25.0, 12.0, 8.0, 7.0),
                   (24.0, 11.0, 8.0, 6.0), (22.0, 9.0, 7.0, 6.0))
KEYPOINT_NOISE_PX = 1.0
FEATURE_HOP = 160  # 100 feature frames per second, as the log-mel front-end


def _smoothstep(x: np.ndarray, lo: float, hi: float) -> np.ndarray:
    t = np.clip((x - lo) / (hi - lo), 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


def audio_features(audio: np.ndarray) -> dict[str, np.ndarray]:
    """The four drives of :func:`audio_to_pose`, one value per pose frame (15 fps).

    Computed with librosa at 100 frames/s (hop 160 samples), smoothed with a Gaussian of σ = 40 ms
    and sampled at the centre of each pose frame, ``(i + 0.5) / 15`` s:

    - ``loudness`` in [0, 1]: RMS level (25 ms frames) in dBFS mapped linearly from −45 dB → 0 to
      −20 dB → 1, clipped.
    - ``flick`` in [0, 1): onset strength (``librosa.onset.onset_strength``, 64 mel bands) above
      1.0, halved, fed to a leaky integrator with a 250 ms time constant, then ``1 − exp(−4x)``:
      jumps at each syllable onset and decays.
    - ``pitch`` in [−1, 1]: YIN f0 (65–400 Hz) in octaves relative to 140 Hz, clipped, times a
      voicing gate (loudness smoothstep 0.35→0.6) so that silence and whispers read 0.
    - ``brightness`` in [−1, 1]: log2(spectral centroid / 1000 Hz), clipped, times a gate
      (loudness smoothstep 0.1→0.3).

    Args:
        audio: (N,) float32 mono at 16 kHz, N ≥ one frame (1067 samples).

    Returns:
        name → (T,) float64, T = floor(15 · N / 16000).
    """
    import librosa
    from scipy.ndimage import gaussian_filter1d
    from scipy.signal import lfilter

    y = np.asarray(audio, dtype=np.float32)
    sr, hop = SAMPLE_RATE, FEATURE_HOP
    rms = librosa.feature.rms(y=y, frame_length=400, hop_length=hop)[0]
    loud = np.clip((20.0 * np.log10(rms + 1e-5) + 45.0) / 25.0, 0.0, 1.0)
    onset = librosa.onset.onset_strength(y=y, sr=sr, hop_length=hop, n_mels=64, fmax=7500.0)
    decay = np.exp(-1.0 / (0.25 * sr / hop))
    flick = 1.0 - np.exp(-lfilter([1.0 - decay], [1.0, -decay], np.maximum(onset - 1.0, 0.0) / 2.0) * 4.0)
    f0 = librosa.yin(y, fmin=65.0, fmax=400.0, sr=sr, frame_length=1024, hop_length=hop)
    centroid = librosa.feature.spectral_centroid(y=y, sr=sr, n_fft=512, hop_length=hop)[0]
    n = min(len(loud), len(onset), len(f0), len(centroid))
    loud, flick, f0, centroid = loud[:n], flick[:n], f0[:n], centroid[:n]
    pitch = np.clip(np.log2(f0 / 140.0), -1.0, 1.0) * _smoothstep(loud, 0.35, 0.6)
    bright = np.clip(np.log2(np.maximum(centroid, 1.0) / 1000.0), -1.0, 1.0) * _smoothstep(loud, 0.1, 0.3)
    t_feat = np.arange(n) * hop / sr
    num_frames = int(FPS * len(y)) // sr
    t_pose = (np.arange(num_frames) + 0.5) / FPS
    out = {}
    for name, x in (("loudness", loud), ("flick", flick), ("pitch", pitch), ("brightness", bright)):
        out[name] = np.interp(t_pose, t_feat, gaussian_filter1d(np.asarray(x, np.float64), sigma=4.0))
    return out


def _unit(angle_deg: np.ndarray) -> np.ndarray:
    """(T,) angles measured from straight down (+y), counter-clockwise on screen → (T, 2) unit vectors."""
    a = np.deg2rad(angle_deg)
    return np.stack([np.sin(a), np.cos(a)], axis=-1)


def _hand(root: np.ndarray, axis_deg: np.ndarray, spread: np.ndarray, side: float) -> list[np.ndarray]:
    """Twenty finger joints (5 fingers × 4, thumb first) around a hand root.

    ``axis_deg`` (T,) is the hand's direction (as :func:`_unit`), ``spread`` (T,) in [0, 1] opens the
    fan of fingers and uncurls them, ``side`` is +1 for the right hand and −1 for the left (mirror).
    """
    joints = []
    step = 7.0 + 9.0 * spread  # degrees between neighbouring fingers
    curl = 6.0 + 14.0 * (1.0 - spread)  # degrees each further segment bends towards the palm
    for f, segments in enumerate(FINGER_SEGMENTS):
        offset = (f - 2) * step + (-15.0 if f == 0 else 0.0)
        direction = axis_deg + side * offset
        point = root
        for j, length in enumerate(segments):
            bend = direction + side * curl * j * (-1.0 if f == 0 else 1.0)
            point = point + length * _unit(bend)
            joints.append(point)
    return joints


def audio_to_pose(audio: np.ndarray, rng: np.random.Generator | None = None) -> np.ndarray:
    """THE synthetic ground truth: speech → a 49-keypoint upper body, 15 fps, pixels.

    Features (:func:`audio_features`; loudness, flick, pitch, brightness, per pose frame) drive a
    fixed skeleton. Angles are in degrees from straight down; "out" is away from the body's
    midline. The neck stays at (640, 260); shoulders sit 110 px either side, 12 px lower.

    - Right arm (image left) raises with **loudness**: the right shoulder lifts by 10·loudness px;
      the upper arm (120 px) swings out by 12 + 35·loudness + 8·brightness; the forearm (110 px)
      turns in and up by 25 + 80·loudness (hanging when quiet, raised across the chest when loud).
    - Left arm flicks on **onsets**: left shoulder lifts by 6·flick px; upper arm out by
      12 + 15·flick + 6·brightness; forearm in and up by 25 + 95·flick.
    - Hands: the hand root sits 10 px beyond the wrist along the forearm. The right hand's axis is
      the forearm's direction rotated by 40·**pitch** (wrist rotation) and its fingers spread with
      pitch (spread = 0.5 + 0.5·pitch); the left hand's axis is rotated by 25·**brightness** and it
      opens with loudness (spread = loudness). Five fingers (thumb 41 px, others 37–51 px, 4
      joints each) fan out 7 + 9·spread degrees apart (the thumb 15 more), each segment curling
      6 + 14·(1 − spread) degrees further.
    - Every keypoint except the neck gets Gaussian noise of σ = 1 px (from ``rng``).

    Silence gives the rest pose: arms hanging slightly out, forearms angled in, hands half open.

    Args:
        audio: (N,) float32 mono at 16 kHz.
        rng: noise source; None means no noise.

    Returns:
        (T, 49, 2) float32 keypoints (x, y) in pixels, T = floor(15 · N / 16000), in the
        speech2gesture order (:mod:`avs_s2g.skeleton`).
    """
    feat = audio_features(audio)
    loud, flick, pitch, bright = feat["loudness"], feat["flick"], feat["pitch"], feat["brightness"]
    t = loud.shape[0]
    kp = np.zeros((t, NUM_KEYPOINTS, 2))
    neck = np.broadcast_to(np.asarray(NECK_POSITION), (t, 2))
    kp[:, 0] = neck
    for side, up_deg, fore_deg, lift, axis_rot, spread, arm, root_idx, finger in (
        (+1.0, 12 + 35 * loud + 8 * bright, 25 + 80 * loud, 10 * loud, 40 * pitch, 0.5 + 0.5 * pitch,
         (1, 2, 3), 28, right_finger),
        (-1.0, 12 + 15 * flick + 6 * bright, 25 + 95 * flick, 6 * flick, 25 * bright, loud,
         (4, 5, 6), 7, left_finger),
    ):
        # side +1: the person's right = image left, so "out" is −x there: angle −up_deg.
        shoulder = neck + np.stack([-side * SHOULDER_HALF_WIDTH * np.ones(t), 12.0 - lift], axis=-1)
        elbow = shoulder + UPPER_ARM * _unit(-side * up_deg)
        fore_dir = side * fore_deg
        wrist = elbow + FOREARM * _unit(fore_dir)
        root = wrist + PALM_OFFSET * _unit(fore_dir)
        kp[:, arm[0]], kp[:, arm[1]], kp[:, arm[2]], kp[:, root_idx] = shoulder, elbow, wrist, root
        joints = _hand(root, fore_dir + side * axis_rot, np.clip(spread, 0.0, 1.0), side)
        for f in range(5):
            for j, idx in enumerate(finger(f)[1:]):
                kp[:, idx] = joints[4 * f + j]
    if rng is not None:
        kp[:, 1:] += rng.normal(0.0, KEYPOINT_NOISE_PX, kp[:, 1:].shape)
    return kp.astype(np.float32)


def _windows(audio: np.ndarray, pose: np.ndarray) -> list[tuple[int, np.ndarray, np.ndarray]]:
    """(start frame, (64, 98) pose, (67267,) audio) for every window of 64 frames, stride 5."""
    out = []
    flat = keypoints_to_flat(pose)
    for start in range(0, pose.shape[0] - WINDOW_FRAMES + 1, STRIDE_FRAMES):
        s0 = round(start * SAMPLE_RATE / FPS)
        chunk = audio[s0 : s0 + WINDOW_SAMPLES]
        if chunk.size < WINDOW_SAMPLES:
            chunk = np.pad(chunk, (0, WINDOW_SAMPLES - chunk.size))
        out.append((start, flat[start : start + WINDOW_FRAMES].astype(np.float32), chunk.astype(np.float32)))
    return out


def _plan(sources: list[Path], rng: np.random.Generator,
          train_variants: int, eval_variants: int) -> tuple[list[tuple[str, Path, SpeechAugmentation]], bool]:
    """(split, source, augmentation) for every variant, and whether dev/test audio is held out."""
    plan: list[tuple[str, Path, SpeechAugmentation]] = []
    held_out = len(sources) >= 2
    train_sources = sources[:-1] if held_out else sources
    for src in train_sources:
        plan.append(("train", src, SpeechAugmentation()))
        plan.extend(("train", src, random_augmentation(rng)) for _ in range(train_variants - 1))
    eval_source = sources[-1]
    for split in ("dev", "test"):
        first = [SpeechAugmentation()] if (held_out and split == "dev") else []
        augs = first + [random_augmentation(rng) for _ in range(eval_variants - len(first))]
        plan.extend((split, eval_source, aug) for aug in augs)
    return plan, held_out


def synthesize(root: str | Path, cfg: Any = None, seed: int = 0, sources: list[Path] | None = None,
               train_variants: int = TRAIN_VARIANTS, eval_variants: int = EVAL_VARIANTS) -> str:
    """Write the synthetic data set to ``root`` (which must not exist or be an empty folder).

    Args:
        root: output folder.
        cfg: unused (the signature of ``Method.synthesize_data``).
        seed: seeds the augmentations and the keypoint noise; the same seed gives the same files.
        sources: speech recordings (any format :func:`avs.audio.load_audio` reads, each at least
            4.3 s); default: every ``.wav`` in the repository's ``examples/``.
        train_variants: augmented versions of each training source.
        eval_variants: augmented versions of the held-out source in each of dev and test.

    Returns:
        a one-line summary with the number of windows per split.

    Raises:
        AvsError: ``root`` is a file or a non-empty folder; no sources; a source too short for a window.
    """
    root = Path(root)
    if train_variants < 1 or eval_variants < 1:
        raise AvsError("train_variants and eval_variants must be at least 1")
    rng = np.random.default_rng(seed)
    audios = load_speech_sources(sources, SAMPLE_RATE, WINDOW_FRAMES / FPS * 1.15)
    sources = list(audios)
    plan, held_out = _plan(sources, rng, train_variants, eval_variants)

    counts = {"train": 0, "dev": 0, "test": 0}
    with staged_directory(root) as tmp:
        (tmp / "npz").mkdir()
        rows = []
        for number, (split, src, aug) in enumerate(plan):
            audio = aug.apply(audios[src], rng)
            pose = audio_to_pose(audio, rng)
            interval = f"{src.stem}-v{number:02d}"
            for start, pose_win, audio_win in _windows(audio, pose):
                rel = f"npz/{interval}-{start:04d}.npz"
                with open(tmp / rel, "wb") as fh:
                    np.savez(fh, pose=pose_win, audio=audio_win)
                rows.append({
                    "dataset": split, "start": f"{start / FPS:.3f}",
                    "end": f"{(start + WINDOW_FRAMES) / FPS:.3f}", "interval_id": interval,
                    "pose_fn": rel, "audio_fn": src.name, "video_fn": "", "speaker": SPEAKER,
                })
                counts[split] += 1
        with open(tmp / "train.csv", "w", newline="", encoding="utf-8") as fh:
            writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
        note = "dev/test: held-out recording " + sources[-1].name if held_out else \
            "dev/test: unseen augmentations of the training audio (only one recording; not held out)"
        (tmp / "README.txt").write_text(
            "Synthetic Speech2Gesture data set (avs data synth s2g), speech2gesture layout.\n"
            f"Sources: {', '.join(s.name for s in sources)}; seed {seed}; {note}.\n"
            f"Windows: train {counts['train']}, dev {counts['dev']}, test {counts['test']}.\n\n"
            "Poses are a fixed function of the audio (avs_s2g.synth.audio_to_pose):\n\n"
            + (audio_to_pose.__doc__ or ""),
            encoding="utf-8",
        )
    return (f"{sum(counts.values())} windows of 64 frames: train {counts['train']}, "
            f"dev {counts['dev']}, test {counts['test']} ({note})")
