"""The SDT speaker layout on disk, the audio front-end, per-speaker statistics and the dataset.

Layout (SpeechDrivesTemplates ``core/datasets/gesture_dataset.py``, ``data_preprocess/``)::

    <root>/<speaker>/processed_137.csv   (or clips.csv, the reference preprocessing's name)
        columns: dataset (train / dev; ``val`` and ``test`` are accepted), start, end,
        interval_id, pose_fn, audio_fn, video_fn, speaker. ``pose_fn`` is relative to the
        speaker folder, or absolute (clips.csv).
    <pose_fn>.npz   pose (64, 3, 137) float: x, y in pixels and OpenPose confidence, 15 fps;
                    audio (≈68266,) float at 16 kHz; imgs (64,) optional (ignored)

Several speakers are read at once; each has its own statistics (mean, std, scale factor)
computed from its training split and stored in the checkpoint (the reference pastes them into
a 1.5k-line Python file). The generator is shared; a template table row per training clip.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from avs.api import AvsError, npz_array, read_window_npz
from avs_sdt.config import check_variant, resolve_hierarchical
from avs_sdt.keypoints import (
    KEPT_137,
    NECK_137,
    NUM_KEYPOINTS,
    NUM_OPENPOSE,
    POSE_DIM,
    keypoints_to_flat,
    normalise,
    parent_in_parted,
    reduce_to_121,
    to_parted,
)

SAMPLE_RATE = 16000
"""Audio rate in Hz (``DATASET.AUDIO_SR``)."""
FPS = 15.0
"""Pose frame rate (``DATASET.FPS``)."""
WINDOW_FRAMES = 64
"""Pose frames per clip (``DATASET.NUM_FRAMES``)."""
WINDOW_SAMPLES = int(WINDOW_FRAMES * SAMPLE_RATE / FPS)
"""Audio samples per clip: int(64 · 16000 / 15) = 68266 (the reference's ``parse_audio_length``)."""
N_MELS = 80
N_FFT, WIN_LENGTH, HOP_LENGTH = 512, 400, 160
F_MIN, F_MAX = 55.0, 7500.0
MEL_FRAMES = 1 + WINDOW_SAMPLES // HOP_LENGTH
"""Mel frames of one clip (centred STFT): 427."""
CSV_NAMES = ("processed_137.csv", "clips.csv")
SPLIT_LABELS = {"train": "train", "dev": "dev", "val": "dev", "test": "test"}
"""CSV ``dataset`` values → split (the reference's preprocessing writes ``val``, its loader reads ``dev``)."""
STD_FLOOR = 1e-2
"""Smallest std (pixels) used to standardise, so a constant coordinate does not divide by zero."""
PRECOMPUTE_LIMIT = 2048
"""Clips up to which a split is loaded into memory (mel computed once) at construction."""
SHOULDERS_137 = (2, 5)


def melspectrogram(audio: np.ndarray) -> np.ndarray:
    """SDT's audio front-end: an 80-band mel power spectrogram, no logarithm.

    As the reference's ``torchaudio.transforms.MelSpectrogram(win_length=400, hop_length=160,
    n_fft=512, f_min=55, f_max=7500, n_mels=80)`` (SDT ``core/pipelines/voice2pose.py``), computed
    with librosa: periodic Hann window of 400 samples centred in a 512-point FFT, centred frames
    with reflection padding, power 2, HTK mel scale, unnormalised triangular filters.

    Args:
        audio: (N,) float mono at 16 kHz.

    Returns:
        (80, 1 + N // 160) float32 mel power (427 frames for a 68266-sample clip, 100 frames/s).

    Raises:
        AvsError: audio that is empty, not one-dimensional or not finite.
    """
    import librosa

    y = np.asarray(audio, dtype=np.float32)
    if y.ndim != 1 or y.size == 0:
        raise AvsError(f"expected non-empty mono audio of shape (N,), got shape {y.shape}")
    if not np.isfinite(y).all():
        raise AvsError("audio contains NaN or infinite samples")
    mel = librosa.feature.melspectrogram(
        y=y, sr=SAMPLE_RATE, n_fft=N_FFT, hop_length=HOP_LENGTH, win_length=WIN_LENGTH, window="hann",
        center=True, pad_mode="reflect" if y.size > N_FFT // 2 else "constant", power=2.0,
        n_mels=N_MELS, fmin=F_MIN, fmax=F_MAX, htk=True, norm=None,
    )
    return mel.astype(np.float32)


def fit_audio(audio: np.ndarray, length: int = WINDOW_SAMPLES) -> np.ndarray:
    """Crop or zero-pad at the end to ``length`` samples (SDT ``crop_pad_audio``)."""
    audio = np.asarray(audio, dtype=np.float32).reshape(-1)
    if audio.size >= length:
        return audio[:length]
    return np.pad(audio, (0, length - audio.size))


# --------------------------------------------------------------------------- index


@dataclass(frozen=True)
class Clip:
    """One row of a speaker's CSV: split, speaker, resolved ``.npz`` path and where it was read."""

    split: str
    speaker: str
    npz: Path
    where: str


def speaker_folders(root: Path, wanted: Any = ()) -> list[Path]:
    """The speaker folders under ``root``: those named in ``wanted``, or every folder with a CSV.

    Raises:
        AvsError: root missing or not a folder; a named speaker missing or without a CSV; none found.
    """
    root = Path(root)
    if not root.exists():
        raise AvsError(f"data folder not found: {root}")
    if not root.is_dir():
        raise AvsError(f"data path {root} is not a folder")
    names = [str(s) for s in (wanted or [])]
    if names:
        folders = []
        for name in names:
            folder = root / name
            if not folder.is_dir():
                raise AvsError(f"speaker folder {folder} not found")
            if not any((folder / c).is_file() for c in CSV_NAMES):
                raise AvsError(f"speaker folder {folder} has no {' or '.join(CSV_NAMES)}")
            folders.append(folder)
        return folders
    folders = sorted(p for p in root.iterdir() if p.is_dir() and any((p / c).is_file() for c in CSV_NAMES))
    if not folders:
        raise AvsError(
            f"no speaker folders in {root}: expected <root>/<speaker>/processed_137.csv (the SDT layout; "
            "try `avs data synth sdt DIR`)"
        )
    return folders


def read_speaker_index(folder: Path) -> list[Clip]:
    """All rows of one speaker's ``processed_137.csv`` (or ``clips.csv``).

    Raises:
        AvsError: unreadable CSV; missing ``dataset``/``pose_fn`` columns; a malformed row (wrong
            number of fields, empty ``pose_fn``, unknown split label), naming file and line.
    """
    path = next(folder / c for c in CSV_NAMES if (folder / c).is_file())
    try:
        with open(path, newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            header = reader.fieldnames or []
            missing = [c for c in ("dataset", "pose_fn") if c not in header]
            if missing:
                raise AvsError(f"{path} lacks column(s) {', '.join(missing)} (has: {', '.join(header) or 'none'})")
            records = [(reader.line_num, rec) for rec in reader]
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise AvsError(f"cannot read {path}: {exc}") from None
    clips = []
    for line, rec in records:
        if None in rec or any(rec.get(c) is None for c in header):
            fields = len(header) + len(rec.get(None) or []) - sum(rec.get(c) is None for c in header)
            raise AvsError(f"{path} line {line}: malformed row: {fields} fields where the header has {len(header)}")
        label = rec["dataset"].strip()
        if label not in SPLIT_LABELS:
            raise AvsError(f"{path} line {line}: dataset {label!r} is not one of train, dev, val, test")
        pose_fn = rec["pose_fn"].strip()
        if not pose_fn:
            raise AvsError(f"{path} line {line}: empty pose_fn")
        npz = Path(pose_fn)
        clips.append(Clip(SPLIT_LABELS[label], folder.name, npz if npz.is_absolute() else folder / npz,
                          f"{path} line {line}"))
    return clips


def split_clips(root: Path, speakers: list[str], split: str) -> list[Clip]:
    """The clips of ``split`` for ``speakers`` (in that order, CSV order within a speaker).

    ``test`` falls back to ``dev`` for a speaker without test rows (the reference evaluates on its
    ``dev`` split).

    Raises:
        AvsError: an unknown split, a bad CSV (see :func:`read_speaker_index`), missing ``.npz`` files.
    """
    if split not in ("train", "dev", "test"):
        raise AvsError(f"unknown split {split!r} (known: train, dev, test)")
    out: list[Clip] = []
    for folder in speaker_folders(root, speakers):
        rows = read_speaker_index(folder)
        chosen = [c for c in rows if c.split == split]
        if split == "test" and not chosen:
            chosen = [c for c in rows if c.split == "dev"]
        out.extend(chosen)
    missing = [c for c in out if not c.npz.is_file()]
    if missing:
        raise AvsError(f"{len(missing)} of {len(out)} {split} pose files are missing, the first: {missing[0].npz} "
                       f"({missing[0].where})")
    return out


# --------------------------------------------------------------------------- files


def read_pose(path: Path, npz: Any = None) -> np.ndarray:
    """The ``pose`` array of one clip as (64, 3, 137) float32: x, y (pixels), confidence.

    Longer clips are cropped to 64 frames (as the reference's ``arr['pose'][:NUM_FRAMES]``).

    Raises:
        AvsError: unreadable file, no ``pose``, a shape other than (≥64, 3, 137), NaN.
    """
    pose = npz_array(path, "pose", npz)
    if pose.ndim != 3 or pose.shape[1:] != (3, NUM_OPENPOSE) or pose.shape[0] < WINDOW_FRAMES:
        raise AvsError(
            f"{path}: pose has shape {pose.shape}, expected ({WINDOW_FRAMES}, 3, {NUM_OPENPOSE}): "
            f"{WINDOW_FRAMES} frames of x, y, confidence for the 137 OpenPose keypoints "
            "(BODY_25, face 70, two hands of 21)"
        )
    pose = pose[:WINDOW_FRAMES]
    if not np.isfinite(pose).all():
        raise AvsError(f"{path}: pose contains NaN or infinite values")
    return pose


def read_clip(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """One clip file → ((64, 3, 137) float32 pose, (68266,) float32 audio at 16 kHz, cropped/padded).

    Raises:
        AvsError: unreadable file, bad pose (see :func:`read_pose`), missing or non-finite audio.
    """
    pose, audio = read_window_npz(path, read_pose)
    return pose, fit_audio(audio)


def split_pose(pose: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(..., 3, 137) → ((..., 137, 2) x, y pixels, (..., 137) confidence)."""
    pose = np.asarray(pose)
    return np.swapaxes(pose[..., :2, :], -1, -2), pose[..., 2, :]


# --------------------------------------------------------------------------- statistics


def _valid_121(conf: np.ndarray, threshold: float, hierarchical: bool) -> np.ndarray:
    """(F, 137) confidences → (F, 121) validity of each modelled coordinate's value."""
    ok = conf >= threshold
    valid = ok[:, list(KEPT_137)] & ok[:, NECK_137 : NECK_137 + 1]
    if hierarchical:
        parents = [parent_in_parted(k) for k in range(NUM_KEYPOINTS)]
        for k, parent in enumerate(parents):
            if parent is not None:
                valid[:, k] &= valid[:, parent]
    return valid


def speaker_stats(poses: np.ndarray, cfg: Any, speaker: str) -> dict[str, np.ndarray]:
    """Statistics of one speaker's training poses.

    Args:
        poses: (N, 64, 3, 137) pixel poses with confidence.
        cfg: an :class:`avs_sdt.config.SDTConfig` (``data.min_confidence``,
            ``data.reference_shoulder_width``, hierarchical mode).
        speaker: its name, for messages.

    Returns:
        ``mean`` (242,), ``std`` (242,) of the scaled (and, if on, parted) neck-relative poses,
        ``scale_factor`` (), ``neck`` (2,) mean absolute neck position in pixels, ``mean_pose``
        (121, 2) mean neck-relative pose in pixels — all float64, over confident frames only.

    Raises:
        AvsError: no confident shoulders or neck, or a keypoint confident in fewer than 2 frames.
    """
    thr = float(cfg.data.min_confidence)
    hierarchical = resolve_hierarchical(cfg)
    xy, conf = split_pose(poses.reshape(-1, 3, NUM_OPENPOSE))
    rel, neck = reduce_to_121(xy)
    valid = _valid_121(conf, thr, False)
    neck_ok = conf[:, NECK_137] >= thr
    sh = conf[:, SHOULDERS_137[0]] >= thr
    sh &= conf[:, SHOULDERS_137[1]] >= thr
    if not neck_ok.any() or not sh.any():
        raise AvsError(f"speaker {speaker!r}: no training frame has a neck and both shoulders with "
                       f"confidence >= {thr:g}; cannot compute its statistics")
    width = float(np.linalg.norm(xy[sh, SHOULDERS_137[0]] - xy[sh, SHOULDERS_137[1]], axis=-1).mean())
    ref = float(cfg.data.reference_shoulder_width)
    scale = width / ref if ref > 0 else 1.0
    if not scale > 0:
        raise AvsError(f"speaker {speaker!r}: the shoulders have zero width; cannot compute its scale factor")
    counts = valid.sum(axis=0)
    mean_pose = np.where(valid[..., None], rel, 0.0).sum(axis=0) / np.maximum(counts, 1)[:, None]

    x = rel / scale
    vmask = valid
    if hierarchical:
        x = to_parted(x)
        vmask = _valid_121(conf, thr, True)
    flat = keypoints_to_flat(x)  # (F, 242)
    mask = np.concatenate([vmask, vmask], axis=1)
    n = mask.sum(axis=0)
    if (n < 2).any():
        bad = int(np.flatnonzero(n < 2)[0]) % NUM_KEYPOINTS
        raise AvsError(
            f"speaker {speaker!r}: keypoint {bad} (137-layout #{KEPT_137[bad]}) has confidence >= {thr:g} in "
            f"fewer than 2 training frames; cannot compute its statistics"
        )
    mean = np.where(mask, flat, 0.0).sum(axis=0) / n
    var = np.where(mask, (flat - mean) ** 2, 0.0).sum(axis=0) / n
    std = np.maximum(np.sqrt(var), STD_FLOOR)
    return {"mean": mean, "std": std, "scale_factor": np.float64(scale),
            "neck": neck[neck_ok].mean(axis=0), "mean_pose": mean_pose}


def selected_speakers(cfg: Any, root: Path) -> list[str]:
    """Speaker names in use: ``cfg.data.speakers`` or every speaker folder under ``root``."""
    return [f.name for f in speaker_folders(root, list(cfg.data.speakers or []))]


def compute_stats(cfg: Any, data_root: str | Path) -> dict[str, np.ndarray]:
    """Per-speaker normalisation statistics of the training split (stored in the checkpoint).

    The number of training clips (``len(clip_speaker)``) is the size of SDT-BP's template table:
    :class:`avs_sdt.method.SDTMethod` builds the generator from it; a non-zero
    ``cfg.model.num_templates`` that disagrees with the data is an error (e.g. resuming on other
    data). For ``sdt-vae`` the templates are computed here: the pose VAE's μ of every training clip.

    Args:
        cfg: an :class:`avs_sdt.config.SDTConfig` (not modified).
        data_root: data-set folder in the SDT speaker layout.

    Returns:
        ``speakers`` (S,) str; ``mean``, ``std`` (S, 242) float32; ``scale_factor`` (S,) float32;
        ``neck`` (S, 2) float32 mean absolute neck position (pixels); ``mean_pose`` (S, 121, 2)
        float32 neck-relative pixels; ``clip_speaker`` (N,) int32: the speaker of each training clip
        (= template row); for ``sdt-vae`` also ``templates`` (N, template_dim) float32.

    Raises:
        AvsError: a bad layout, CSV or clip file; a speaker without training clips or without
            stats-able keypoints; ``sdt-vae`` without a usable ``pose_vae_checkpoint``.
    """
    variant = check_variant(cfg)
    root = Path(data_root)
    speakers = selected_speakers(cfg, root)
    names, means, stds, scales, necks, mean_poses, clip_speaker = [], [], [], [], [], [], []
    for s_index, speaker in enumerate(speakers):
        clips = split_clips(root, [speaker], "train")
        if not clips:
            raise AvsError(f"speaker {speaker!r} has no training clips in {root / speaker}; "
                           "cannot compute its statistics")
        poses = np.stack([read_pose(c.npz) for c in clips])
        st = speaker_stats(poses, cfg, speaker)
        names.append(speaker)
        means.append(st["mean"])
        stds.append(st["std"])
        scales.append(st["scale_factor"])
        necks.append(st["neck"])
        mean_poses.append(st["mean_pose"])
        clip_speaker += [s_index] * len(clips)
    stats = {
        "speakers": np.asarray(names, dtype=np.str_),
        "mean": np.stack(means).astype(np.float32),
        "std": np.stack(stds).astype(np.float32),
        "scale_factor": np.asarray(scales, dtype=np.float32),
        "neck": np.stack(necks).astype(np.float32),
        "mean_pose": np.stack(mean_poses).astype(np.float32),
        "clip_speaker": np.asarray(clip_speaker, dtype=np.int32),
    }
    n = len(clip_speaker)
    wanted = int(cfg.model.num_templates)
    if wanted and wanted != n and variant == "sdt-bp":
        raise AvsError(f"model.num_templates is {wanted} but the training split of {root} has {n} clips "
                       "(one template per training clip)")
    if variant == "sdt-vae":
        from avs_sdt.evaluation import encode_training_templates

        stats["templates"] = encode_training_templates(cfg, root, stats)
    return stats


def check_stats(stats: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Validate statistics from a checkpoint; returns them with float32 arrays.

    Raises:
        AvsError: a missing entry or inconsistent shapes.
    """
    need = ("speakers", "mean", "std", "scale_factor", "neck", "mean_pose", "clip_speaker")
    missing = [k for k in need if k not in stats]
    if missing:
        raise AvsError(f"sdt statistics lack {', '.join(missing)} (a checkpoint of another avs version?)")
    s = len(stats["speakers"])
    out = dict(stats)
    for k in ("mean", "std", "scale_factor", "neck", "mean_pose"):
        out[k] = np.asarray(stats[k], dtype=np.float32)
    if out["mean"].shape != (s, POSE_DIM) or out["std"].shape != (s, POSE_DIM) or out["scale_factor"].shape != (s,):
        raise AvsError(f"sdt statistics have wrong shapes for {s} speaker(s)")
    return out


def speaker_index(stats: dict[str, np.ndarray], name: str) -> int:
    """Row of speaker ``name`` in ``stats`` (empty name: the first speaker).

    Raises:
        AvsError: an unknown speaker (the known ones are listed).
    """
    names = [str(s) for s in stats["speakers"]]
    if not name:
        return 0
    if name not in names:
        raise AvsError(f"speaker {name!r} is not in this checkpoint's statistics (known: {', '.join(names)})")
    return names.index(name)


# --------------------------------------------------------------------------- dataset


class SDTDataset:
    """One split of an SDT-layout data set (all speakers in the statistics), one item per clip.

    Items (torch's default collate batches them):

    - ``mel``: (80, 427) float32 mel power (:func:`melspectrogram`);
    - ``pose``: (64, 242) float32 normalised poses (15 fps), or zeros for an unreadable clip of
      a lazily loaded split (never: such a clip raises);
    - ``speaker``: int64 row in the statistics; ``mean``, ``std`` (242,) and ``scale`` () float32:
      that speaker's statistics (so validation can report pixels);
    - ``template_index``: int64 template row: the clip's own row in the training split; a
      deterministic random training clip of the same speaker (seeded by ``cfg.seed``) otherwise;
    - ``template``: (template_dim,) float32 that row of ``stats["templates"]`` (``sdt-vae`` only).

    Splits of at most :data:`PRECOMPUTE_LIMIT` clips are loaded into memory at construction
    (every file read and checked); larger ones are checked for missing files and read lazily.

    Args:
        root: data-set folder.
        split: ``train``, ``dev`` or ``test`` (``test`` falls back to ``dev``).
        stats: from :func:`compute_stats`; every speaker read must be in it (the training split must
            hold exactly its speakers and clips).
        cfg: an :class:`avs_sdt.config.SDTConfig` (``data.speakers``: which folders; empty: all).

    Raises:
        AvsError: a bad layout, CSV or clip; a data speaker missing from the statistics.
    """

    def __init__(self, root: str | Path, split: str, stats: dict[str, np.ndarray], cfg: Any) -> None:
        self.root = Path(root)
        self.split = split
        self.stats = check_stats(stats)
        self.cfg = cfg
        self.variant = check_variant(cfg)
        self.hierarchical = resolve_hierarchical(cfg)
        self.speakers = [str(s) for s in self.stats["speakers"]]
        names = selected_speakers(cfg, self.root)
        unknown = [n for n in names if n not in self.speakers]
        if unknown:
            raise AvsError(f"speaker(s) {', '.join(unknown)} in {self.root} have no statistics in this checkpoint "
                           f"(it knows {', '.join(self.speakers)}; choose with data.speakers=[...])")
        self.clips = split_clips(self.root, names, split)
        lookup = {name: i for i, name in enumerate(self.speakers)}
        self.speaker_ids = np.asarray([lookup[c.speaker] for c in self.clips], dtype=np.int64)
        clip_speaker = np.asarray(self.stats["clip_speaker"], dtype=np.int64)
        if split == "train":
            if names != self.speakers or len(self.clips) != len(clip_speaker):
                raise AvsError(f"the training split of {self.root} has {len(self.clips)} clips but the statistics "
                               f"were computed for {len(clip_speaker)}; recompute them on this data")
            self.template_index = np.arange(len(self.clips), dtype=np.int64)
        else:
            rng = np.random.default_rng(int(cfg.seed))
            rows = np.arange(len(clip_speaker))
            picks = []
            for s in self.speaker_ids:
                own = rows[clip_speaker == s]
                picks.append(int(rng.choice(own if own.size else rows)))
            self.template_index = np.asarray(picks, dtype=np.int64)
        self.templates = np.asarray(self.stats["templates"], np.float32) if "templates" in self.stats else None
        if self.variant == "sdt-vae" and self.templates is None:
            raise AvsError("sdt-vae statistics lack the templates (the pose VAE's μ of every training clip)")
        self.in_memory = len(self.clips) <= PRECOMPUTE_LIMIT
        if self.in_memory:
            loaded = [self._load(i) for i in range(len(self.clips))]
            self.mel = np.stack([m for m, _ in loaded]) if loaded else np.zeros((0, N_MELS, MEL_FRAMES), np.float32)
            self.pose = np.stack([p for _, p in loaded]) if loaded else np.zeros((0, WINDOW_FRAMES, POSE_DIM),
                                                                                 np.float32)
        elif self.clips:
            self._load(0)  # fail early on a file of the wrong kind

    def _load(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        pose, audio = read_clip(self.clips[index].npz)
        return melspectrogram(audio), self.normalise_pose(pose, int(self.speaker_ids[index]))

    def normalise_pose(self, pose: np.ndarray, speaker: int) -> np.ndarray:
        """(…, 3, 137) pixel poses → (…, 242) float32 normalised with ``speaker``'s statistics."""
        xy, _ = split_pose(pose)
        rel, _ = reduce_to_121(xy)
        st = self.stats
        out = normalise(rel, st["mean"][speaker].astype(np.float64), st["std"][speaker].astype(np.float64),
                        float(st["scale_factor"][speaker]), self.hierarchical)
        return out.astype(np.float32)

    def audio(self, index: int) -> np.ndarray:
        """(68266,) float32 audio of clip ``index`` at 16 kHz."""
        return read_clip(self.clips[index].npz)[1]

    def pixel_pose(self, index: int) -> np.ndarray:
        """(64, 137, 2) float32 raw pixel keypoints of clip ``index`` (ground truth, as on disk)."""
        return split_pose(read_pose(self.clips[index].npz))[0].astype(np.float32)

    def __len__(self) -> int:
        return len(self.clips)

    def __getitem__(self, index: int) -> dict[str, Any]:
        if self.in_memory:
            mel, pose = self.mel[index], self.pose[index]
        else:
            mel, pose = self._load(index)
        s = int(self.speaker_ids[index])
        item = {
            "mel": mel,
            "pose": pose,
            "speaker": np.int64(s),
            "mean": self.stats["mean"][s],
            "std": self.stats["std"][s],
            "scale": np.float32(self.stats["scale_factor"][s]),
            "template_index": np.int64(self.template_index[index]),
        }
        if self.templates is not None:
            item["template"] = self.templates[self.template_index[index]]
        return item


def build_dataset(cfg: Any, data_root: str | Path, split: str, stats: dict[str, np.ndarray]) -> SDTDataset:
    """``(cfg, data_root, split, stats) -> Dataset``: :class:`SDTDataset`."""
    return SDTDataset(data_root, split, stats, cfg)
