"""A small, learnable SDT data set made from real speech (``avs data synth sdt DIR``).

The audio is real: the LibriVox recordings in the repository's ``examples/`` folder, augmented
(time-stretch, pitch-shift, gain, noise; ``librosa.effects``). The poses are synthetic: a fixed,
documented function of the audio, :func:`audio_to_pose`, drives a full 137-keypoint OpenPose
figure (body, 70-point face, two 21-point hands) with confidences. A model that learns the mapping
from mel spectrogram to pose beats the mean pose on held-out speech; it says nothing about real
gestures.

Two speakers with different styles (:data:`SPEAKERS`) hear the same recordings, augmented the
same way, so the audio does not tell them apart: ``speaker_a`` is large and right-handed (its
right arm rises with loudness, its head nods with pitch), ``speaker_b`` is smaller, left-handed,
rests with its hands together in front and tilts its head on syllable onsets. Each augmented
recording also gets a random *posture* (forearms held higher or lower, hands more open or closed)
that lasts for all its clips and cannot be heard. Speaker style and posture are what templates
can capture. The lips open with loudness (face #62/#66, the lip-sync error's points).

Written in the SDT layout (see :mod:`avs_sdt.data`): ``<root>/<speaker>/processed_137.csv`` plus
one ``.npz`` per 64-frame clip (stride 5 frames) with ``pose`` (64, 3, 137) float32 (x, y pixels,
confidence) and ``audio`` (68266,) float32 at 16 kHz, and a ``README.txt``.

Splits: with two or more recordings the last one (``librivox_0890.wav`` with the bundled samples)
is held out: ``dev`` and ``test`` are different augmentations of it (each with fresh postures),
``train`` never hears it.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from avs.api import (
    AvsError,
    BodyProportions,
    JointAngles,
    SpeechAugmentation,
    load_speech_sources,
    random_augmentation,
    staged_directory,
    upper_body,
)
from avs_sdt.data import FPS, SAMPLE_RATE, WINDOW_FRAMES, WINDOW_SAMPLES
from avs_sdt.keypoints import NUM_OPENPOSE

"""The repository's ``examples/`` folder (this file is ``plugins/sdt/avs_sdt/synth.py``)."""
STRIDE_FRAMES = 5
"""Frames between the starts of consecutive clips (the reference's ``FPS // 3``)."""
TRAIN_VARIANTS = 16
"""Augmented versions of each training recording, per speaker (the first is unmodified)."""
EVAL_VARIANTS = 3
"""Augmented versions of the held-out recording in each of dev and test, per speaker."""
FEATURE_HOP = 160
"""Audio feature hop in samples (100 frames/s)."""


@dataclass(frozen=True)
class Style:
    """How one synthetic speaker moves (pixels, degrees; angles from straight down, "out" = away
    from the body's midline, "up" = the forearm turning inwards and upwards).

    Attributes:
        neck: (x, y) neck position on a 1280×720 frame.
        shoulder: half the shoulder width; upper_arm, forearm: bone lengths; face: face width;
        hand: hand length (wrist to middle fingertip).
        lead: the arm that rises with loudness, ``right`` or ``left`` (the person's).
        rest_out, rest_up: upper-arm and forearm angles at rest.
        lead_out, lead_up: extra angles of the lead arm at full loudness.
        (``rest_up``/``lead_up``/``other_up`` are elbow flexions: the forearm's angle to the upper arm.)
        other_out, other_up: extra angles of the other arm at a full onset "flick".
        nod: head rotation per unit of pitch (degrees); tilt: per unit of flick.
    """

    neck: tuple[float, float]
    shoulder: float
    upper_arm: float
    forearm: float
    face: float
    hand: float
    lead: str
    rest_out: float
    rest_up: float
    lead_out: float
    lead_up: float
    other_out: float
    other_up: float
    nod: float
    tilt: float


SPEAKERS: dict[str, Style] = {
    # bone lengths: Drillis & Contini fractions of the height whose biacromial breadth is 2·shoulder
    # (avs.kinematics.BodyProportions.from_shoulder_width)
    "speaker_a": Style(neck=(640.0, 250.0), shoulder=130.0, upper_arm=187.0, forearm=147.0, face=80.0, hand=108.0,
                       lead="right", rest_out=8.0, rest_up=15.0, lead_out=28.0, lead_up=100.0, other_out=14.0,
                       other_up=80.0, nod=9.0, tilt=0.0),
    "speaker_b": Style(neck=(600.0, 285.0), shoulder=100.0, upper_arm=144.0, forearm=113.0, face=62.0, hand=83.0,
                       lead="left", rest_out=4.0, rest_up=70.0, lead_out=24.0, lead_up=60.0, other_out=8.0,
                       other_up=40.0, nod=2.0, tilt=7.0),
}
"""The two synthetic speakers."""

POSTURE_UP_DEG = 6.0
"""A posture's forearm elevation offset per unit (postures are uniform in [−1, 1])."""
POSTURE_OPEN = 0.15
"""A posture's hand-openness offset per unit."""
NOISE_PX = {"body": 0.5, "face": 0.15, "hand": 0.4}
"""Gaussian keypoint noise σ in pixels."""
LOW_CONFIDENCE_RATE = 0.004
"""Fraction of hand keypoints reported with confidence 0.05 and a jittered (σ 8 px) position."""


def audio_features(audio: np.ndarray) -> dict[str, np.ndarray]:
    """The three drives of :func:`audio_to_pose`, one value per pose frame (15 fps).

    Computed with librosa at 100 frames/s, smoothed with a Gaussian of σ = 40 ms, sampled at the
    centre of each pose frame ``(i + 0.5) / 15`` s:

    - ``loudness`` in [0, 1]: RMS level (25 ms frames) in dBFS mapped linearly −45 dB → 0,
      −18 dB → 1, clipped;
    - ``flick`` in [0, 1): onset strength above 1, leaky-integrated with a 200 ms time constant,
      then ``1 − exp(−x)``: jumps at syllable onsets and decays;
    - ``pitch`` in [−1, 1]: YIN f0 (65–400 Hz) in octaves relative to 150 Hz, clipped, gated by
      voicing (loudness smoothstep 0.3 → 0.55), 0 in silence.

    Args:
        audio: (N,) float32 mono at 16 kHz.

    Returns:
        name → (T,) float64, T = floor(15 · N / 16000).
    """
    import librosa
    from scipy.ndimage import gaussian_filter1d
    from scipy.signal import lfilter

    y = np.asarray(audio, dtype=np.float32)
    sr, hop = SAMPLE_RATE, FEATURE_HOP
    rms = librosa.feature.rms(y=y, frame_length=400, hop_length=hop)[0]
    loud = np.clip((20.0 * np.log10(rms + 1e-5) + 45.0) / 27.0, 0.0, 1.0)
    onset = librosa.onset.onset_strength(y=y, sr=sr, hop_length=hop, n_mels=64, fmax=7500.0)
    decay = np.exp(-1.0 / (0.2 * sr / hop))
    flick = 1.0 - np.exp(-3.0 * lfilter([1.0 - decay], [1.0, -decay], np.maximum(onset - 1.0, 0.0)))
    f0 = librosa.yin(y, fmin=65.0, fmax=400.0, sr=sr, frame_length=1024, hop_length=hop)
    n = min(len(loud), len(onset), len(f0))
    loud, flick, f0 = loud[:n], flick[:n], f0[:n]
    gate = np.clip((loud - 0.3) / 0.25, 0.0, 1.0)
    pitch = np.clip(np.log2(f0 / 150.0), -1.0, 1.0) * gate * gate * (3.0 - 2.0 * gate)
    t_feat = np.arange(n) * hop / sr
    t_pose = (np.arange(int(FPS * len(y)) // sr) + 0.5) / FPS
    return {name: np.interp(t_pose, t_feat, gaussian_filter1d(np.asarray(x, np.float64), sigma=4.0))
            for name, x in (("loudness", loud), ("flick", flick), ("pitch", pitch))}


# --------------------------------------------------------------------------- the figure


def _unit(angle_deg: np.ndarray) -> np.ndarray:
    """(T,) angles from straight down (+y), counter-clockwise on screen → (T, 2) unit vectors."""
    a = np.deg2rad(angle_deg)
    return np.stack([np.sin(a), np.cos(a)], axis=-1)


def face_template() -> np.ndarray:
    """The 70 face points in face units (width 1, x right, y down, origin at the nose tip #30),
    lips closed: jaw 0–16, brows 17–26, nose 27–35, eyes 36–47, outer lips 48–59, inner lips
    60–67, pupils 68–69 (OpenPose's face layout)."""
    pts = np.zeros((70, 2))
    t = np.linspace(0.0, np.pi, 17)
    pts[0:17] = np.stack([-0.5 * np.cos(t), -0.18 + 0.62 * np.sin(t)], axis=-1)
    for start, side in ((17, -1.0), (22, 1.0)):
        xs = np.linspace(0.4, 0.08, 5) if side < 0 else np.linspace(0.08, 0.4, 5)
        pts[start : start + 5] = np.stack([side * xs if side < 0 else xs,
                                           -0.42 - 0.05 * np.sin(np.linspace(0, np.pi, 5))], axis=-1)
    pts[27:31] = np.stack([np.zeros(4), np.linspace(-0.34, 0.0, 4)], axis=-1)
    pts[31:36] = np.stack([np.linspace(-0.12, 0.12, 5), 0.07 - 0.02 * np.sin(np.linspace(0, np.pi, 5))], axis=-1)
    ring = np.deg2rad([180, 135, 45, 0, -45, -135])  # outer corner, upper x2, inner corner, lower x2
    for start, cx, order in ((36, -0.2, 1.0), (42, 0.2, -1.0)):
        ang = ring if order > 0 else np.pi - ring[[3, 2, 1, 0, 5, 4]]
        pts[start : start + 6] = np.stack([cx + 0.08 * np.cos(ang), -0.24 - 0.035 * np.sin(ang)], axis=-1)
    outer = np.deg2rad(np.linspace(180, -180, 13)[:-1])  # 48 left corner, over the top, back under
    pts[48:60] = np.stack([0.2 * np.cos(outer), 0.25 - 0.07 * np.sin(outer)], axis=-1)
    inner = np.deg2rad([180, 135, 90, 45, 0, -45, -90, -135])
    pts[60:68] = np.stack([0.13 * np.cos(inner), 0.25 - 0.012 * np.sin(inner)], axis=-1)
    pts[68] = pts[36:42].mean(axis=0)
    pts[69] = pts[42:48].mean(axis=0)
    return pts


_FACE = face_template()
_LOWER_LIP_POINTS = [55, 56, 57, 58, 59, 65, 66, 67]
_JAW_WEIGHTS = np.clip(1.0 - np.abs(np.arange(17) - 8) / 5.0, 0.0, 1.0)
def audio_to_pose(audio: np.ndarray, style: Style, posture: tuple[float, float],
                  rng: np.random.Generator | None = None) -> np.ndarray:
    """THE synthetic ground truth: speech → 137 OpenPose keypoints with confidence, 15 fps.

    Drives (:func:`audio_features`): loudness L, onset flick F, pitch P, per pose frame.

    - Arms and hands: a kinematic upper body (:mod:`avs.kinematics`: bones of fixed length,
      human joint limits, fingers that curl together). Shoulders sit ``shoulder`` px either side of
      the neck, 0.035 H lower (H = 2·shoulder / 0.259), shrugging by 0.3·drive (drive = L for the
      lead arm, F for the other).
      Upper arms abduct by ``rest_out`` (+ ``lead_out``·L for the lead arm, + ``other_out``·F for
      the other); elbows flex by ``rest_up`` + posture[0]·6° (+ ``lead_up``·L, or ``other_up``·F).
    - Hands: 21 points at each wrist; each opens with its drive (spread = drive + posture[1]·0.15,
      curl = 0.75 − 0.6·spread); the lead hand deviates 20·P degrees at the wrist and turns its
      palm by 5 + 15·P degrees, the other turns its palm by 5 + 15·F.
    - Head: the nose tip sits 0.95 face widths above the neck; the head rotates about the neck by
      ``nod``·P + ``tilt``·F degrees. Face: the 70-point template scaled to ``face`` px; the lips
      part by (0.015 + 0.3·L)·face px (the lower lip and jaw drop), so face #62/#66 follow loudness.
    - The legs stand still below the hips with confidence 0.4; the feet are undetected (0, 0, conf 0).
    - Confidences: body 0.85, face 0.75, hands 0.6 (± 0.05); noise σ: body 0.5 px, face 0.15 px,
      hands 0.4 px; 0.4 % of hand points get confidence 0.05 and an 8 px jitter (treated as missing
      by the statistics).

    Args:
        audio: (N,) float32 mono at 16 kHz.
        style: the speaker (:data:`SPEAKERS`).
        posture: (forearm elevation, hand openness), each in [−1, 1], constant over a recording.
        rng: noise source; None means no noise (confidences exact).

    Returns:
        (T, 3, 137) float32: x, y in pixels and confidence, T = floor(15 · N / 16000).
    """
    feat = audio_features(audio)
    loud, flick, pitch = feat["loudness"], feat["flick"], feat["pitch"]
    t = loud.shape[0]
    kp = np.zeros((t, NUM_OPENPOSE, 2))
    conf = np.zeros((t, NUM_OPENPOSE))
    neck = np.broadcast_to(np.asarray(style.neck, dtype=np.float64), (t, 2))
    kp[:, 1] = neck
    up_bias, open_bias = POSTURE_UP_DEG * posture[0], POSTURE_OPEN * posture[1]
    angles = {}
    for side in ("right", "left"):
        is_lead = side == style.lead
        drive = loud if is_lead else flick
        spread = np.clip(drive + open_bias, 0.0, 1.0)
        angles[side] = JointAngles(
            shrug=0.3 * drive,
            abduction=style.rest_out + (style.lead_out if is_lead else style.other_out) * drive,
            elbow_flexion=style.rest_up + up_bias + (style.lead_up if is_lead else style.other_up) * drive,
            wrist_deviation=20.0 * pitch if is_lead else 0.0,
            pronation=5.0 + 15.0 * (pitch if is_lead else flick),
            curl=0.75 - 0.6 * spread, spread=spread)
    proportions = replace(BodyProportions.from_shoulder_width(2 * style.shoulder), upper_arm=style.upper_arm,
                          forearm=style.forearm, hand=style.hand)
    body = upper_body(neck, proportions, angles["right"], angles["left"])
    kp[:, 2], kp[:, 3], kp[:, 4] = body.right_shoulder, body.right_elbow, body.right_wrist
    kp[:, 5], kp[:, 6], kp[:, 7] = body.left_shoulder, body.left_elbow, body.left_wrist
    kp[:, 95:116] = body.left_hand
    kp[:, 116:137] = body.right_hand
    # head: face template, lips parted by loudness, rotated about the neck
    opening = (0.015 + 0.3 * loud)[:, None]
    face = np.broadcast_to(_FACE, (t, 70, 2)).copy()
    face[:, _LOWER_LIP_POINTS, 1] += opening
    face[:, 0:17, 1] += 0.5 * opening * _JAW_WEIGHTS
    face[:, 62, 1] -= 0.1 * opening[:, 0]
    face = face * style.face + np.array([0.0, -0.95 * style.face])  # relative to the neck
    head = np.concatenate([face, face[:, [30, 68, 69]], face[:, [0, 16]]], axis=1)  # + nose, eyes, ears
    angle = np.deg2rad(style.nod * pitch + style.tilt * flick)
    c, s = np.cos(angle)[:, None], np.sin(angle)[:, None]
    head = np.stack([c * head[..., 0] - s * head[..., 1], s * head[..., 0] + c * head[..., 1]], axis=-1) + neck[:, None]
    kp[:, 25:95] = head[:, :70]
    kp[:, 0], kp[:, 15], kp[:, 16], kp[:, 17], kp[:, 18] = (head[:, 70], head[:, 71], head[:, 72],
                                                            head[:, 73], head[:, 74])
    # lower body: hips, still legs; feet undetected
    hip = neck + np.array([0.0, 2.2 * style.shoulder])
    for idx, dx, dy in ((8, 0, 0), (9, -0.55, 0), (12, 0.55, 0), (10, -0.6, 1.5), (13, 0.6, 1.5),
                        (11, -0.6, 3.0), (14, 0.6, 3.0)):
        kp[:, idx] = hip + style.shoulder * np.array([dx, dy])
    conf[:, 0:19] = 0.85
    conf[:, 8:15] = 0.4
    conf[:, 17:19] = 0.6
    conf[:, 25:95] = 0.75
    conf[:, 95:137] = 0.6
    if rng is not None:
        for sl, sigma in ((np.r_[0:19], NOISE_PX["body"]), (np.r_[25:95], NOISE_PX["face"]),
                          (np.r_[95:137], NOISE_PX["hand"])):
            kp[:, sl] += rng.normal(0.0, sigma, kp[:, sl].shape)
        conf[:, :19] += rng.uniform(-0.05, 0.05, conf[:, :19].shape)
        conf[:, 25:] += rng.uniform(-0.05, 0.05, conf[:, 25:].shape)
        bad = rng.random((t, 42)) < LOW_CONFIDENCE_RATE
        hands = kp[:, 95:137]
        hands[bad] += rng.normal(0.0, 8.0, (int(bad.sum()), 2))
        conf[:, 95:137][bad] = 0.05
    kp[:, 19:25] = 0.0
    conf[:, 19:25] = 0.0
    return np.concatenate([kp.swapaxes(1, 2), conf[:, None, :]], axis=1).astype(np.float32)


# --------------------------------------------------------------------------- writing


def _clips(audio: np.ndarray, pose: np.ndarray) -> list[tuple[int, np.ndarray, np.ndarray]]:
    """(start frame, (64, 3, 137) pose, (68266,) audio) for every clip of 64 frames, stride 5."""
    out = []
    for start in range(0, pose.shape[0] - WINDOW_FRAMES + 1, STRIDE_FRAMES):
        s0 = int(start * SAMPLE_RATE / FPS)
        chunk = audio[s0 : s0 + WINDOW_SAMPLES]
        if chunk.size < WINDOW_SAMPLES:
            chunk = np.pad(chunk, (0, WINDOW_SAMPLES - chunk.size))
        out.append((start, pose[start : start + WINDOW_FRAMES], chunk.astype(np.float32)))
    return out


def _plan(sources: list[Path], rng: np.random.Generator, train_variants: int,
          eval_variants: int) -> list[tuple[str, str, Path, SpeechAugmentation, tuple[float, float]]]:
    """(speaker, split, source, augmentation, posture) for every recording variant."""
    plan = []
    train_sources = sources[:-1] if len(sources) >= 2 else sources
    for speaker in SPEAKERS:
        for src in train_sources:
            for v in range(train_variants):
                aug = SpeechAugmentation() if v == 0 else random_augmentation(rng)
                plan.append((speaker, "train", src, aug, tuple(rng.uniform(-1.0, 1.0, 2))))
        for split in ("dev", "test"):
            for v in range(eval_variants):
                aug = SpeechAugmentation() if (split == "dev" and v == 0) else random_augmentation(rng)
                plan.append((speaker, split, sources[-1], aug, tuple(rng.uniform(-1.0, 1.0, 2))))
    return plan


def synthesize(root: str | Path, cfg: Any = None, seed: int = 0, sources: list[Path] | None = None,
               train_variants: int = TRAIN_VARIANTS, eval_variants: int = EVAL_VARIANTS) -> str:
    """Write the synthetic data set to ``root`` (which must not exist, or be an empty folder).

    Everything is written into a temporary folder beside ``root`` and renamed at the end, so a
    failure leaves nothing behind.

    Args:
        root: output folder.
        cfg: unused (the signature of ``Method.synthesize_data``).
        seed: seeds the augmentations, postures and keypoint noise; the same seed gives the same files.
        sources: speech recordings (any format :func:`avs.audio.load_audio` reads, each ≥ 5 s);
            default: every ``.wav`` in the repository's ``examples/``.
        train_variants: augmented versions of each training recording per speaker.
        eval_variants: augmented versions of the held-out recording per speaker in each of dev and test.

    Returns:
        a one-line summary with the number of clips per split.

    Raises:
        AvsError: ``root`` is a file or a non-empty folder; no recordings; one too short.
    """
    root = Path(root)
    if train_variants < 1 or eval_variants < 1:
        raise AvsError("train_variants and eval_variants must be at least 1")
    audios = load_speech_sources(sources, SAMPLE_RATE, WINDOW_SAMPLES * 1.17 / SAMPLE_RATE)
    sources = list(audios)
    rng = np.random.default_rng(seed)
    plan = _plan(sources, rng, train_variants, eval_variants)
    counts = {"train": 0, "dev": 0, "test": 0}
    with staged_directory(root) as tmp:
        rows: dict[str, list[dict[str, str]]] = {s: [] for s in SPEAKERS}
        for number, (speaker, split, src, aug, posture) in enumerate(plan):
            audio = aug.apply(audios[src], rng)
            pose = audio_to_pose(audio, SPEAKERS[speaker], posture, rng)
            interval = f"{src.stem}-v{number:03d}"
            (tmp / speaker / "clips" / "npz").mkdir(parents=True, exist_ok=True)
            for start, pose_clip, audio_clip in _clips(audio, pose):
                rel = f"clips/npz/{interval}-{start:04d}-{start + WINDOW_FRAMES:04d}.npz"
                with open(tmp / speaker / rel, "wb") as fh:
                    np.savez(fh, pose=pose_clip, audio=audio_clip)
                rows[speaker].append({
                    "dataset": split, "start": str(start), "end": str(start + WINDOW_FRAMES),
                    "interval_id": interval, "pose_fn": rel, "audio_fn": src.name, "video_fn": "",
                    "speaker": speaker,
                })
                counts[split] += 1
        for speaker, speaker_rows in rows.items():
            with open(tmp / speaker / "processed_137.csv", "w", newline="", encoding="utf-8") as fh:
                writer = csv.DictWriter(fh, fieldnames=list(speaker_rows[0]))
                writer.writeheader()
                writer.writerows(speaker_rows)
        note = (f"dev/test: held-out recording {sources[-1].name}" if len(sources) >= 2 else
                "dev/test: unseen augmentations of the training audio (only one recording; not held out)")
        (tmp / "README.txt").write_text(
            "Synthetic Speech Drives Templates data set (avs data synth sdt), SDT speaker layout.\n"
            f"Speakers: {', '.join(SPEAKERS)}; sources: {', '.join(s.name for s in sources)}; seed {seed}; {note}.\n"
            f"Clips: train {counts['train']}, dev {counts['dev']}, test {counts['test']}.\n\n"
            + (__doc__ or "") + "\nPoses are a fixed function of the audio (avs_sdt.synth.audio_to_pose):\n\n"
            + (audio_to_pose.__doc__ or ""),
            encoding="utf-8",
        )
    return (f"{sum(counts.values())} clips of 64 frames from {len(SPEAKERS)} speakers: train {counts['train']}, "
            f"dev {counts['dev']}, test {counts['test']} ({note})")
