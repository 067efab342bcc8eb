"""RD-GAN's data: face clips as 128×128 landmark-box crops, training pairs, test pairs, audio windows.

Two on-disk sources:

- **prepared face data** (``avs data prepare face VIDEO... DIR``): ``DIR/index.json`` lists the clips
  and their train/dev/test frame ranges; each ``DIR/<name>/`` holds ``frames.mp4`` (25 fps),
  ``audio.wav`` (16 kHz, 640 samples per frame) and ``track.npz`` (``valid`` (T,), ``lm68`` (T, 68, 2)
  pixels). Read here straight from the files (imageio-ffmpeg, soundfile), so training needs no face
  tracker.
- **CK+-style image sequences** (no audio): ``DIR/<images>/<subject>/<sequence>/<frame>.png`` with
  ``<frame>_landmarks.txt`` (68 lines ``x y``) either beside the image or under
  ``DIR/<landmarks>/<subject>/<sequence>/``; CK+'s folder names ``cohn-kanade-images`` and ``Landmarks``
  work as they are. Subjects are split: the last ``dev_fraction`` of the sorted subjects to test, the
  same share before them to dev.

Pairs follow the reference: training pairs are all ordered pairs (i, j > i) of valid frames within a
clip segment (at most ``data.max_gap`` apart, if set); test pairs are (first frame, later frame).
Every crop is cut to its own frame's landmark box (:func:`avs_rdgan.crop.crop_face`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from avs.api import AvsError
from avs_rdgan.config import IMAGE_SIZE, SAMPLE_RATE
from avs_rdgan.crop import crop_face, to_unit
from avs_rdgan.edges import edge_map

SAMPLES_PER_FRAME = SAMPLE_RATE // 25
"""Audio samples per 25 fps frame (640)."""
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff")


@dataclass
class FaceClip:
    """One segment of a clip, cropped.

    Attributes:
        name: ``<clip>:<start>-<stop>`` (frames).
        crops: (T, 128, 128, 3) uint8 RGB crops to each frame's landmark box.
        lm: (T, 68, 2) float32 landmarks in crop pixels.
        valid: (T,) bool: a face was found.
        disp: (T, 68, 2) float32 crop landmarks minus the clip's mean crop shape, ÷ 128 (face-box units).
        mel: (4T, M) float32 log-mel of the segment's audio, or None (no audio: CK+).
        audio: (T · 640,) float32 at 16 kHz, or None.
    """

    name: str
    crops: np.ndarray
    lm: np.ndarray
    valid: np.ndarray
    disp: np.ndarray
    mel: np.ndarray | None = None
    audio: np.ndarray | None = None

    @property
    def num_frames(self) -> int:
        return int(self.crops.shape[0])


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise AvsError(f"cannot read {path}: {exc}") from None


def is_prepared(root: Path) -> bool:
    """Whether ``root`` holds prepared face data (an ``index.json`` of format ``avs-face-data``)."""
    index = Path(root) / "index.json"
    return index.is_file() and _read_json(index).get("format") == "avs-face-data"


def iter_video_frames(path: Path, start: int, stop: int) -> Iterator[np.ndarray]:
    """Frames ``[start, stop)`` of a video, one (H, W, 3) uint8 RGB array at a time (imageio-ffmpeg).

    Raises:
        AvsError: unreadable video or fewer frames than ``stop``.
    """
    import imageio_ffmpeg

    count = 0
    try:
        reader = imageio_ffmpeg.read_frames(str(path), pix_fmt="rgb24")
        meta = next(reader)
        w, h = meta["size"]
        for i, raw in enumerate(reader):
            if i >= stop:
                break
            if i >= start:
                count += 1
                yield np.frombuffer(raw, np.uint8).reshape(h, w, 3)
        reader.close()
    except (OSError, RuntimeError, StopIteration) as exc:
        raise AvsError(f"cannot read video {path}: {exc}") from None
    if count != stop - start:
        raise AvsError(f"{path} has fewer than {stop} frames")


def read_video_frames(path: Path, start: int, stop: int) -> np.ndarray:
    """Frames ``[start, stop)`` of a video as (N, H, W, 3) uint8 RGB."""
    return np.stack(list(iter_video_frames(path, start, stop)))


def _crop_clip(name: str, frames: Iterable[np.ndarray], lm68: np.ndarray, valid: np.ndarray,
               audio: np.ndarray | None, n_mels: int) -> FaceClip:
    """Crop every valid frame to its landmark box (frames consumed one at a time); compute displacements
    and log-mel."""
    from avs_rdgan.audio2landmark import mel_for_frames

    t = len(lm68)
    crops = np.zeros((t, IMAGE_SIZE, IMAGE_SIZE, 3), np.uint8)
    lm = np.zeros((t, 68, 2), np.float32)
    valid = valid & np.isfinite(lm68).all(axis=(1, 2))
    for i, frame in enumerate(frames):
        if not valid[i]:
            continue
        box_w, box_h = np.ptp(lm68[i], axis=0)
        if min(box_w, box_h) < 2:
            valid[i] = False
            continue
        crops[i], lm[i], _ = crop_face(frame, lm68[i], IMAGE_SIZE)
    mean = lm[valid].mean(0) if valid.any() else np.zeros((68, 2), np.float32)
    disp = ((lm - mean) / IMAGE_SIZE).astype(np.float32)
    disp[~valid] = 0.0
    mel = mel_for_frames(audio, t, SAMPLE_RATE, n_mels) if audio is not None else None
    return FaceClip(name, crops, lm, valid, disp, mel, audio)


def prepared_segments(root: Path, split: str) -> list[tuple[str, int, int]]:
    """``(clip name, start, stop)`` of a split of prepared face data.

    Raises:
        AvsError: no index, wrong format, or an unknown split.
    """
    root = Path(root)
    index_path = root / "index.json"
    if not index_path.is_file():
        raise AvsError(f"{root} is not prepared face data (no index.json); run `avs data prepare face`")
    index = _read_json(index_path)
    if index.get("format") != "avs-face-data":
        raise AvsError(f"{index_path} is not an avs face data index (format {index.get('format')!r})")
    if split not in ("train", "dev", "test"):
        raise AvsError(f"unknown split {split!r} (train, dev, test)")
    out = []
    for video in index.get("videos", []):
        a, b = video.get("split", {}).get(split, [0, 0])
        if b > a:
            out.append((str(video["name"]), int(a), int(b)))
    return out


def load_prepared(root: Path, split: str, n_mels: int = 64) -> list[FaceClip]:
    """The cropped segments of one split of prepared face data (all in memory: 48 KiB per frame)."""
    from avs.api import load_audio

    clips = []
    for name, a, b in prepared_segments(root, split):
        folder = Path(root) / name
        try:
            with np.load(folder / "track.npz", allow_pickle=False) as track:
                lm68 = np.asarray(track["lm68"], np.float32)[a:b]
                valid = np.asarray(track["valid"], bool)[a:b].copy()
        except (OSError, KeyError, ValueError) as exc:
            raise AvsError(f"cannot read {folder / 'track.npz'}: {exc}") from None
        frames = iter_video_frames(folder / "frames.mp4", a, b)
        audio = None
        if (folder / "audio.wav").is_file():
            full = load_audio(folder / "audio.wav", SAMPLE_RATE)
            audio = np.pad(full, (0, max(0, b * SAMPLES_PER_FRAME - full.size)))[
                a * SAMPLES_PER_FRAME:b * SAMPLES_PER_FRAME]
        clips.append(_crop_clip(f"{name}:{a}-{b}", frames, lm68, valid, audio, n_mels))
    return clips


def read_landmarks_txt(path: Path) -> np.ndarray:
    """A CK+ landmark file: 68 lines of ``x y`` (any float notation) → (68, 2) float32 pixels.

    Raises:
        AvsError: unreadable, or not 68 rows of 2 numbers.
    """
    try:
        lm = np.loadtxt(path, dtype=np.float64, ndmin=2)
    except (OSError, ValueError) as exc:
        raise AvsError(f"cannot read landmarks {path}: {exc}") from None
    if lm.shape != (68, 2):
        raise AvsError(f"{path}: expected 68 rows of 'x y', got shape {lm.shape}")
    return lm.astype(np.float32)


def _landmark_file(image: Path, root: Path) -> Path | None:
    beside = image.with_name(image.stem + "_landmarks.txt")
    if beside.is_file():
        return beside
    rel = image.relative_to(root).parts  # <images>/<subject>/<sequence>/<frame>
    if len(rel) >= 4:
        for lm_dir in ("Landmarks", "landmarks"):
            cand = root.joinpath(lm_dir, *rel[1:-1], image.stem + "_landmarks.txt")
            if cand.is_file():
                return cand
    return None


def image_sequences(root: Path) -> dict[str, list[tuple[Path, Path]]]:
    """CK+-style sequences: ``"<subject>/<sequence>"`` → sorted (image, landmark file) pairs."""
    root = Path(root)
    seqs: dict[str, list[tuple[Path, Path]]] = {}
    for image in sorted(root.rglob("*")):
        if image.suffix.lower() not in IMAGE_SUFFIXES or not image.is_file():
            continue
        lm = _landmark_file(image, root)
        if lm is not None:
            seqs.setdefault(f"{image.parent.parent.name}/{image.parent.name}", []).append((image, lm))
    return seqs


def split_subjects(subjects: list[str], split: str, fraction: float) -> list[str]:
    """Sorted subjects of one split: the last ``fraction`` to test, the share before to dev (≥ 1 each
    when there are at least 3 subjects; fewer: every subject in every split)."""
    subjects = sorted(set(subjects))
    if len(subjects) < 3:
        return subjects
    n = max(1, int(round(fraction * len(subjects))))
    parts = {"train": subjects[:-2 * n], "dev": subjects[-2 * n:-n], "test": subjects[-n:]}
    return parts[split]


def load_image_rgb(path: Path) -> np.ndarray:
    """Any image file → (H, W, 3) uint8 RGB: greyscale replicated, alpha composited on white, 16-bit and
    float images rescaled (scikit-image's ``img_as_ubyte``).

    Raises:
        AvsError: unreadable file or an image that is not 2-D greyscale, RGB or RGBA.
    """
    import warnings

    import imageio.v3 as iio
    from skimage.color import gray2rgb, rgba2rgb
    from skimage.util import img_as_ubyte

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # imageio's plugin probing warns about legacy plugins
            image = np.asarray(iio.imread(path))
    except Exception as exc:  # imageio raises many types for unreadable files
        raise AvsError(f"cannot read image {path}: {str(exc).splitlines()[0] if str(exc) else exc}") from None
    if image.ndim == 3 and image.shape[-1] == 1:
        image = image[..., 0]
    if image.ndim == 2:
        image = gray2rgb(image)
    elif image.ndim == 3 and image.shape[-1] == 4:
        image = rgba2rgb(image)  # float in [0, 1], alpha over white
    elif not (image.ndim == 3 and image.shape[-1] == 3):
        raise AvsError(f"{path}: unsupported image shape {image.shape} (greyscale, RGB or RGBA)")
    if image.dtype == np.uint8:
        return np.ascontiguousarray(image)
    if image.dtype.kind == "f":
        image = np.clip(image, 0.0, 1.0)
    return np.ascontiguousarray(img_as_ubyte(image))


def load_sequences(root: Path, split: str, fraction: float) -> list[FaceClip]:
    """The cropped CK+-style sequences of one split (no audio).

    Raises:
        AvsError: no sequence with landmark files under ``root``.
    """
    seqs = image_sequences(root)
    if not seqs:
        raise AvsError(f"{root} has neither index.json (prepared face data) nor image sequences with "
                       "<frame>_landmarks.txt files")
    keep = set(split_subjects([k.split("/")[0] for k in seqs], split, fraction))
    clips = []
    for key in sorted(seqs):
        if key.split("/")[0] not in keep:
            continue
        frames = np.stack([load_image_rgb(img) for img, _ in seqs[key]])
        lm68 = np.stack([read_landmarks_txt(lm) for _, lm in seqs[key]])
        clips.append(_crop_clip(key, frames, lm68, np.ones(len(lm68), bool), None, 64))
    return clips


_CACHE: dict[tuple, list[FaceClip]] = {}
"""The last loaded split(s): ``compute_stats`` and ``build_dataset`` read the same training split once."""


def load_clips(root: Path, split: str, cfg: Any) -> list[FaceClip]:
    """Prepared face data or CK+-style sequences, whichever ``root`` holds (cached per root, split and
    settings for the life of the process; the clips are read-only)."""
    root = Path(root)
    if not root.is_dir():
        raise AvsError(f"data folder not found: {root}")
    index = root / "index.json"
    stamp = index.stat().st_mtime_ns if index.is_file() else 0
    key = (str(root.resolve()), split, int(cfg.model.mel_bands), float(cfg.data.dev_fraction), stamp)
    if key not in _CACHE:
        if len(_CACHE) >= 3:
            _CACHE.pop(next(iter(_CACHE)))
        if index.is_file():
            _CACHE[key] = load_prepared(root, split, cfg.model.mel_bands)
        else:
            _CACHE[key] = load_sequences(root, split, cfg.data.dev_fraction)
    return _CACHE[key]


def training_pairs(clips: list[FaceClip], max_gap: int = 0) -> np.ndarray:
    """All ordered pairs (i, j > i) of valid frames within each clip.

    Returns:
        (P, 3) int64 rows ``clip, i, j`` (frame indices within the clip).
    """
    rows = []
    for c, clip in enumerate(clips):
        v = np.flatnonzero(clip.valid)
        i, j = np.triu_indices(len(v), k=1)
        keep = (v[j] - v[i] <= max_gap) if max_gap > 0 else np.ones(len(i), bool)
        rows.append(np.stack([np.full(keep.sum(), c), v[i][keep], v[j][keep]], 1))
    return np.concatenate(rows).astype(np.int64) if rows else np.zeros((0, 3), np.int64)


def test_pairs(clips: list[FaceClip], per_clip: int = 0) -> np.ndarray:
    """Pairs (first valid frame, later valid frame) of each clip; ``per_clip`` > 0 keeps that many,
    evenly spaced. Returns (P, 3) int64 rows ``clip, i, j``."""
    rows = []
    for c, clip in enumerate(clips):
        v = np.flatnonzero(clip.valid)
        if len(v) < 2:
            continue
        later = v[1:]
        if per_clip > 0 and len(later) > per_clip:
            later = later[np.linspace(0, len(later) - 1, per_clip).round().astype(int)]
        rows.append(np.stack([np.full(len(later), c), np.full(len(later), v[0]), later], 1))
    return np.concatenate(rows).astype(np.int64) if rows else np.zeros((0, 3), np.int64)


class PairDataset:
    """Map-style dataset of image pairs with their edge maps, plus an audio→landmark window.

    Item (numpy, float32): ``left``, ``right`` (3, 128, 128) in [−1, 1]; ``left_edges``, ``right_edges``
    (3, 128, 128) in [−1, 1]; ``left_mouth``, ``right_mouth`` (1, 128, 128) lip-box masks
    (:func:`mouth_mask`); ``mel`` (4K, M) log-mel and ``disp`` (K, 68, 2) displacements of the K
    frames (``data.a2l_frames``) around the right frame; ``has_audio`` 1.0 when the window has audio and
    only valid frames, else 0.0 (zeros then).
    """

    def __init__(self, clips: list[FaceClip], pairs: np.ndarray, a2l_frames: int = 32, n_mels: int = 64) -> None:
        self.clips, self.pairs = clips, np.asarray(pairs, np.int64)
        self.k, self.n_mels = int(a2l_frames), int(n_mels)

    def __len__(self) -> int:
        return len(self.pairs)

    def _audio_window(self, clip: FaceClip, centre: int) -> tuple[np.ndarray, np.ndarray, float]:
        k = self.k
        mel = np.zeros((4 * k, self.n_mels), np.float32)
        disp = np.zeros((k, 68, 2), np.float32)
        if clip.mel is None or clip.num_frames < k:
            return mel, disp, 0.0
        s = int(np.clip(centre - k // 2, 0, clip.num_frames - k))
        if not clip.valid[s:s + k].all():
            return mel, disp, 0.0
        return clip.mel[4 * s:4 * (s + k)], clip.disp[s:s + k], 1.0

    def __getitem__(self, index: int) -> dict[str, np.ndarray]:
        c, i, j = (int(v) for v in self.pairs[index])
        clip = self.clips[c]
        mel, disp, has = self._audio_window(clip, j)
        return {
            "left": to_unit(clip.crops[i]), "right": to_unit(clip.crops[j]),
            "left_edges": to_unit(edge_map(clip.lm[i])), "right_edges": to_unit(edge_map(clip.lm[j])),
            "mel": np.ascontiguousarray(mel, np.float32), "disp": np.ascontiguousarray(disp, np.float32),
            "has_audio": np.float32(has),
            "left_mouth": mouth_mask(clip.lm[i]), "right_mouth": mouth_mask(clip.lm[j]),
        }


def mouth_mask(lm: np.ndarray, margin: float = 4.0, size: int = IMAGE_SIZE) -> np.ndarray:
    """(1, size, size) float32 mask, 1 inside the box of the lip landmarks 48–67 (crop pixels) grown by
    ``margin`` px (the region ``loss.w_mouth`` weights)."""
    mask = np.zeros((1, size, size), np.float32)
    (x0, y0), (x1, y1) = lm[48:68].min(0) - margin, lm[48:68].max(0) + margin
    ys = slice(int(np.clip(np.floor(y0), 0, size)), int(np.clip(np.ceil(y1), 0, size)))
    xs = slice(int(np.clip(np.floor(x0), 0, size)), int(np.clip(np.ceil(x1), 0, size)))
    mask[0, ys, xs] = 1.0
    return mask


def mel_stats(clips: list[FaceClip], n_mels: int = 64) -> dict[str, np.ndarray]:
    """Per-band mean and std of the clips' log-mel (``mel_mean``, ``mel_std``, (M,) float32); zeros and
    ones when no clip has audio."""
    mels = [c.mel for c in clips if c.mel is not None]
    if not mels:
        return {"mel_mean": np.zeros(n_mels, np.float32), "mel_std": np.ones(n_mels, np.float32)}
    allm = np.concatenate(mels)
    return {"mel_mean": allm.mean(0).astype(np.float32), "mel_std": (allm.std(0) + 1e-5).astype(np.float32)}
