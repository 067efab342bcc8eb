"""Prepared face data (``avs data prepare face``) → ATC_net clips and GAN triplets.

A person folder holds ``meta.json``, ``track.npz`` (per frame ``valid``, ``lm68``, ``box``, ``euler``, ``trans``,
``exp``, ``lm478``; ``identity``), ``audio.wav`` (16 kHz, exactly T·640 samples) and ``frames.mp4`` (25 fps).
A data root holds ``index.json`` and one such folder per video.

Coefficients: ATC_net's 70 targets per frame are ``exp (64) | euler (3, radians) | trans (3)``, as the
reference's ``coeff[:, 80:144] | coeff[:, 224:227] | coeff[:, 254:257]`` (``dataset.py``). They are learned in a
normalised space: minus the person's own mean over its training frames, divided by the pooled per-dimension
std of the training data (stored in the checkpoint) — the reference regressed raw BFM coefficients (with
``trans_z − 0.5``); our translation is in pixels, so it needs scaling, and per-person centring lets a general
model serve any target.

Splits (reference ``News_1D_lstm_3dmm_pose``, ``train_19news_1.py``): frames ``[0, 300)`` train and
``[300, 400)`` test; a person with fewer than 400 frames (the 8 s HDTF clips, 200 frames) uses
``[0, 150)`` / ``[150, 200)``; shorter ones 3/4 and 1/4.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from avs.api import AvsError
from avs_phadtf.config import DataConfig
from avs_phadtf.mfcc import SAMPLES_PER_FRAME

COEFF_KEYS = ("exp", "euler", "trans")


def split_frames(num_frames: int, cfg: DataConfig) -> tuple[int, int]:
    """(train_stop, test_stop): frames ``[0, train_stop)`` train, ``[train_stop, test_stop)`` held out."""
    if num_frames >= cfg.train_frames + cfg.test_frames:
        return cfg.train_frames, cfg.train_frames + cfg.test_frames
    if num_frames >= cfg.short_train_frames + cfg.short_test_frames:
        return cfg.short_train_frames, cfg.short_train_frames + cfg.short_test_frames
    train = int(round(num_frames * 0.75))
    return train, num_frames


@dataclass
class Person:
    """One prepared video of one person.

    Attributes:
        root: the person folder.
        name: its name (the source video's stem).
        num_frames: T.
        width, height: frame size in pixels.
        track: the arrays of ``track.npz``.
    """

    root: Path
    name: str
    num_frames: int
    width: int
    height: int
    track: dict[str, np.ndarray] = field(repr=False)
    meta: dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def load(cls, path: str | Path) -> Person:
        """Open a person folder, or a data root holding exactly one video.

        Raises:
            AvsError: not a prepared person (no ``track.npz``/``index.json``), several videos, a corrupt track.
        """
        path = Path(path)
        if not path.is_dir():
            raise AvsError(f"target {path} is not a folder (run `avs data prepare face VIDEO OUT` first)")
        if not (path / "track.npz").is_file():
            names = [v["name"] for v in read_index(path)["videos"]]
            if len(names) != 1:
                raise AvsError(f"{path} holds {len(names)} videos; name one person folder, e.g. {path / names[0]}")
            path = path / names[0]
        for f in ("track.npz", "audio.wav", "frames.mp4", "meta.json"):
            if not (path / f).is_file():
                raise AvsError(f"{path} is not prepared face data: {f} is missing (run `avs data prepare face`)")
        try:
            meta = json.loads((path / "meta.json").read_text())
            with np.load(path / "track.npz", allow_pickle=False) as z:
                track = {k: z[k] for k in z.files}
        except Exception as exc:
            raise AvsError(f"cannot read prepared face data in {path}: {exc}") from None
        missing = [k for k in ("valid", "box", "lm68", "lm478", *COEFF_KEYS) if k not in track]
        if missing:
            raise AvsError(f"{path / 'track.npz'} lacks {', '.join(missing)}")
        t = int(len(track["valid"]))
        return cls(root=path, name=path.name, num_frames=t, width=int(meta.get("width", 0)),
                   height=int(meta.get("height", 0)), track=track, meta=meta)

    def face_model(self) -> Any:
        """The face model the track's coefficients belong to: the open face model, or the synthetic one of a
        person written by :func:`avs_phadtf.synth.synthesize_person` (``meta.json`` ``face_model``)."""
        if self.meta.get("face_model") == "phadtf-synthetic":
            from avs_phadtf.synth import SynthFaceModel

            return SynthFaceModel(int(self.meta.get("seed", 0)))
        from avs_phadtf.face import face_model

        return face_model()

    def coefficients(self) -> np.ndarray:
        """(T, 70) float32: exp (64) | euler (3) | trans (3); NaN where no face was found."""
        return np.concatenate([self.track[k].astype(np.float32) for k in COEFF_KEYS], axis=1)

    @property
    def valid(self) -> np.ndarray:
        """(T,) bool: a face was found and its coefficients are finite."""
        return self.track["valid"].astype(bool) & np.isfinite(self.coefficients()).all(axis=1)

    def audio(self) -> np.ndarray:
        """(T·640,) float32 mono 16 kHz speech in sync with the frames."""
        import soundfile

        data, sr = soundfile.read(self.root / "audio.wav", dtype="float32", always_2d=True)
        if sr != 16000:
            raise AvsError(f"{self.root / 'audio.wav'} is {sr} Hz, expected 16000 (re-run `avs data prepare face`)")
        audio = data.mean(axis=1)
        need = self.num_frames * SAMPLES_PER_FRAME
        return np.pad(audio, (0, max(0, need - len(audio))))[:need]

    def frames(self, start: int = 0, stop: int | None = None) -> np.ndarray:
        """(N, H, W, 3) uint8 RGB frames ``[start, stop)``."""
        return np.stack(list(self.iter_frames(start, stop)))

    def iter_frames(self, start: int = 0, stop: int | None = None):
        """Frames ``[start, stop)`` one at a time, (H, W, 3) uint8 RGB."""
        import imageio.v3 as iio

        stop = self.num_frames if stop is None else min(stop, self.num_frames)
        for i, frame in enumerate(iio.imiter(self.root / "frames.mp4", plugin="FFMPEG")):
            if i >= stop:
                break
            if i >= start:
                yield np.ascontiguousarray(frame[..., :3])

    def identity_shape(self) -> np.ndarray:
        """(478, 3) the person's mean face shape in model units (from the track, or refitted from ``lm478``)."""
        if "identity_shape" in self.track:
            return self.track["identity_shape"].astype(np.float64)
        return self.face_model().fit(self.track["lm478"], self.track["valid"].astype(bool))["identity_shape"]


def read_index(root: Path) -> dict[str, Any]:
    """``index.json`` of a data root. AvsError when missing or not avs face data."""
    f = Path(root) / "index.json"
    if not f.is_file():
        raise AvsError(f"{root} is not prepared face data: no index.json or track.npz "
                       "(run `avs data prepare face VIDEO... OUT`)")
    try:
        index = json.loads(f.read_text())
    except ValueError as exc:
        raise AvsError(f"{f} is not valid JSON: {exc}") from None
    if index.get("format") != "avs-face-data" or not index.get("videos"):
        raise AvsError(f"{f} is not an avs face data index (format avs-face-data with videos)")
    return index


def people(root: str | Path) -> list[tuple[Person, dict[str, list[int]]]]:
    """Every person of a data root (or the single person folder) with its frame ranges per split.

    A data root's ``index.json`` split ranges are used; a single person folder gets :func:`split_frames`'s.
    """
    root = Path(root)
    if (root / "track.npz").is_file():
        p = Person.load(root)
        tr, te = split_frames(p.num_frames, DataConfig())
        return [(p, {"train": [0, tr], "dev": [tr, te], "test": [tr, te]})]
    index = read_index(root)
    out = []
    for v in index["videos"]:
        p = Person.load(root / v["name"])
        out.append((p, {k: list(r) for k, r in v.get("split", {}).items()}))
    return out


def normalise(coeffs: np.ndarray, mean: np.ndarray, std: np.ndarray) -> np.ndarray:
    """(…, 70) coefficients → ATC_net's space: (x − person mean) / pooled std."""
    return ((coeffs - mean) / std).astype(np.float32)


def denormalise(z: np.ndarray, mean: np.ndarray, std: np.ndarray) -> np.ndarray:
    """Inverse of :func:`normalise`."""
    return (z * std + mean).astype(np.float32)


def person_mean(coeffs: np.ndarray, valid: np.ndarray, stop: int) -> np.ndarray:
    """(70,) mean coefficients of the valid frames among the first ``stop``."""
    v = valid[:stop]
    if not v.any():
        raise AvsError("no frame with a tracked face among the training frames")
    return coeffs[:stop][v].mean(axis=0)


def clip_starts(valid: np.ndarray, start: int, stop: int, length: int, stride: int = 1) -> list[int]:
    """First frames of every ``length``-frame clip inside ``[start, stop)`` whose frames are all valid."""
    ok = valid.astype(np.int64)
    csum = np.concatenate([[0], np.cumsum(ok)])
    return [s for s in range(start, stop - length + 1, stride) if csum[s + length] - csum[s] == length]
