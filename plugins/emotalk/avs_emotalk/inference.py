"""Speech → blendshapes for audio of any length, the reference demo's post-processing, and evaluation.

Prediction follows the reference's ``model.py::predict`` and ``demo.py``: T = ceil(30 · samples / 16000)
frames, level and person one-hot, then Savitzky–Golay (window 5, order 2) on every channel and scripted
blinks on eyeBlinkLeft/Right (channels 8, 9): zeroed, then a 7-frame blink starting within the first 60
frames and every 60–180 frames after. Long inputs run in overlapping windows of
``cfg.infer.window_frames`` cross-faded by :func:`avs.windowing.windowed_inference`, so memory stays flat.

Controls (top-level config keys): ``emotion`` (``auto``: the emotion encoder reads the input; a RAVDESS
name: the utterance mean of the emotion features is replaced by that emotion's running mean learned in
training), ``level`` (0/1), ``person`` (0–23), and ``infer.emotion_audio`` (the emotion of another clip,
the paper's cross-reconstruction).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from avs.api import AvsError, Motion, mono_audio, windowed_inference
from avs_emotalk.arkit import EMOTIONS, EYE_BLINK, EYES_BROWS, MOUTH_JAW, NUM_BLENDSHAPES, NUM_PERSONS
from avs_emotalk.data import output_offset
from avs_emotalk.model import FPS, SAMPLE_RATE, frame_count

BLINK_PROFILES = np.array([
    [0.25, 0.80, 1.00, 0.90, 0.50, 0.20, 0.05],
    [0.15, 0.70, 0.95, 0.85, 0.40, 0.15, 0.03],
    [0.50, 0.95, 0.90, 0.65, 0.30, 0.10, 0.02],
    [0.05, 0.45, 0.90, 0.95, 0.55, 0.20, 0.04],
], dtype=np.float32)
"""Four 7-frame eyelid closures (our own curves: close in 2–3 frames, reopen in 4–5)."""
REFERENCE_BLINKS = np.array([
    [0.36537236, 0.950235724, 0.95593375, 0.916715622, 0.367256105, 0.119113259, 0.025357503],
    [0.234776169, 0.909951985, 0.944758058, 0.777862132, 0.191071674, 0.235437036, 0.089163929],
    [0.870040774, 0.949833691, 0.949418545, 0.695911646, 0.191071674, 0.072576277, 0.007108896],
    [0.000307991, 0.556701422, 0.952656746, 0.942345619, 0.425857186, 0.148335218, 0.017659493],
], dtype=np.float64)
"""The reference demo's four 7-frame blink curves (``eye1``–``eye4`` in psyai-net/EmoTalk_release ``demo.py``,
CC BY-NC 4.0; figures carried as data so ``postprocess=reference`` reproduces the demo)."""
POSTPROCESS_MODES = ("default", "reference")
"""``postprocess=`` values: ``default`` (ours: :func:`postprocess` as switched by ``cfg.infer``) and
``reference`` (the demo's, :func:`reference_postprocess`)."""
BLINK_FIRST_MAX = 60
"""The first blink starts at a frame in [0, 60] (reference ``demo.py``)."""
BLINK_GAP = (60, 180)
"""Frames between blink starts, uniform in [60, 180] (2–6 s; reference ``demo.py``)."""


def resolve_controls(cfg: Any) -> tuple[int, int, int]:
    """(emotion class or −1 for auto, level, person) from the config, checked.

    Raises:
        AvsError: an unknown emotion name, a level other than 0/1, a person outside 0–23.
    """
    name = str(cfg.emotion).strip().lower()
    if name == "auto":
        emotion = -1
    elif name in EMOTIONS:
        emotion = EMOTIONS.index(name)
    else:
        raise AvsError(f"unknown emotion {cfg.emotion!r}: use auto or one of {', '.join(EMOTIONS)}")
    level, person = int(cfg.level), int(cfg.person)
    if level not in (0, 1):
        raise AvsError(f"level must be 0 (normal) or 1 (strong), got {level}")
    if not 0 <= person < NUM_PERSONS:
        raise AvsError(f"person must be 0-{NUM_PERSONS - 1}, got {person}")
    return emotion, level, person


def _check_audio(audio: np.ndarray) -> np.ndarray:
    audio = mono_audio(audio)
    if audio.size == 0:
        raise AvsError("audio is empty")
    return audio


def predict_raw(G: Any, audio: np.ndarray, cfg: Any, emotion: int = -1, level: int = 1, person: int = 0,
                emotion_audio: np.ndarray | None = None, num_frames: int | None = None,
                offset: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The network's blendshapes for a whole recording, before post-processing.

    Args:
        G: an :class:`avs_emotalk.model.EmoTalk` (run in eval mode without gradient; mode restored).
        audio: (N,) float32 mono at 16 kHz, any length.
        cfg: an :class:`avs_emotalk.config.EmoTalkConfig` (``cfg.infer.window_frames``, ``overlap_frames``).
        emotion: RAVDESS class whose running mean replaces the emotion features' mean, or −1 (auto).
        level: 0 or 1; person: 0–23.
        emotion_audio: optional (M,) float32 16 kHz clip that gives the emotion instead of ``audio``.
        num_frames: frames to produce (default ``ceil(30 · N / 16000)``, the reference's count).
        offset: (52,) face added to the network's output (:func:`avs_emotalk.data.output_offset`); None: 0.

    Returns:
        ((T, 52) float32 weights at 30 fps, (T, 8) float32 emotion-head probabilities per frame, from
        each window's head output, cross-faded).

    Raises:
        AvsError: bad audio or windowing options; ``emotion`` that the checkpoint has no running mean for.
    """
    audio = _check_audio(audio)
    if emotion_audio is not None:
        emotion_audio = _check_audio(emotion_audio)
    window, overlap = int(cfg.infer.window_frames), int(cfg.infer.overlap_frames)
    if window < 1 or not 0 <= overlap < window:
        raise AvsError(f"infer.window_frames must be >= 1 and 0 <= infer.overlap_frames < window "
                       f"(got {window}, {overlap})")
    model = getattr(G, "module", G)
    if emotion >= 0 and float(model.emotion_prototype_count[emotion]) == 0:
        raise AvsError(f"this checkpoint has no learned emotion features for {EMOTIONS[emotion]!r} (it never saw "
                       "that emotion in training); use emotion=auto or infer.emotion_audio=FILE")
    total = int(num_frames) if num_frames is not None else frame_count(audio.size)
    device = next(model.parameters()).device
    per_frame = SAMPLE_RATE / FPS
    was_training = model.training
    model.eval()

    def run(start: int, stop: int) -> np.ndarray:
        s0 = min(int(round(start * per_frame)), max(0, audio.size - 1))
        s1 = max(min(audio.size, int(round(stop * per_frame))), s0 + 1)
        rows = [audio[s0:s1]] + ([emotion_audio] if emotion_audio is not None else [])
        width = max(r.size for r in rows)
        batch = np.zeros((len(rows), width), np.float32)
        for i, r in enumerate(rows):
            batch[i, : r.size] = r

        def t(x: Any) -> torch.Tensor:
            return torch.as_tensor(np.asarray(x), dtype=torch.int64, device=device)

        out = model(torch.from_numpy(batch).to(device), t([r.size for r in rows]), t([0]), t([len(rows) - 1]),
                    t([stop - start]), t([level]), t([person]), t([emotion]))
        bs = out["blendshapes"][0, : stop - start].float().cpu().numpy()
        probs = torch.softmax(out["logits"][0].float(), -1).cpu().numpy()
        return np.concatenate([bs, np.broadcast_to(probs, (stop - start, probs.size))], axis=1)

    try:
        with torch.no_grad():
            both = windowed_inference(total, window, overlap, run)
    finally:
        model.train(was_training)
    weights = both[:, :NUM_BLENDSHAPES] + (0.0 if offset is None else np.asarray(offset, np.float32))
    return np.ascontiguousarray(weights, np.float32), np.ascontiguousarray(both[:, NUM_BLENDSHAPES:])


def smooth(weights: np.ndarray) -> np.ndarray:
    """Savitzky–Golay filter (window 5, order 2) along time on every channel (``scipy.signal.savgol_filter``;
    reference ``demo.py``). Sequences shorter than 5 frames are returned unchanged.

    Args:
        weights: (T, C) float weights.

    Returns:
        (T, C) float32.
    """
    from scipy.signal import savgol_filter

    weights = np.asarray(weights, dtype=np.float32)
    if weights.shape[0] < 5:
        return weights.copy()
    return savgol_filter(weights, 5, 2, axis=0).astype(np.float32)


def scripted_blinks(weights: np.ndarray, seed: int = 0) -> np.ndarray:
    """Replace eyeBlinkLeft/Right (channels 8, 9) with scripted blinks (reference ``demo.py``).

    Both channels are zeroed; a blink starts at a frame drawn from [0, 60], then every 60–180 frames
    (uniform), as long as all 7 frames fit; each blink writes one of :data:`BLINK_PROFILES` (chosen at
    random) to both eyes.

    Args:
        weights: (T, 52) float weights.
        seed: seeds the script (``numpy.random.default_rng``).

    Returns:
        (T, 52) float32 copy.
    """
    out = np.array(weights, dtype=np.float32, copy=True)
    left, right = EYE_BLINK
    out[:, left] = 0.0
    out[:, right] = 0.0
    rng = np.random.default_rng(seed)
    length = BLINK_PROFILES.shape[1]
    i = int(rng.integers(0, BLINK_FIRST_MAX + 1))
    while i <= out.shape[0] - length:
        profile = BLINK_PROFILES[int(rng.integers(0, len(BLINK_PROFILES)))]
        out[i: i + length, left] = profile
        out[i: i + length, right] = profile
        i += int(rng.integers(BLINK_GAP[0], BLINK_GAP[1] + 1))
    return out


def reference_postprocess(weights: np.ndarray, seed: int = 0) -> np.ndarray:
    """The reference demo's post-processing, reproduced exactly (psyai-net/EmoTalk_release ``demo.py``).

    Each channel through ``scipy.signal.savgol_filter(x, 5, 2)`` into a float64 array; eyeBlinkLeft/Right
    (channels 8, 9) zeroed; then, with Python's ``random`` seeded by ``seed``: a first blink start
    ``randint(0, 60)``, and while ``start < T − 7`` one of the demo's four curves (:data:`REFERENCE_BLINKS`,
    ``randint(1, 4)``) written to both channels and the next start ``randint(60, 180)`` frames later. No
    clipping: about half of the reference's raw values lie outside [0, 1]. The demo with ``random.seed(seed)``
    before its blink loop gives the same numbers. Clips shorter than 5 frames (where the demo's filter
    raises) are not smoothed.

    Args:
        weights: (T, 52) raw network weights.
        seed: seeds the blink script.

    Returns:
        (T, 52) float32 (the demo's float64 result, rounded once).
    """
    import random

    from scipy.signal import savgol_filter

    raw = np.asarray(weights, dtype=np.float32)
    out = np.zeros(raw.shape, dtype=np.float64)
    for c in range(raw.shape[1]):
        out[:, c] = savgol_filter(raw[:, c], 5, 2) if raw.shape[0] >= 5 else raw[:, c]
    left, right = EYE_BLINK
    out[:, left] = 0
    out[:, right] = 0
    rng = random.Random(int(seed))
    i = rng.randint(0, BLINK_FIRST_MAX)
    length = REFERENCE_BLINKS.shape[1]
    while i < out.shape[0] - length:
        curve = REFERENCE_BLINKS[rng.randint(1, len(REFERENCE_BLINKS)) - 1]
        out[i : i + length, left] = curve
        out[i : i + length, right] = curve
        i += rng.randint(*BLINK_GAP)
    return out.astype(np.float32)


def postprocess(weights: np.ndarray, cfg: Any) -> np.ndarray:
    """Post-processing of the raw weights, as chosen by the top-level ``postprocess`` key.

    ``default``: as switched by ``cfg.infer``: ``smooth``, ``blinks`` (our blink curves), then ``clip`` to
    [0, 1] (the range of ARKit weights; the documented default for the CSV / Live Link export).
    ``reference``: :func:`reference_postprocess` with ``cfg.infer.blink_seed`` (the demo's exact numbers,
    unclipped, for comparing an imported released model with the reference).

    Raises:
        AvsError: an unknown ``postprocess`` value.
    """
    mode = str(getattr(cfg, "postprocess", "default")).strip().lower()
    if mode not in POSTPROCESS_MODES:
        raise AvsError(f"postprocess must be one of {', '.join(POSTPROCESS_MODES)}, got {mode!r}")
    if mode == "reference":
        return reference_postprocess(weights, int(cfg.infer.blink_seed))
    out = np.asarray(weights, dtype=np.float32)
    if cfg.infer.smooth:
        out = smooth(out)
    if cfg.infer.blinks:
        out = scripted_blinks(out, int(cfg.infer.blink_seed))
    if cfg.infer.clip:
        out = np.clip(out, 0.0, 1.0)
    return np.ascontiguousarray(out, dtype=np.float32)


def predict(G: Any, audio: np.ndarray, cfg: Any, stats: dict[str, np.ndarray]) -> Motion:
    """Speech → 52 ARKit blendshape weights at 30 fps (``Method.predict``).

    Args:
        G: the generator.
        audio: (N,) float32 mono at 16 kHz, any length (long inputs run in windows with flat memory).
        cfg: an :class:`avs_emotalk.config.EmoTalkConfig`: ``emotion``, ``level``, ``person``, ``cfg.infer``.
        stats: the checkpoint's statistics (``offset``: the face the outputs are relative to).

    Returns:
        ``Motion(kind="blendshapes", data=(T, 52) float32 at 30 fps, extras={"emotion_probs": (T, 8)})``,
        T = ceil(30 · N / 16000); channels in :data:`avs_emotalk.arkit.ARKIT_NAMES` order.

    Raises:
        AvsError: an unknown emotion, level not 0/1, person outside 0–23, a missing ``infer.emotion_audio``,
            bad audio, or an emotion the checkpoint has no running mean for.
    """
    emotion, level, person = resolve_controls(cfg)
    postprocess(np.zeros((1, NUM_BLENDSHAPES), np.float32), cfg)  # a bad postprocess= fails before the network runs
    ref = None
    if str(cfg.infer.emotion_audio or ""):
        from avs.api import load_audio

        ref = load_audio(Path(str(cfg.infer.emotion_audio)), SAMPLE_RATE, min_duration=1.0 / FPS,
                         min_duration_name="one frame")
        emotion = -1
    weights, probs = predict_raw(G, audio, cfg, emotion, level, person, ref, offset=output_offset(stats))
    return Motion(kind="blendshapes", data=postprocess(weights, cfg), fps=FPS, extras={"emotion_probs": probs})


# ---------------------------------------------------------------------------------------------- evaluation


def coefficient_metrics(pred: np.ndarray, gt: np.ndarray) -> dict[str, float]:
    """Coefficient-space errors of (T, 52) predictions against (T, 52) ground truth.

    Returns:
        ``coef_mae_mouth_jaw`` and ``coef_mae_eyes_brows`` (mean absolute error over the channels of
        :data:`~avs_emotalk.arkit.MOUTH_JAW` / :data:`~avs_emotalk.arkit.EYES_BROWS`), ``coef_mae_all``,
        ``coef_velocity_mae`` (mean absolute error of frame differences; NaN for a single frame), all in
        weight units.
    """
    from avs.api import region_error, velocity_error

    return {
        "coef_mae_mouth_jaw": region_error(pred, gt, MOUTH_JAW),
        "coef_mae_eyes_brows": region_error(pred, gt, EYES_BROWS),
        "coef_mae_all": region_error(pred, gt, range(NUM_BLENDSHAPES)),
        "coef_velocity_mae": velocity_error(pred, gt) if len(gt) >= 2 else float("nan"),
    }


def load_rig(path: str | Path) -> dict[str, np.ndarray]:
    """A blendshape rig for LVE/EVE: ``neutral`` (V, 3), ``deltas`` (52, V, 3), ``lip_indices``,
    ``eye_indices`` (vertex indices; EVE uses eye and forehead vertices), from an ``.npz`` (no pickles).

    Raises:
        AvsError: missing or unreadable file, a missing array, wrong shapes, indices out of range.
    """
    path = Path(path)
    if not path.is_file():
        raise AvsError(f"rig file not found: {path}")
    try:
        with np.load(path, allow_pickle=False) as z:
            missing = [k for k in ("neutral", "deltas", "lip_indices", "eye_indices") if k not in z.files]
            if missing:
                raise AvsError(f"rig {path} lacks {', '.join(missing)} (has: {', '.join(z.files)})")
            rig = {k: np.asarray(z[k]) for k in ("neutral", "deltas", "lip_indices", "eye_indices")}
    except AvsError:
        raise
    except Exception as exc:  # zipfile/ValueError for a corrupt file or an object array
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise AvsError(f"cannot read rig {path}: {first}") from None
    neutral, deltas = rig["neutral"], rig["deltas"]
    if neutral.ndim != 2 or neutral.shape[1] != 3:
        raise AvsError(f"rig {path}: neutral has shape {neutral.shape}, expected (V, 3)")
    if deltas.shape != (NUM_BLENDSHAPES, neutral.shape[0], 3):
        raise AvsError(f"rig {path}: deltas has shape {deltas.shape}, expected ({NUM_BLENDSHAPES}, "
                       f"{neutral.shape[0]}, 3)")
    for key in ("lip_indices", "eye_indices"):
        idx = rig[key].reshape(-1)
        if idx.size == 0 or idx.dtype.kind not in "iu" or idx.min() < 0 or idx.max() >= neutral.shape[0]:
            raise AvsError(f"rig {path}: {key} must be non-empty vertex indices in [0, {neutral.shape[0]})")
        rig[key] = idx.astype(np.int64)
    rig["neutral"], rig["deltas"] = neutral.astype(np.float32), deltas.astype(np.float32)
    return rig


def mesh_metrics(pred: np.ndarray, gt: np.ndarray, rig: dict[str, np.ndarray]) -> dict[str, float]:
    """LVE and EVE of (T, 52) weights through a rig (``avs.metrics.lve``/``eve``, CodeTalker form:
    per frame the max over the region's vertices of the squared L2 error, mean over frames)."""
    from avs.api import blendshape_vertices, eve, lve

    pv = blendshape_vertices(pred, rig["neutral"], rig["deltas"])
    gv = blendshape_vertices(gt, rig["neutral"], rig["deltas"])
    return {"lve": lve(pv, gv, rig["lip_indices"]), "eve": eve(pv, gv, rig["eye_indices"])}


def _without_blinks(weights: np.ndarray, cfg: Any) -> np.ndarray:
    """The post-processing of :func:`postprocess` but the scripted blinks (for scoring)."""
    out = smooth(weights) if cfg.infer.smooth else np.asarray(weights, np.float32)
    return np.clip(out, 0.0, 1.0) if cfg.infer.clip else out


def _weighted_mean(rows: list[tuple[dict[str, float], int]]) -> dict[str, float]:
    """Frame-weighted means of each key over clips, skipping NaN entries (NaN if all are)."""
    out = {}
    for key in rows[0][0]:
        pairs = [(r[key], n) for r, n in rows if np.isfinite(r[key])]
        total = sum(n for _, n in pairs)
        out[key] = sum(v * n for v, n in pairs) / total if total else float("nan")
    return out


def evaluate(G: Any, dataset: Any, cfg: Any, stats: dict[str, np.ndarray]) -> dict[str, float]:
    """Metrics of the generator over a split (``Method.evaluate``).

    Every clip is predicted from its own audio with its own level and person at its ground truth's frame
    count and post-processed as ``avs predict`` does (``cfg.infer.smooth``, ``cfg.infer.clip``) except for
    the scripted blinks, which are random; errors are averaged over frames.
    Cross-reconstruction is scored on up to ``cfg.eval.max_pairs`` content/emotion pairs.

    Returns:
        the keys of :func:`coefficient_metrics`; ``cross_coef_mae_all`` (pairs only: content of A(c1,e2)
        + emotion of A(c2,e1) vs B(c1,e1)); ``emotion_accuracy`` (clips with a RAVDESS emotion: argmax
        of the head's probabilities averaged over the clip); ``lve`` and ``eve`` with ``cfg.eval.rig``.

    Raises:
        AvsError: an empty split, a bad rig file.
    """
    from avs_emotalk.data import collate
    from avs_emotalk.recipe import run_batch

    rig = load_rig(cfg.eval.rig) if str(cfg.eval.rig or "") else None
    offset = output_offset(stats)
    if len(dataset.clips) == 0:
        raise AvsError("nothing to evaluate: the split is empty")
    rows: list[tuple[dict[str, float], int]] = []
    correct = labelled = 0
    for k, clip in enumerate(dataset.clips):
        gt = dataset.blendshapes(k)
        pred, probs = predict_raw(G, dataset.audio(k), cfg, -1, clip.level, clip.person, None, gt.shape[0], offset)
        pred = _without_blinks(pred, cfg)
        m = coefficient_metrics(pred, gt)
        if rig is not None:
            m.update(mesh_metrics(pred, gt, rig))
        rows.append((m, gt.shape[0]))
        if clip.emotion >= 0:
            labelled += 1
            correct += int(np.argmax(probs.mean(0)) == clip.emotion)
    result = _weighted_mean(rows)
    if labelled:
        result["emotion_accuracy"] = correct / labelled
    pairs = [i for i, p in enumerate(dataset.items) if p.is_cross]
    if pairs:
        limit = max(1, int(cfg.eval.max_pairs))
        chosen = [pairs[int(i)] for i in np.linspace(0, len(pairs) - 1, min(limit, len(pairs))).round()]
        model = getattr(G, "module", G)
        was_training = model.training
        model.eval()
        errors = []
        try:
            with torch.no_grad():
                for start in range(0, len(chosen), 8):
                    items = [dataset[i] for i in chosen[start: start + 8]]
                    batch = collate(items)
                    out = run_batch(model, batch)
                    n = len(items)
                    for j in range(n):  # job j: content a + emotion b → B(c1,e1) (both centred alike)
                        t = int(batch["num_frames"][j])
                        p = out["blendshapes"][j, :t].float().cpu().numpy()
                        errors.append((float(np.abs(p - batch["target"][j, :t].numpy()).mean()), t))
        finally:
            model.train(was_training)
        result["cross_coef_mae_all"] = sum(e * t for e, t in errors) / sum(t for _, t in errors)
    return result


def baseline_metrics(dataset: Any, stats: dict[str, np.ndarray], kind: str = "mean",
                     cfg: Any = None) -> dict[str, float]:
    """The coefficient metrics of a constant face: ``mean`` (the training split's mean weights, from
    ``stats``) or ``neutral`` (all zeros), for comparison with :func:`evaluate`.

    Raises:
        AvsError: an unknown kind, statistics without ``mean``.
    """
    if kind == "neutral":
        face = np.zeros(NUM_BLENDSHAPES, np.float32)
    elif kind == "mean":
        if "mean" not in stats:
            raise AvsError("statistics lack 'mean' (compute them from a training split)")
        face = np.asarray(stats["mean"], np.float32).reshape(NUM_BLENDSHAPES)
    else:
        raise AvsError(f"unknown baseline {kind!r} (mean or neutral)")
    rig = load_rig(cfg.eval.rig) if cfg is not None and str(cfg.eval.rig or "") else None
    rows = []
    for k in range(len(dataset.clips)):
        gt = dataset.blendshapes(k)
        pred = np.broadcast_to(face, gt.shape).copy()
        m = coefficient_metrics(pred, gt)
        if rig is not None:
            m.update(mesh_metrics(pred, gt, rig))
        rows.append((m, gt.shape[0]))
    return _weighted_mean(rows)
