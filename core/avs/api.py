"""The public API of avs: everything a plugin author (or a Python user) needs, and nothing else.

First-party plugins import only from here (a test enforces it); every other ``avs.*`` module is
core's private business and may change without notice. Names are loaded on first use
(PEP 562), so ``import avs.api`` stays cheap and never imports torch: a plugin's entry module
may import :class:`Method`, :class:`lazy` and :data:`hookimpl` from here freely.

Groups:

- **registration**: :class:`Method`, :class:`lazy`, :data:`hookimpl`, :data:`TASKS`, :class:`TaskSuite`
- **torch-free inference**: :class:`OnnxInference` (``Method.onnx``), :class:`OnnxGraph` (what to export;
  imports torch), :class:`OnnxRuntimeImpl` and :class:`OnnxSession` (the predict side; no torch)
- **implementation**: :class:`MethodImpl`, :func:`learning_rate_factor`, :class:`TrainConfig`,
  :func:`build_config`, :func:`option`, :class:`AvsError`, :class:`Motion`, :func:`frames_for_duration`,
  :data:`Batch`, :data:`Stats`, :class:`Dataset`, :class:`Renderer`
- **audio & video**: :func:`load_audio`, :func:`log_mel`, :func:`write_wav`, :func:`write_video`,
  :func:`probe_video`, :func:`atomic_path`, :func:`npz_array`, :func:`read_window_npz`,
  :func:`windowed_inference`, :func:`window_starts`, :func:`fit_length`
- **drawing**: :class:`SkeletonRenderer`, :func:`fit_view`, :func:`side_by_side`
- **evaluation**: :class:`GestureClips`, :func:`gesture_metrics`, :data:`GESTURE_DIRECTIONS`,
  :class:`BlendshapeClips`, :func:`blendshape_metrics`, :data:`BLENDSHAPE_DIRECTIONS`,
  :class:`FaceImageClips`, :func:`face_image_metrics`, :data:`FACE_IMAGE_DIRECTIONS` (face helpers: :mod:`avs.face`,
  extra ``avs-toolkit[face]``), and the metric
  functions (``l1``, ``l2_px``, ``pck``, ``lip_sync_error``, ``frechet_distance``, ``region_error``,
  ``velocity_error``, ``lve``, ``eve``, ``blendshape_vertices``, ``psnr``, ``ssim``...)
- **synthetic data**: :func:`default_speech_sources`, :func:`load_speech_sources`,
  :class:`SpeechAugmentation`, :func:`random_augmentation`, :func:`staged_directory`;
  a kinematic upper body: :class:`BodyProportions`, :class:`JointAngles`, :func:`upper_body`
- **weights**: :func:`load_checkpoint`, :func:`load_state_strict`
- **using a method from Python**: :func:`load` → :class:`Model` (``.predict(audio_or_path) -> Motion``,
  ``.render(motion, out_path)``)
"""

from __future__ import annotations

from avs._exports import lazy_exports

_EXPORTS: dict[str, str] = {
    # registration
    "Method": "avs.method",
    "lazy": "avs.method",
    "TASKS": "avs.method",
    "OnnxInference": "avs.method",
    "hookimpl": "avs.plugins",
    "TaskSuite": "avs.tasks",
    # implementation
    "MethodImpl": "avs.impl",
    "learning_rate_factor": "avs.impl",
    "TrainConfig": "avs.config",
    "build_config": "avs.config",
    "option": "avs.config",
    "yaml_overrides": "avs.config",
    "AvsError": "avs.errors",
    "Motion": "avs.motion",
    "frames_for_duration": "avs.motion",
    "Batch": "avs.protocols",
    "Stats": "avs.protocols",
    "Dataset": "avs.protocols",
    "Renderer": "avs.protocols",
    # torch-free inference (ONNX)
    "OnnxGraph": "avs.onnx_export",
    "OnnxRuntimeImpl": "avs.runtime",
    "OnnxSession": "avs.runtime",
    # audio, video, files
    "load_audio": "avs.audio",
    "log_mel": "avs.audio",
    "mono_audio": "avs.audio",
    "mel_filterbank": "avs.audio",
    "write_wav": "avs.audio",
    "write_video": "avs.video",
    "probe_video": "avs.video",
    "atomic_path": "avs.io",
    "npz_array": "avs.io",
    "read_window_npz": "avs.io",
    "windowed_inference": "avs.windowing",
    "window_starts": "avs.windowing",
    "fit_length": "avs.predict",
    # drawing
    "SkeletonRenderer": "avs.render",
    "fit_view": "avs.render",
    "side_by_side": "avs.render",
    # evaluation
    "GestureClips": "avs.evaluation",
    "gesture_metrics": "avs.evaluation",
    "GESTURE_DIRECTIONS": "avs.evaluation",
    "BlendshapeClips": "avs.tasks",
    "blendshape_metrics": "avs.tasks",
    "BLENDSHAPE_DIRECTIONS": "avs.tasks",
    "FaceImageClips": "avs.face.evaluation",
    "face_image_metrics": "avs.face.evaluation",
    "FACE_IMAGE_DIRECTIONS": "avs.face.evaluation",
    "l1": "avs.metrics",
    "l2_px": "avs.metrics",
    "pck": "avs.metrics",
    "lip_sync_error": "avs.metrics",
    "l1div": "avs.metrics",
    "frechet_distance": "avs.metrics",
    "region_error": "avs.metrics",
    "velocity_error": "avs.metrics",
    "lve": "avs.metrics",
    "eve": "avs.metrics",
    "blendshape_vertices": "avs.metrics",
    "psnr": "avs.metrics",
    "ssim": "avs.metrics",
    "bc_beat": "avs.metrics",
    "beat_align_aist": "avs.metrics",
    # synthetic data
    "default_speech_sources": "avs.synth",
    "load_speech_sources": "avs.synth",
    "SpeechAugmentation": "avs.synth",
    "random_augmentation": "avs.synth",
    "staged_directory": "avs.synth",
    "BodyProportions": "avs.kinematics",
    "JointAngles": "avs.kinematics",
    "upper_body": "avs.kinematics",
    "fit_hand_prior": "avs.hand_prior",
    "project_hands": "avs.hand_prior",
    # weights
    "load_checkpoint": "avs.checkpoint",
    "load_state_strict": "avs.checkpoint",
    # Python use
    "load": "avs.model",
    "Model": "avs.model",
}

__all__ = sorted(_EXPORTS)


__getattr__, __dir__ = lazy_exports(__name__, globals(), _EXPORTS)
