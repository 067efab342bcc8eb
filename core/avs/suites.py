"""Core's built-in plugin: the task suites core ships (registered through ``avs_task_suites``, as any
plugin's would be; the datasette pattern of default plugins).

- ``gesture-2d``: :class:`avs.evaluation.GestureClips` scored by :func:`avs.evaluation.gesture_metrics`
  (L1/PCK on the scored keypoints, beat consistency, L1 diversity, lip sync, Fréchet distance), with
  the ground truth, mean-pose and mismatched baselines.
- ``face-blendshape``: :class:`avs.tasks.BlendshapeClips` scored by :func:`avs.tasks.blendshape_metrics`
  (region and velocity errors of the weights; LVE/EVE with a rig), with the ground truth, neutral
  and mean-face baselines.
"""

from __future__ import annotations

from typing import Any

from avs.plugins import hookimpl


def _score_gestures(clips: Any) -> dict[str, float]:
    from avs.evaluation import gesture_metrics

    reference = clips.features(clips.gt) if clips.features is not None else None
    return gesture_metrics(clips, reference_features=reference)


def _gesture_baselines(clips: Any) -> dict[str, dict[str, float]]:
    from avs.evaluation import gesture_baselines, gesture_metrics

    reference = clips.features(clips.gt) if clips.features is not None else None
    return {label: gesture_metrics(clips, pred=pred, reference_features=reference)
            for label, pred in gesture_baselines(clips).items()}


def gesture_suite() -> Any:
    """The ``gesture-2d`` suite."""
    from avs.evaluation import GESTURE_DIRECTIONS, GestureClips
    from avs.tasks import TaskSuite

    return TaskSuite(task="gesture-2d", clips_type=GestureClips, score=_score_gestures,
                     directions=dict(GESTURE_DIRECTIONS), baselines=_gesture_baselines,
                     layout=lambda clips: tuple(clips.gt.shape),
                     description="2-D keypoints: L1/PCK, beat consistency, diversity, lip sync, Fréchet distance")


def blendshape_suite() -> Any:
    """The ``face-blendshape`` suite."""
    from avs.tasks import BLENDSHAPE_DIRECTIONS, BlendshapeClips, TaskSuite, blendshape_baselines, blendshape_metrics

    return TaskSuite(task="face-blendshape", clips_type=BlendshapeClips, score=blendshape_metrics,
                     directions=dict(BLENDSHAPE_DIRECTIONS), baselines=blendshape_baselines,
                     layout=lambda clips: int(clips.gt[0].shape[1]),
                     description="blendshape weights: region and velocity errors, LVE/EVE with a rig")


@hookimpl
def avs_task_suites() -> list[Any]:
    """Core's suites: gesture-2d and face-blendshape."""
    return [gesture_suite(), blendshape_suite()]
