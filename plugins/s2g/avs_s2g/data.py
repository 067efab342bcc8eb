"""The speech2gesture data set on disk, its normalisation statistics and a map-style dataset.

Layout (speech2gesture ``data/dataset.md``, ``audio_to_multiple_pose_gan/dataset.py``)::

    <root>/train.csv   columns dataset (train/dev/test), start, end, interval_id, pose_fn,
                       audio_fn, video_fn, speaker
    <pose_fn>.npz      pose (64, 98) pixels [x0..x48, y0..y48] at 15 fps (also read: (64, 2, 49),
                       and (64, 2, 52) with the three face points 7, 8, 9 dropped as the reference
                       does); audio: the window's 16 kHz mono waveform; imgs (ignored)

``pose_fn`` is relative to ``<root>`` (absolute paths are accepted too). Normalisation
(speech2gesture ``common/pose_logic_lib.py``): poses are made neck-relative, then standardised
with the chosen speaker's 98-dim mean and std computed from the training split.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from avs.api import AvsError, fit_hand_prior, log_mel, npz_array, read_window_npz
from avs_s2g.skeleton import HANDS, NUM_KEYPOINTS, POSE_DIM, flat_to_keypoints

SAMPLE_RATE = 16000
"""Audio rate in Hz."""
FPS = 15.0
"""Pose frame rate (speech2gesture ``common/consts.py``: ``FPS = 30./2``)."""
WINDOW_FRAMES = 64
"""Pose frames per training window."""
WINDOW_SAMPLES = 67267
"""Audio samples per training window (``AUDIO_SHAPE``), giving 418 log-mel frames."""
MEL_FRAMES = 418
"""Log-mel frames of one training window."""
FRAME_MULTIPLE = 32
"""Pose lengths the generator takes are multiples of this: ``2**UNET_DEPTH`` of :mod:`avs_s2g.model`."""
STD_FLOOR = 1e-3
"""Smallest std (pixels) used to standardise, so a constant coordinate does not divide by zero."""
SPLITS = ("train", "dev", "test")
REQUIRED_COLUMNS = ("dataset", "start", "end", "interval_id", "pose_fn", "audio_fn", "video_fn", "speaker")
PRECOMPUTE_LIMIT = 4096
"""Windows up to which a split is loaded into memory (log-mel precomputed) at construction;
larger splits are read from disk item by item."""
_NECK_X, _NECK_Y = 0, NUM_KEYPOINTS


@dataclass(frozen=True)
class Row:
    """One window of ``train.csv``: its split, speaker, interval and resolved ``.npz`` path."""

    split: str
    speaker: str
    interval_id: str
    start: str
    npz: Path


def read_index(root: str | Path, speaker: str = "") -> list[Row]:
    """Read ``<root>/train.csv`` and return the rows of one speaker (all splits).

    Args:
        root: data-set folder.
        speaker: the ``speaker`` value to keep; empty means the only speaker present.

    Raises:
        AvsError: root missing or not a folder; no train.csv; unreadable csv; missing
            columns; an unknown split value; the speaker absent; several speakers and
            ``speaker`` empty (they are listed).
    """
    root = Path(root)
    if not root.exists():
        raise AvsError(f"data folder not found: {root}")
    if not root.is_dir():
        raise AvsError(f"data path {root} is not a folder")
    index = root / "train.csv"
    if not index.is_file():
        raise AvsError(
            f"no train.csv in {root} (expected the speech2gesture layout; try `avs data synth s2g`)"
        )
    try:
        with open(index, newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            header = reader.fieldnames or []
            missing = [c for c in REQUIRED_COLUMNS if c not in header]
            if missing:
                raise AvsError(
                    f"{index} lacks column(s) {', '.join(missing)} (has: {', '.join(header) or 'none'})"
                )
            records = list(reader)
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise AvsError(f"cannot read {index}: {exc}") from None
    rows: list[Row] = []
    for line, rec in enumerate(records, start=2):
        split = (rec["dataset"] or "").strip()
        if split not in SPLITS:
            raise AvsError(f"{index} line {line}: dataset {split!r} is not one of {', '.join(SPLITS)}")
        pose_fn = (rec["pose_fn"] or "").strip()
        if not pose_fn:
            raise AvsError(f"{index} line {line}: empty pose_fn")
        path = Path(pose_fn)
        rows.append(Row(split, (rec["speaker"] or "").strip(), (rec["interval_id"] or "").strip(),
                        (rec["start"] or "").strip(), path if path.is_absolute() else root / path))
    speakers = sorted({r.speaker for r in rows})
    if not rows:
        raise AvsError(f"{index} has no rows")
    if speaker:
        if speaker not in speakers:
            raise AvsError(f"speaker {speaker!r} is not in {index} (present: {', '.join(speakers)})")
    elif len(speakers) > 1:
        raise AvsError(
            f"{index} holds several speakers ({', '.join(speakers)}); choose one with data.speaker=NAME"
        )
    else:
        speaker = speakers[0]
    return [r for r in rows if r.speaker == speaker]


def _split_rows(root: Path, split: str, cfg: Any) -> list[Row]:
    if split not in SPLITS:
        raise AvsError(f"unknown split {split!r} (known: {', '.join(SPLITS)})")
    rows = [r for r in read_index(root, str(cfg.data.speaker)) if r.split == split]
    if not rows:
        who = f"speaker {cfg.data.speaker!r}" if cfg.data.speaker else "the speaker"
        raise AvsError(f"{Path(root) / 'train.csv'} has no {split} rows for {who}")
    missing = [r.npz for r in rows if not r.npz.is_file()]
    if missing:
        raise AvsError(
            f"{len(missing)} of {len(rows)} {split} pose files are missing, the first: {missing[0]}"
        )
    return rows


def read_pose(path: Path, npz: Any = None) -> np.ndarray:
    """The ``pose`` array of one window file as (64, 98) float32 pixels ``[x0..x48, y0..y48]``.

    Raises:
        AvsError: unreadable file, no ``pose`` array, or a shape other than (64, 98), (64, 2, 49)
            or (64, 2, 52).
    """
    pose = npz_array(path, "pose", npz)
    if pose.ndim == 3 and pose.shape[1] == 2 and pose.shape[2] == NUM_KEYPOINTS + 3:
        pose = np.delete(pose, [7, 8, 9], axis=2)  # nose and eyes (speech2gesture pose_logic_lib.get_pose)
    if pose.ndim == 3 and pose.shape[1:] == (2, NUM_KEYPOINTS):
        pose = pose.reshape(pose.shape[0], POSE_DIM)
    if pose.shape != (WINDOW_FRAMES, POSE_DIM):
        raise AvsError(f"{path}: pose has shape {pose.shape}, expected ({WINDOW_FRAMES}, {POSE_DIM})")
    if not np.isfinite(pose).all():
        raise AvsError(f"{path}: pose contains NaN or infinite values")
    return pose


def read_window(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """One window file → ((64, 98) float32 pose pixels, (67267,) float32 audio at 16 kHz).

    The audio is cropped or zero-padded at the end to 67267 samples (speech2gesture
    ``dataset.py::preprocess_x``).

    Raises:
        AvsError: unreadable file, missing ``pose`` or ``audio``, wrong shapes, non-finite values.
    """
    pose, audio = read_window_npz(path, read_pose)
    if audio.size >= WINDOW_SAMPLES:
        audio = audio[:WINDOW_SAMPLES]
    else:
        audio = np.pad(audio, (0, WINDOW_SAMPLES - audio.size))
    return pose, audio


def to_neck_relative(pose: np.ndarray) -> np.ndarray:
    """(..., 98) pixels → (..., 98) with keypoint 0 (neck) subtracted from every keypoint."""
    pose = np.asarray(pose, dtype=np.float32)
    out = pose.copy()
    out[..., :NUM_KEYPOINTS] -= pose[..., _NECK_X : _NECK_X + 1]
    out[..., NUM_KEYPOINTS:] -= pose[..., _NECK_Y : _NECK_Y + 1]
    return out


def normalise(pose: np.ndarray, stats: dict[str, np.ndarray]) -> np.ndarray:
    """(..., 98) pixels → (..., 98) float32 normalised: neck-relative, minus ``mean``, over ``std``."""
    return ((to_neck_relative(pose) - stats["mean"]) / stats["std"]).astype(np.float32)


def denormalise(pose: np.ndarray, stats: dict[str, np.ndarray]) -> np.ndarray:
    """(..., 98) normalised → (..., 98) float32 neck-relative pixels (neck forced to 0, as the
    reference's ``decode_pose_normalized_keypoints``)."""
    out = np.asarray(pose, dtype=np.float32) * stats["std"] + stats["mean"]
    out[..., _NECK_X] = 0.0
    out[..., _NECK_Y] = 0.0
    return out.astype(np.float32)


HAND_PRIOR_VARIANCE = 0.9
"""Fraction of the training hands' shape variance the hand prior keeps (the rest is mostly noise)."""


def compute_stats(cfg: Any, data_root: str | Path) -> dict[str, np.ndarray]:
    """Normalisation statistics of the chosen speaker's training split.

    Args:
        cfg: an :class:`avs_s2g.config.S2GConfig` (``cfg.data.speaker``).
        data_root: data-set folder in the speech2gesture layout.

    Returns:
        ``mean`` (98,) and ``std`` (98,) float32 of the neck-relative poses in pixels over all
        training frames (std floored at :data:`STD_FLOOR`; the neck entries are mean 0, std 1),
        and ``neck`` (2,) float32 mean absolute neck position (x, y) in pixels, used to place
        predictions in source-video pixels; ``hand_prior_{left,right}_{mean,components,scale}``:
        each hand's shape prior (:func:`avs.api.fit_hand_prior`, 90 % of the variance) for
        ``infer.hand_prior``.

    Raises:
        AvsError: as :func:`read_index`, no training rows, or a missing or bad pose file.
    """
    rows = _split_rows(Path(data_root), "train", cfg)
    total = np.zeros(POSE_DIM)
    total_sq = np.zeros(POSE_DIM)
    neck = np.zeros(2)
    count = 0
    hands: dict[str, list[np.ndarray]] = {side: [] for side in HANDS}
    for row in rows:
        pose = read_pose(row.npz).astype(np.float64)
        keypoints = flat_to_keypoints(pose)
        for side, points in HANDS.items():
            hands[side].append(keypoints[:, list(points)])
        rel = to_neck_relative(pose).astype(np.float64)
        total += rel.sum(axis=0)
        total_sq += (rel**2).sum(axis=0)
        neck += pose[:, [_NECK_X, _NECK_Y]].sum(axis=0)
        count += pose.shape[0]
    mean = total / count
    std = np.sqrt(np.maximum(total_sq / count - mean**2, 0.0))
    std = np.maximum(std, STD_FLOOR)
    mean[[_NECK_X, _NECK_Y]] = 0.0
    std[[_NECK_X, _NECK_Y]] = 1.0
    out = {
        "mean": mean.astype(np.float32),
        "std": std.astype(np.float32),
        "neck": (neck / count).astype(np.float32),
    }
    for side, frames in hands.items():
        prior = fit_hand_prior(np.concatenate(frames), variance=HAND_PRIOR_VARIANCE)
        out.update({f"hand_prior_{side}_{name}": value for name, value in prior.items()})
    return out


def check_stats(stats: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """``stats`` as float32 arrays ``mean`` (98,), ``std`` (98,), ``neck`` (2,), plus the optional
    ``hand_prior_*`` arrays of :func:`compute_stats`.

    Raises:
        AvsError: a key is missing or a shape is wrong (e.g. statistics of another method).
    """
    try:
        out = {k: np.asarray(stats[k], dtype=np.float32) for k in ("mean", "std", "neck")}
    except KeyError as exc:
        raise AvsError(f"s2g statistics lack {exc.args[0]!r} (expected mean, std, neck)") from None
    if out["mean"].shape != (POSE_DIM,) or out["std"].shape != (POSE_DIM,) or out["neck"].shape != (2,):
        raise AvsError("s2g statistics have wrong shapes (expected mean (98,), std (98,), neck (2,))")
    out.update({k: np.asarray(v, dtype=np.float32) for k, v in stats.items() if k.startswith("hand_prior_")})
    return out


def hand_priors(stats: dict[str, np.ndarray]) -> dict[str, dict[str, np.ndarray]] | None:
    """The per-hand shape priors stored in ``stats`` (``{"left": {...}, "right": {...}}``), or None
    for statistics made before avs stored them."""
    try:
        return {side: {name: stats[f"hand_prior_{side}_{name}"] for name in ("mean", "components", "scale")}
                for side in HANDS}
    except KeyError:
        return None


class S2GDataset:
    """One split of a speech2gesture-layout data set, one item per 64-frame window.

    Items: ``{"mel": (418, 64) float32 log-mel (avs.audio.log_mel of the window's audio cropped
    or zero-padded to 67267 samples), "pose": (64, 98) float32 normalised pose at 15 fps}``.

    Splits of at most :data:`PRECOMPUTE_LIMIT` windows are loaded into memory at construction
    (every file read and checked, log-mel computed once); larger ones are checked for missing
    files and read item by item.

    Args:
        root: data-set folder.
        split: ``train``, ``dev`` or ``test``.
        stats: from :func:`compute_stats`.
        cfg: an :class:`avs_s2g.config.S2GConfig` (``cfg.data.speaker``).

    Raises:
        AvsError: as :func:`read_index`; an unknown split; no rows for the split and speaker;
            missing pose files (the count and the first are named); a file without ``pose`` or
            ``audio`` or with a wrong pose shape; bad statistics.
    """

    def __init__(self, root: str | Path, split: str, stats: dict[str, np.ndarray], cfg: Any) -> None:
        self.root = Path(root)
        self.split = split
        self.stats = check_stats(stats)
        self.rows = _split_rows(self.root, split, cfg)
        self.in_memory = len(self.rows) <= PRECOMPUTE_LIMIT
        if self.in_memory:
            items = [self._load(r) for r in self.rows]
            self.mel = np.stack([m for m, _ in items])
            self.pose = np.stack([p for _, p in items])
        else:
            self._load(self.rows[0])  # fail early on a file of the wrong kind

    def _load(self, row: Row) -> tuple[np.ndarray, np.ndarray]:
        pose, audio = read_window(row.npz)
        return log_mel(audio, SAMPLE_RATE), normalise(pose, self.stats)

    def __len__(self) -> int:
        return len(self.rows)

    def window_audio(self, index: int) -> np.ndarray:
        """(67267,) float32 16 kHz audio of window ``index`` (read from its file on demand)."""
        return read_window(self.rows[index].npz)[1]

    def __getitem__(self, index: int) -> dict[str, np.ndarray]:
        if self.in_memory:
            return {"mel": self.mel[index], "pose": self.pose[index]}
        mel, pose = self._load(self.rows[index])
        return {"mel": mel, "pose": pose}


def build_dataset(cfg: Any, data_root: str | Path, split: str, stats: dict[str, np.ndarray]) -> S2GDataset:
    """``(cfg, data_root, split, stats) -> Dataset``: :class:`S2GDataset`."""
    return S2GDataset(data_root, split, stats, cfg)
