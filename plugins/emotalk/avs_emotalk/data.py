"""3D-ETF-style data on disk: wav + (T, 52) blendshape .npy at 30 fps, RAVDESS names, pairs, batches.

Layout (3D-ETF as described by Peng et al. 2023 and EmoTalk_release; the public archive's exact layout is not
documented, so both common forms are read):

- every ``*.wav`` under a split folder, searched recursively, with its blendshapes either beside it
  (``x.wav`` + ``x.npy``) or in a parallel ``npy/`` tree (``.../wav/a/x.wav`` + ``.../npy/a/x.npy``);
- splits: ``<root>/train``, ``<root>/dev``, ``<root>/test`` when present; otherwise all clips under
  ``<root>``, split by RAVDESS actor (``data.dev_actors``, ``data.test_actors``).

RAVDESS names (``MM-VV-EE-II-SS-RR-AA``: modality, vocal channel, emotion 01–08, intensity 01–02,
statement, repetition, actor 01–24) give each clip its emotion class (EE − 1), level (II − 1) and
person (AA − 1). Clips of the same actor, vocal channel, intensity and repetition form a group; in a
group, two statements c1 ≠ c2 and two emotions e1 ≠ e2 make one training *pair* when all four clips
A(c1,e2), A(c2,e1), A(c1,e1), A(c2,e2) exist: inputs A(c1,e2) and A(c2,e1), cross targets B(c1,e1) and
B(c2,e2), self targets their own blendshapes (paper Sec. 3.3). Clips without a RAVDESS name (e.g. HDTF)
or without partners are self-only items (both inputs the same clip), cut into pieces of at most
``data.max_frames`` frames.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from avs.api import AvsError, load_audio
from avs_emotalk.arkit import NUM_BLENDSHAPES, NUM_LEVELS, NUM_PERSONS

SAMPLE_RATE = 16000
"""Audio rate in Hz."""
FPS = 30.0
"""Blendshape frame rate."""
SPLITS = ("train", "dev", "test")
MAX_FRAME_MISMATCH = 2
"""Largest accepted difference between an .npy's frame count and its wav's ``ceil(30 · duration)``."""
PAD_SAMPLES = 4000
"""Batched waveforms are padded to a multiple of this many samples (0.25 s), so that few distinct tensor
shapes occur: fewer cached kernels and less allocator fragmentation on the CPU."""
PRELOAD_LIMIT = 4096
"""Clips up to which a split's audio and blendshapes are loaded into memory at construction."""
RAVDESS_RE = re.compile(r"^(\d{2})-(\d{2})-(\d{2})-(\d{2})-(\d{2})-(\d{2})-(\d{2})$")


@dataclass(frozen=True)
class RavdessName:
    """The fields of a RAVDESS file name ``MM-VV-EE-II-SS-RR-AA`` (all as ints)."""

    modality: int
    channel: int
    emotion: int
    intensity: int
    statement: int
    repetition: int
    actor: int

    def stem(self) -> str:
        """The name back as text, e.g. ``03-01-05-02-01-01-12``."""
        return "-".join(f"{v:02d}" for v in (self.modality, self.channel, self.emotion, self.intensity,
                                              self.statement, self.repetition, self.actor))


def parse_ravdess(stem: str) -> RavdessName | None:
    """Parse a RAVDESS file stem, or None if ``stem`` is not of that form.

    Raises:
        AvsError: a RAVDESS-shaped name with an emotion outside 01–08, an intensity outside 01–02 or an
            actor outside 01–24 (there are 24 person embeddings).
    """
    m = RAVDESS_RE.match(stem)
    if m is None:
        return None
    name = RavdessName(*(int(g) for g in m.groups()))
    if not 1 <= name.emotion <= 8:
        raise AvsError(f"{stem}: RAVDESS emotion code {name.emotion:02d} is not 01-08")
    if not 1 <= name.intensity <= NUM_LEVELS:
        raise AvsError(f"{stem}: RAVDESS intensity code {name.intensity:02d} is not 01-02")
    if not 1 <= name.actor <= NUM_PERSONS:
        raise AvsError(f"{stem}: RAVDESS actor {name.actor:02d} is not 01-24 (one person embedding per actor)")
    return name


@dataclass(frozen=True)
class Clip:
    """One wav + .npy pair.

    Attributes:
        wav, npy: the files.
        name: the RAVDESS fields, or None.
        emotion: RAVDESS class 0–7, or −1 when unknown.
        level: 0 or 1.
        person: 0–23.
        num_frames: rows of the .npy (30 fps).
    """

    wav: Path
    npy: Path
    name: RavdessName | None
    emotion: int
    level: int
    person: int
    num_frames: int


@dataclass(frozen=True)
class Segment:
    """Frames ``[start, stop)`` of clip ``clip`` (an index into the dataset's clips)."""

    clip: int
    start: int
    stop: int


@dataclass(frozen=True)
class Pair:
    """One training item: inputs ``a`` = A(c1,e2) and ``b`` = A(c2,e1); cross targets ``ab`` = B(c1,e1)
    (content of a, emotion of b) and ``ba`` = B(c2,e2); self targets are ``a`` and ``b`` themselves.
    A self-only item has ``a == b == ab == ba``."""

    a: Segment
    b: Segment
    ab: Segment
    ba: Segment

    @property
    def is_cross(self) -> bool:
        return self.a != self.b


def _npy_for(wav: Path, root: Path) -> Path:
    """Where the blendshapes of ``wav`` live: beside it, or in the parallel ``npy/`` tree."""
    beside = wav.with_suffix(".npy")
    if beside.is_file():
        return beside
    parts = wav.relative_to(root).parts
    for k in range(len(parts) - 2, -1, -1):
        if parts[k] == "wav":
            alt = root.joinpath(*parts[:k], "npy", *parts[k + 1:]).with_suffix(".npy")
            if alt.is_file():
                return alt
    return beside


def _audio_frames(wav: Path) -> tuple[int, float]:
    """(``ceil(30 · duration)``, duration in s) of a wav, from its header when soundfile can read it."""
    import soundfile as sf

    try:
        info = sf.info(str(wav))
        duration = info.frames / float(info.samplerate)
    except Exception:  # not readable by libsndfile: decode it (load_audio raises AvsError if bad)
        duration = load_audio(wav, SAMPLE_RATE).size / SAMPLE_RATE
    if duration <= 0:
        raise AvsError(f"audio file {wav} contains no samples")
    return math.ceil(duration * FPS - 1e-6), duration


def check_npy(npy: Path) -> int:
    """Frame count of a blendshape file, after checking that it is a (T, 52) numeric array.

    Raises:
        AvsError: unreadable, not an .npy array (pickles are refused), not 2-D, a width other than 52,
            no frames, or a non-numeric dtype.
    """
    try:
        arr = np.load(npy, mmap_mode="r", allow_pickle=False)
    except Exception as exc:  # ValueError for pickles, OSError/EOFError for corrupt files
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise AvsError(f"cannot read blendshapes {npy}: {first}") from None
    if not isinstance(arr, np.ndarray) or arr.ndim != 2 or arr.shape[1] != NUM_BLENDSHAPES:
        shape = getattr(arr, "shape", "?")
        raise AvsError(f"{npy} has shape {shape}; expected (T, {NUM_BLENDSHAPES}) ARKit blendshape weights")
    if arr.shape[0] == 0:
        raise AvsError(f"{npy} has no frames")
    if arr.dtype.kind not in "fiu":
        raise AvsError(f"{npy} has dtype {arr.dtype}; expected numbers")
    return int(arr.shape[0])


def read_blendshapes(npy: Path) -> np.ndarray:
    """(T, 52) float32 blendshape weights at 30 fps from an .npy file.

    Raises:
        AvsError: as :func:`check_npy`, or non-finite values.
    """
    check_npy(npy)
    arr = np.asarray(np.load(npy, allow_pickle=False), dtype=np.float32)
    if not np.isfinite(arr).all():
        raise AvsError(f"{npy} contains NaN or infinite values")
    return arr


def _make_clip(wav: Path, npy: Path, cfg: Any) -> Clip:
    name = parse_ravdess(wav.stem)
    frames = check_npy(npy)
    expected, duration = _audio_frames(wav)
    if abs(frames - expected) > MAX_FRAME_MISMATCH:
        raise AvsError(
            f"{npy.name} has {frames} frames but {wav.name} lasts {duration:.3f} s = {expected} frames at "
            f"{FPS:g} fps (more than {MAX_FRAME_MISMATCH} frames apart)"
        )
    if name is None:
        level, person = int(cfg.data.default_level), int(cfg.data.default_person)
        if not 0 <= level < NUM_LEVELS or not 0 <= person < NUM_PERSONS:
            raise AvsError(f"data.default_level must be 0-1 and data.default_person 0-23 (got {level}, {person})")
        return Clip(wav, npy, None, -1, level, person, frames)
    return Clip(wav, npy, name, name.emotion - 1, name.intensity - 1, name.actor - 1, frames)


def _split_folder(root: Path, split: str) -> Path | None:
    """``root/split`` if the root is split by folders, None if it is split by actors."""
    if any((root / s).is_dir() for s in SPLITS):
        return root / split
    return None


def find_clips(root: str | Path, split: str, cfg: Any) -> list[Clip]:
    """Every clip of one split, checked.

    Args:
        root: data-set folder (see the module docstring for the layouts).
        split: ``train``, ``dev`` or ``test``.
        cfg: an :class:`avs_emotalk.config.EmoTalkConfig` (``cfg.data``).

    Returns:
        clips sorted by path.

    Raises:
        AvsError: root missing; an unknown split; a split with no clips; a wav without its .npy (the
            count and the first are named); an .npy of the wrong width or unreadable; an .npy whose
            length differs from its wav's by more than 2 frames; a bad RAVDESS name.
    """
    root = Path(root)
    if not root.is_dir():
        raise AvsError(f"data folder not found: {root}")
    if split not in SPLITS:
        raise AvsError(f"unknown split {split!r} (known: {', '.join(SPLITS)})")
    folder = _split_folder(root, split)
    if folder is not None and not folder.is_dir():
        raise AvsError(f"{root} is split by folders but has no {split}/ folder")
    base = folder if folder is not None else root
    wavs = sorted(p for p in base.rglob("*") if p.suffix.lower() == ".wav" and p.is_file())
    pairs = [(w, _npy_for(w, base)) for w in wavs]
    missing = [w for w, n in pairs if not n.is_file()]
    if missing:
        raise AvsError(f"{len(missing)} of {len(wavs)} wav files have no matching .npy blendshapes, the first: "
                       f"{missing[0]} (expected {missing[0].with_suffix('.npy').name} beside it or under npy/)")
    clips = [_make_clip(w, n, cfg) for w, n in pairs]
    if folder is None:
        dev, test = {int(a) for a in cfg.data.dev_actors}, {int(a) for a in cfg.data.test_actors}
        if dev & test:
            raise AvsError(f"actors {sorted(dev & test)} are in both data.dev_actors and data.test_actors")

        def split_of(c: Clip) -> str:
            if c.name is None:
                return "train"
            return "dev" if c.name.actor in dev else "test" if c.name.actor in test else "train"

        clips = [c for c in clips if split_of(c) == split]
    if not clips:
        hint = f"{base}" if folder is not None else f"{root} (set data.{split}_actors or use {split}/ folders)"
        raise AvsError(f"no {split} clips (wav + .npy) in {hint}")
    return clips


def _segments(index: int, clip: Clip, max_frames: int) -> list[Segment]:
    if max_frames <= 0 or clip.num_frames <= max_frames:
        return [Segment(index, 0, clip.num_frames)]
    pieces = math.ceil(clip.num_frames / max_frames)
    edges = np.linspace(0, clip.num_frames, pieces + 1).round().astype(int)
    return [Segment(index, int(a), int(b)) for a, b in zip(edges[:-1], edges[1:], strict=True)]


def make_pairs(clips: list[Clip], max_frames: int = 600) -> list[Pair]:
    """The training items of a list of clips: every RAVDESS content/emotion pair, then self-only items.

    Pairs come from clips of the same actor, vocal channel, intensity and repetition (module docstring);
    for statements c1 < c2 and ordered emotions e1 ≠ e2 with all four clips present. Clips in no pair
    (and clips without RAVDESS names) become self-only items, long ones cut into ``max_frames`` pieces.

    Returns:
        pairs in a deterministic order.
    """
    groups: dict[tuple, dict[tuple[int, int], int]] = {}
    for i, c in enumerate(clips):
        if c.name is not None:
            key = (c.name.actor, c.name.channel, c.name.intensity, c.name.repetition, c.name.modality)
            groups.setdefault(key, {})[(c.name.statement, c.name.emotion)] = i
    items: list[Pair] = []
    used: set[int] = set()
    for key in sorted(groups):
        table = groups[key]
        statements = sorted({s for s, _ in table})
        emotions = sorted({e for _, e in table})
        for ai, c1 in enumerate(statements):
            for c2 in statements[ai + 1:]:
                for e1 in emotions:
                    for e2 in emotions:
                        quad = [table.get(k) for k in ((c1, e2), (c2, e1), (c1, e1), (c2, e2))]
                        if e1 == e2 or any(q is None for q in quad):
                            continue
                        a, b, ab, ba = (Segment(q, 0, clips[q].num_frames) for q in quad)  # type: ignore[arg-type]
                        items.append(Pair(a, b, ab, ba))
                        used.update(quad)  # type: ignore[arg-type]
    for i, c in enumerate(clips):
        if i not in used:
            items.extend(Pair(s, s, s, s) for s in _segments(i, c, max_frames))
    return items


def segment_samples(seg: Segment, clip_frames: int, clip_samples: int) -> tuple[int, int]:
    """Audio sample range ``[s0, s1)`` (16 kHz) of frames ``[start, stop)``; a whole clip is all of it."""
    if seg.start == 0 and seg.stop == clip_frames:
        return 0, clip_samples
    s0 = int(round(seg.start * SAMPLE_RATE / FPS))
    s1 = min(clip_samples, int(round(seg.stop * SAMPLE_RATE / FPS)))
    return s0, max(s1, s0 + 1)


def compute_stats(cfg: Any, data_root: str | Path) -> dict[str, np.ndarray]:
    """Statistics of the training split's blendshapes (stored in the checkpoint's metadata).

    Returns:
        ``mean`` (52,) and ``std`` (52,) float32 over all training frames; ``offset`` (52,) float32, the
        face the network's output is relative to (here the mean: training targets are centred on it and
        predictions add it back, so an untrained network with the reference's zero-initialised output
        layer starts at the mean face); ``clips`` (1,) and ``frames`` (1,) int64 counts.

    Raises:
        AvsError: as :func:`find_clips` for the train split, or a bad .npy.
    """
    clips = find_clips(data_root, "train", cfg)
    total = np.zeros(NUM_BLENDSHAPES)
    total_sq = np.zeros(NUM_BLENDSHAPES)
    count = 0
    for c in clips:
        bs = read_blendshapes(c.npy).astype(np.float64)
        total += bs.sum(0)
        total_sq += (bs**2).sum(0)
        count += bs.shape[0]
    mean = total / count
    std = np.sqrt(np.maximum(total_sq / count - mean**2, 0.0))
    return {"mean": mean.astype(np.float32), "std": std.astype(np.float32), "offset": mean.astype(np.float32),
            "clips": np.asarray([len(clips)], np.int64), "frames": np.asarray([count], np.int64)}


def output_offset(stats: dict[str, np.ndarray] | None) -> np.ndarray:
    """The (52,) float32 face the network's outputs are relative to: ``stats["offset"]``, or zeros (raw
    weights, as the reference and imported reference weights) when the statistics have none.

    Raises:
        AvsError: an offset of the wrong shape.
    """
    if not stats or "offset" not in stats:
        return np.zeros(NUM_BLENDSHAPES, np.float32)
    offset = np.asarray(stats["offset"], np.float32).reshape(-1)
    if offset.shape != (NUM_BLENDSHAPES,):
        raise AvsError(f"statistics 'offset' has shape {offset.shape}, expected ({NUM_BLENDSHAPES},)")
    return offset


class EmoTalkDataset:
    """One split of a 3D-ETF-style data set; one item per content/emotion pair (or self-only clip).

    Items (numpy): ``audio_a`` (Sa,) and ``audio_b`` (Sb,) float32 16 kHz waveforms of the inputs
    A(c1,e2) and A(c2,e1); ``bs_a``, ``bs_b``, ``bs_ab``, ``bs_ba`` (T, 52) float32 blendshape targets
    at 30 fps (self a, self b, cross B(c1,e1), cross B(c2,e2)) minus the statistics' ``offset``
    (:func:`output_offset`); ``emotion_a``, ``emotion_b`` (emotion
    class of each input, −1 unknown), ``level``, ``person``, ``index`` (int64 scalars).
    :func:`collate` batches them.

    Splits of at most :data:`PRELOAD_LIMIT` clips are read into memory at construction (every file
    checked); larger ones are read item by item.

    Attributes:
        clips: the split's clips; ``items``: the pairs.

    Raises:
        AvsError: as :func:`find_clips`; unreadable audio or blendshapes.
    """

    def __init__(self, root: str | Path, split: str, cfg: Any, stats: dict[str, np.ndarray] | None = None) -> None:
        self.root = Path(root)
        self.split = split
        self.stats = stats or {}
        self.offset = output_offset(self.stats)
        self.clips = find_clips(self.root, split, cfg)
        self.items = make_pairs(self.clips, int(cfg.data.max_frames))
        self._audio: dict[int, np.ndarray] = {}
        self._bs: dict[int, np.ndarray] = {}
        if len(self.clips) <= PRELOAD_LIMIT:
            for i in range(len(self.clips)):
                self.audio(i)
                self.blendshapes(i)

    def __len__(self) -> int:
        return len(self.items)

    def audio(self, clip: int) -> np.ndarray:
        """(S,) float32 waveform of clip ``clip`` at 16 kHz."""
        if clip in self._audio:
            return self._audio[clip]
        y = load_audio(self.clips[clip].wav, SAMPLE_RATE)
        if len(self.clips) <= PRELOAD_LIMIT:
            self._audio[clip] = y
        return y

    def blendshapes(self, clip: int) -> np.ndarray:
        """(T, 52) float32 ground-truth weights of clip ``clip`` at 30 fps."""
        if clip in self._bs:
            return self._bs[clip]
        bs = read_blendshapes(self.clips[clip].npy)
        if len(self.clips) <= PRELOAD_LIMIT:
            self._bs[clip] = bs
        return bs

    def segment_audio(self, seg: Segment) -> np.ndarray:
        """(S,) float32 audio of a segment."""
        y = self.audio(seg.clip)
        s0, s1 = segment_samples(seg, self.clips[seg.clip].num_frames, y.size)
        return y[s0:s1]

    def segment_blendshapes(self, seg: Segment) -> np.ndarray:
        """(stop − start, 52) float32 training targets of a segment: weights minus the offset."""
        return self.blendshapes(seg.clip)[seg.start:seg.stop] - self.offset

    def __getitem__(self, index: int) -> dict[str, np.ndarray]:
        p = self.items[index]
        ca, cb = self.clips[p.a.clip], self.clips[p.b.clip]
        return {
            "audio_a": self.segment_audio(p.a), "audio_b": self.segment_audio(p.b),
            "bs_a": self.segment_blendshapes(p.a), "bs_b": self.segment_blendshapes(p.b),
            "bs_ab": self.segment_blendshapes(p.ab), "bs_ba": self.segment_blendshapes(p.ba),
            "emotion_a": np.int64(ca.emotion), "emotion_b": np.int64(cb.emotion),
            "level": np.int64(ca.level), "person": np.int64(ca.person), "index": np.int64(index),
        }


def collate(items: list[dict[str, np.ndarray]]) -> dict[str, Any]:
    """Batch B items into the jobs of one training step (padding with masks).

    Waveforms: row ``b`` is item b's A(c1,e2), row ``B + b`` its A(c2,e1). Jobs (4B): ``b`` cross
    a→ab (content row b, emotion row B+b, target B(c1,e1)); ``B + b`` cross b→ba; ``2B + b`` self a;
    ``3B + b`` self b. Every job's frame count is its target's.

    Returns:
        ``pairs`` (B,) item indices; ``audio`` (2B, S_max) float32 zero-padded to a multiple of
        :data:`PAD_SAMPLES`, ``audio_lengths`` (2B,);
        ``content_index``, ``emotion_index``, ``num_frames``, ``level``, ``person``, ``emotion_label``
        (label of the job's emotion input, −1 unknown) (4B,) int64; ``cross`` (4B,) bool;
        ``target`` (4B, T_max, 52) float32 zero-padded (``num_frames`` says how much is valid).
    """
    import torch

    n = len(items)
    waves = [it["audio_a"] for it in items] + [it["audio_b"] for it in items]
    s_max = -(-max(w.size for w in waves) // PAD_SAMPLES) * PAD_SAMPLES
    audio = np.zeros((2 * n, s_max), np.float32)
    for i, w in enumerate(waves):
        audio[i, : w.size] = w
    targets = ([it["bs_ab"] for it in items] + [it["bs_ba"] for it in items]
               + [it["bs_a"] for it in items] + [it["bs_b"] for it in items])
    t_max = max(t.shape[0] for t in targets)
    target = np.zeros((4 * n, t_max, NUM_BLENDSHAPES), np.float32)
    for j, t in enumerate(targets):
        target[j, : t.shape[0]] = t
    rows = np.arange(n)
    ea = np.array([int(it["emotion_a"]) for it in items])
    eb = np.array([int(it["emotion_b"]) for it in items])
    level = np.array([int(it["level"]) for it in items])
    person = np.array([int(it["person"]) for it in items])

    def t64(x: Any) -> Any:
        return torch.as_tensor(np.asarray(x), dtype=torch.int64)

    return {
        "pairs": t64([int(it["index"]) for it in items]),
        "audio": torch.from_numpy(audio),
        "audio_lengths": t64([w.size for w in waves]),
        "content_index": t64(np.concatenate([rows, n + rows, rows, n + rows])),
        "emotion_index": t64(np.concatenate([n + rows, rows, rows, n + rows])),
        "num_frames": t64([t.shape[0] for t in targets]),
        "level": t64(np.tile(level, 4)),
        "person": t64(np.tile(person, 4)),
        "emotion_label": t64(np.concatenate([eb, ea, ea, eb])),
        "cross": torch.as_tensor(np.concatenate([np.ones(2 * n, bool), np.zeros(2 * n, bool)])),
        "target": torch.from_numpy(target),
    }


def build_dataset(cfg: Any, data_root: str | Path, split: str, stats: dict[str, np.ndarray]) -> EmoTalkDataset:
    """``(cfg, data_root, split, stats) -> Dataset``: :class:`EmoTalkDataset`."""
    return EmoTalkDataset(data_root, split, cfg, stats)
