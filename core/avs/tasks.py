"""Task evaluation suites: one per task, each with its clip container, registered through a hook.

A :class:`TaskSuite` names a task (``gesture-2d``, ``face-blendshape``, ...), the clip container a
method's ``predict_clips`` returns for it, the scoring function, the metrics' directions, and the
baselines every table needs. Suites are contributed by plugins through the ``avs_task_suites``
hook; core's own suites (gesture, blendshape) come from the built-in plugin :mod:`avs.suites`,
registered the same way. ``avs benchmark`` scores every method with the suite of its task.

This module also holds the blendshape clip container and its metrics (``face-blendshape``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from avs.errors import AvsError


@dataclass(frozen=True)
class TaskSuite:
    """How one task is scored.

    Attributes:
        task: the task name (one of :data:`avs.method.TASKS`, or a new one).
        clips_type: the container ``MethodImpl.predict_clips`` returns for this task.
        score: ``clips -> {metric: value}`` for the method's prediction in ``clips``.
        directions: ``{metric: True if higher is better}`` for ``score``'s keys.
        baselines: ``clips -> {label: {metric: value}}``: the reference rows (ground truth, mean,
            ...) scored by the same code, or None.
        layout: ``clips -> hashable``: clips of the same layout share one set of baseline rows
            (default: one set per suite).
        description: one line for ``avs benchmark`` reports.
    """

    task: str
    clips_type: type
    score: Callable[[Any], dict[str, float]]
    directions: dict[str, bool]
    baselines: Callable[[Any], dict[str, dict[str, float]]] | None = None
    layout: Callable[[Any], Any] = field(default=lambda clips: None)
    description: str = ""


# ----------------------------------------------------------------------------------- blendshapes

BLENDSHAPE_DIRECTIONS: dict[str, bool] = {
    "coef_mae_mouth_jaw": False,
    "coef_mae_eyes_brows": False,
    "coef_mae_all": False,
    "coef_velocity_mae": False,
    "lve": False,
    "eve": False,
}
"""Directions of :func:`blendshape_metrics`' keys (the two ARKit regions named here; any region's
``coef_mae_<region>`` is lower-is-better)."""


@dataclass
class BlendshapeClips:
    """Predicted and ground-truth blendshape weights of the same clips (``face-blendshape``).

    Attributes:
        pred: per clip a (T_i, C) float32 array of weights (ARKit: C = 52, in [0, 1]).
        gt: per clip the (T_i, C) ground truth, the same lengths.
        fps: frames per second.
        regions: region name → channel indices (e.g. ``{"mouth_jaw": [...], "eyes_brows": [...]}``);
            each gives a ``coef_mae_<region>`` metric.
        mean_weights: (C,) the training split's mean weights (the "mean face" baseline), or None.
        rig: a blendshape rig for LVE/EVE, or None: ``neutral`` (V, 3), ``deltas`` (C, V, 3),
            ``lip_indices`` and ``eye_indices`` (vertex indices).
        extras: the method's own metrics on these clips (shown in ``avs benchmark`` beside the suite's).
    """

    pred: list[np.ndarray]
    gt: list[np.ndarray]
    fps: float
    regions: Mapping[str, Sequence[int]] = field(default_factory=dict)
    mean_weights: np.ndarray | None = None
    rig: Mapping[str, np.ndarray] | None = None
    extras: dict[str, float] = field(default_factory=dict)

    def check(self, pred: Sequence[np.ndarray] | None = None) -> None:
        """Raise AvsError for no clips, lengths or channel counts that differ, or NaN."""
        pred = self.pred if pred is None else pred
        if not self.gt:
            raise AvsError("no blendshape clips to score")
        if len(pred) != len(self.gt):
            raise AvsError(f"{len(pred)} predicted clips for {len(self.gt)} ground-truth clips")
        for i, (p, g) in enumerate(zip(pred, self.gt, strict=True)):
            if np.shape(p) != np.shape(g) or np.ndim(g) != 2:
                raise AvsError(f"clip {i}: prediction {np.shape(p)} and ground truth {np.shape(g)} "
                               "must be equal (T, C)")
            if not (np.isfinite(p).all() and np.isfinite(g).all()):
                raise AvsError(f"clip {i}: prediction or ground truth contains NaN or infinity")


def _clip_metrics(p: np.ndarray, g: np.ndarray, clips: BlendshapeClips) -> dict[str, float]:
    from avs.metrics import blendshape_vertices, eve, lve, region_error, velocity_error

    row = {f"coef_mae_{name}": region_error(p, g, list(idx)) for name, idx in clips.regions.items()}
    row["coef_mae_all"] = region_error(p, g, range(g.shape[1]))
    row["coef_velocity_mae"] = velocity_error(p, g) if len(g) >= 2 else float("nan")
    if clips.rig is not None:
        rig = clips.rig
        pv = blendshape_vertices(p, rig["neutral"], rig["deltas"])
        gv = blendshape_vertices(g, rig["neutral"], rig["deltas"])
        row["lve"] = lve(pv, gv, rig["lip_indices"])
        row["eve"] = eve(pv, gv, rig["eye_indices"])
    return row


def blendshape_metrics(clips: BlendshapeClips, pred: Sequence[np.ndarray] | None = None) -> dict[str, float]:
    """Score a prediction of ``clips`` (default ``clips.pred``), frame-weighted over clips.

    Returns:
        ``coef_mae_<region>`` per region and ``coef_mae_all`` (mean absolute weight error),
        ``coef_velocity_mae`` (mean absolute error of frame differences; clips of one frame are
        left out), and with a rig ``lve`` / ``eve`` (CodeTalker form: per frame the maximum over the
        lip / eye-region vertices of the squared L2 error, mean over frames; rig units²).
        All lower is better (:data:`BLENDSHAPE_DIRECTIONS`).

    Raises:
        AvsError: no clips, shapes that differ, NaN.
    """
    pred = [np.asarray(p, np.float32) for p in (clips.pred if pred is None else pred)]
    clips.check(pred)
    rows = [(_clip_metrics(p, np.asarray(g, np.float32), clips), len(g)) for p, g in zip(pred, clips.gt, strict=True)]
    out = {}
    for key in rows[0][0]:
        pairs = [(r[key], n) for r, n in rows if np.isfinite(r[key])]
        total = sum(n for _, n in pairs)
        out[key] = float(sum(v * n for v, n in pairs) / total) if total else float("nan")
    return out


def blendshape_baselines(clips: BlendshapeClips) -> dict[str, dict[str, float]]:
    """Rows of the reference predictions: ``ground truth``, ``neutral face`` (all weights 0) and, with
    ``clips.mean_weights``, ``mean face`` (the training mean at every frame)."""
    rows = {"ground truth": blendshape_metrics(clips, clips.gt),
            "neutral face": blendshape_metrics(clips, [np.zeros_like(g, np.float32) for g in clips.gt])}
    if clips.mean_weights is not None:
        mean = np.asarray(clips.mean_weights, np.float32).reshape(-1)
        rows["mean face"] = blendshape_metrics(clips, [np.broadcast_to(mean, np.shape(g)).copy() for g in clips.gt])
    return rows
