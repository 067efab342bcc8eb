"""Speech → 137 keypoints for audio of any length; template choice; evaluation over a split.

Inference (SDT ``Voice2PoseModel.forward`` at test time and its demo mode): the pose length is
``floor(15 · samples / 16000)`` (``parse_audio_length``). Like the reference demo, a clip of up to
``cfg.infer.window_frames`` frames (360 = the reference's ``MAX_DEMO_LENGTH`` of 24 s) runs through
the generator in one pass over its own audio (cropped to ``int(frames · 16000 / 15)`` samples), so the
instance norm sees the clip and nothing else; clips shorter than the generator's 32-frame minimum are
zero-padded to it (``crop_pad_audio``) and cropped back. Where the reference crops longer audio to a
random 24 s, we cover it with overlapping passes of that length cross-faded by
:func:`avs.windowing.windowed_inference`, so memory stays flat; one template code drives the whole
recording. Decoding de-normalises with the chosen speaker's statistics, reverses the
hierarchical form, multiplies by the scale factor, and puts the result back into the 137-point
OpenPose layout at the speaker's mean neck position (unmodelled points NaN).

Template choice (config keys, :class:`avs_sdt.config.SDTConfig`):

- default ``template=random``: a random training template of the chosen speaker (``seed=``);
- ``template=normal``: a sample of N(0, I) (``seed=``);
- ``template_index=i``: training template i; with ``template_index_b=j alpha=a``:
  ``(1 − a)·t_i + a·t_j`` (the reference's demo interpolation);
- ``template=gt`` (evaluate only): the pose VAE's μ of the ground-truth clip.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import numpy as np
import torch

from avs.api import AvsError, Motion, mono_audio, window_starts, windowed_inference
from avs_sdt.config import INFER_DTYPES, TEMPLATE_MODES, TEMPLATE_VARIANTS, check_variant, resolve_hierarchical
from avs_sdt.data import (
    FPS,
    SAMPLE_RATE,
    WINDOW_FRAMES,
    check_stats,
    fit_audio,
    melspectrogram,
    speaker_index,
)
from avs_sdt.keypoints import LOWER_LIP, UPPER_LIP, denormalise, expand_to_137
from avs_sdt.model import MIN_FRAMES

EVAL_BATCH = 32
DECODE_CHUNK = 4096
"""Frames decoded to pixels at once by :func:`predict`."""


# --------------------------------------------------------------------------- templates


def template_table(G: Any, cfg: Any, stats: dict[str, np.ndarray]) -> np.ndarray | None:
    """The training templates: (N, template_dim) float32, or None for variants without templates.

    ``sdt-bp``: the generator's learned ``templates``; ``sdt-vae``: ``stats["templates"]`` (the pose
    VAE's μ of every training clip).
    """
    variant = check_variant(cfg)
    if variant == "sdt-bp":
        return G.templates.detach().float().cpu().numpy()
    if variant == "sdt-vae":
        if "templates" not in stats:
            raise AvsError("this sdt-vae checkpoint has no templates in its statistics")
        return np.asarray(stats["templates"], dtype=np.float32)
    return None


def _check_template_options(cfg: Any, table: np.ndarray | None, allow_gt: bool) -> None:
    mode = str(cfg.template)
    if mode not in TEMPLATE_MODES:
        raise AvsError(f"template must be one of {', '.join(TEMPLATE_MODES)}, got {mode!r}")
    if mode == "gt" and not allow_gt:
        raise AvsError("template=gt needs ground truth: it is for avs evaluate, not predict")
    i, j = cfg.template_index, cfg.template_index_b
    if table is None:
        if i is not None or j is not None or mode != "random":
            raise AvsError(f"variant {cfg.variant!r} has no templates; drop the template options")
        return
    n = len(table)
    if j is not None and i is None:
        raise AvsError("template_index_b needs template_index (interpolate from template i to template j)")
    if i is not None and mode != "random":
        raise AvsError(f"choose either template_index or template={mode}, not both")
    for name, value in (("template_index", i), ("template_index_b", j)):
        if value is not None and not 0 <= int(value) < n:
            raise AvsError(f"{name}={value} is out of range: there are {n} training templates (0..{n - 1})")
    if not math.isfinite(float(cfg.alpha)):
        raise AvsError(f"alpha must be a finite number, got {cfg.alpha}")


def choose_template(cfg: Any, stats: dict[str, np.ndarray], table: np.ndarray | None,
                    speaker: int) -> np.ndarray | None:
    """The one template code of a prediction, following the config (see the module docstring).

    Args:
        cfg: an :class:`avs_sdt.config.SDTConfig`.
        stats: the checkpoint's statistics (``clip_speaker``: the speaker of every template row).
        table: from :func:`template_table`.
        speaker: the chosen speaker's row (``random`` draws among its own templates).

    Returns:
        (template_dim,) float32, or None without templates.

    Raises:
        AvsError: bad or contradictory template options, an index out of range.
    """
    _check_template_options(cfg, table, allow_gt=False)
    if table is None:
        return None
    i, j = cfg.template_index, cfg.template_index_b
    rng = np.random.default_rng(int(cfg.seed))
    if i is not None:
        code = table[int(i)].astype(np.float64)
        if j is not None:
            a = float(cfg.alpha)
            code = (1.0 - a) * code + a * table[int(j)]
        return code.astype(np.float32)
    if str(cfg.template) == "normal":
        return rng.standard_normal(table.shape[1]).astype(np.float32)
    rows = np.flatnonzero(np.asarray(stats["clip_speaker"]) == speaker)
    if rows.size == 0:
        rows = np.arange(len(table))
    return table[int(rng.choice(rows))].astype(np.float32)


# --------------------------------------------------------------------------- prediction


def num_pose_frames(num_samples: int) -> int:
    """Pose frames for ``num_samples`` of 16 kHz audio: floor(15 · samples / 16000)."""
    return int(FPS * num_samples) // SAMPLE_RATE


def predict_normalised(G: Any, audio: np.ndarray, cfg: Any, code: np.ndarray | None) -> np.ndarray:
    """Normalised poses for a whole recording, one template code throughout.

    Args:
        G: the generator (run in eval mode without gradient; its mode is restored).
        audio: (N,) float32 mono at 16 kHz, at least one frame long.
        cfg: an :class:`avs_sdt.config.SDTConfig` (``infer.window_frames``, ``overlap_frames``,
            ``batch_windows``, ``dtype``: ``bfloat16`` runs the generator under bfloat16 autocast).
        code: (template_dim,) code or None (s2g baseline).

    A clip of at most ``cfg.infer.window_frames`` frames is one pass of the generator over exactly its
    audio (the reference demo); longer ones are windows of that length, cross-faded (module docstring).

    Returns:
        (T, 242) float32 normalised poses at 15 fps, T = floor(15 · N / 16000).

    Raises:
        AvsError: audio shorter than one frame, not 1-D, non-finite; bad window settings; an unknown
            ``infer.dtype``.
    """
    audio = mono_audio(audio)
    num_frames = num_pose_frames(audio.size)
    if num_frames == 0:
        raise AvsError(f"audio shorter than one frame: {audio.size} samples, need at least {1 / FPS:.3f} s")
    window, overlap = int(cfg.infer.window_frames), int(cfg.infer.overlap_frames)
    if window < MIN_FRAMES or not 0 <= overlap < window:
        raise AvsError(f"infer.window_frames must be >= {MIN_FRAMES} and 0 <= infer.overlap_frames < window "
                       f"(got {window}, {overlap})")
    batch = max(1, int(cfg.infer.batch_windows))
    dtype = str(cfg.infer.dtype)
    if dtype not in INFER_DTYPES:
        raise AvsError(f"infer.dtype must be one of {', '.join(INFER_DTYPES)}, got {dtype!r}")
    device = next(G.parameters()).device
    code_t = None if code is None else torch.as_tensor(code, dtype=torch.float32, device=device)
    window = min(window, num_frames)  # one pass over the whole clip when it fits
    overlap = min(overlap, window - 1)
    passed = max(window, MIN_FRAMES)  # frames the generator runs on (short clips padded with silence)
    win_samples = int(passed * SAMPLE_RATE / FPS)  # parse_audio_length: int(frames · 16000 / 15)
    keep = int(window * SAMPLE_RATE / FPS)  # audio of the frames kept; past it, silence
    starts = window_starts(num_frames, window, overlap)
    cache: dict[int, np.ndarray] = {}
    pending = iter(starts)

    def fill() -> None:  # run the next batch of windows through the network
        chunk = [s for _, s in zip(range(batch), pending, strict=False)]
        mels = []
        for s in chunk:
            s0 = int(round(s * SAMPLE_RATE / FPS))
            mels.append(melspectrogram(fit_audio(audio[s0 : s0 + keep], win_samples)))
        mel = torch.from_numpy(np.stack(mels)).to(device)
        codes = None if code_t is None else code_t[None].expand(len(chunk), -1)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=dtype == "bfloat16"):
            out = G(mel, passed, codes).float().cpu().numpy()
        cache.update(zip(chunk, out, strict=True))

    def run(start: int, stop: int) -> np.ndarray:
        if start not in cache:
            fill()
        return cache.pop(start)[: stop - start]

    was_training = G.training
    G.eval()
    try:
        with torch.no_grad():
            return windowed_inference(num_frames, window, overlap, run)
    finally:
        G.train(was_training)


def decode(flat: np.ndarray, stats: dict[str, np.ndarray], speakers: Any, cfg: Any) -> np.ndarray:
    """Normalised poses → neck-relative pixels with each clip's speaker statistics.

    Args:
        flat: (..., T, 242) normalised poses (leading dims: clips).
        stats: checked statistics.
        speakers: speaker row(s), broadcast over the leading dimensions (an int or an (N,) array).
        cfg: the config (hierarchical mode).

    Returns:
        (..., T, 121, 2) float64 neck-relative pixels.
    """
    s = np.asarray(speakers)
    mean = stats["mean"][s].astype(np.float64)[..., None, :]
    std = stats["std"][s].astype(np.float64)[..., None, :]
    scale = stats["scale_factor"][s].astype(np.float64)[..., None, None, None]
    return denormalise(np.asarray(flat, np.float64), mean, std, scale, resolve_hierarchical(cfg))


def predict(G: Any, audio: np.ndarray, cfg: Any, stats: dict[str, np.ndarray]) -> Motion:
    """Speech → the 137 OpenPose keypoints of every frame, in the speaker's pixels.

    Args:
        G: the generator.
        audio: (N,) float32 mono at 16 kHz, any length ≥ one frame; long inputs run in windows.
        cfg: an :class:`avs_sdt.config.SDTConfig` (``speaker``, template options, ``infer``).
        stats: the checkpoint's statistics.

    Returns:
        ``Motion("keypoints-2d", (T, 137, 2) float32 pixels, fps=15)``, T = floor(15 · N / 16000);
        the legs, hips, ears and feet (not modelled) are NaN, the neck sits at the speaker's mean
        neck position.

    Raises:
        AvsError: a pose VAE checkpoint (it has no audio input), bad audio, an unknown speaker, bad
            template options.
    """
    if check_variant(cfg) == "pose-vae":
        raise AvsError("a pose VAE turns poses into codes, not speech into gestures: use it as "
                       "pose_vae_checkpoint= (SDT-VAE, FTD) and predict with an s2g/sdt-bp/sdt-vae checkpoint")
    stats = check_stats(stats)
    s = speaker_index(stats, str(cfg.speaker))
    code = choose_template(cfg, stats, template_table(G, cfg, stats), s)
    flat = predict_normalised(G, audio, cfg, code)
    keypoints = np.empty((len(flat), 137, 2), np.float32)
    for a in range(0, len(flat), DECODE_CHUNK):  # float64 decoding a chunk at a time: memory flat in the length
        b = min(a + DECODE_CHUNK, len(flat))
        keypoints[a:b] = expand_to_137(decode(flat[a:b], stats, s, cfg), stats["neck"][s])
    return Motion(kind="keypoints-2d", data=keypoints, fps=FPS)


# --------------------------------------------------------------------------- evaluation


def _items(dataset: Any, start: int, stop: int) -> list[dict[str, Any]]:
    return [dataset[j] for j in range(start, stop)]


def eval_codes(G: Any, dataset: Any, cfg: Any, stats: dict[str, np.ndarray], bundle: Any = None) -> np.ndarray | None:
    """One template code per clip of ``dataset`` for evaluation: (N, template_dim) float32 or None.

    ``random``: the training template the dataset drew for the clip (seeded by ``seed``);
    ``normal``: N(0, I) samples (``seed``); ``template_index`` (and ``_b``, ``alpha``): that code for
    every clip; ``gt``: the pose VAE's μ of each ground-truth clip (needs ``bundle``).
    """
    table = template_table(G, cfg, stats)
    _check_template_options(cfg, table, allow_gt=True)
    if table is None:
        return None
    n = len(dataset)
    if cfg.template_index is not None:
        code = choose_template(cfg, stats, table, 0)
        return np.repeat(code[None], n, axis=0)
    mode = str(cfg.template)
    if mode == "normal":
        return np.random.default_rng(int(cfg.seed)).standard_normal((n, table.shape[1])).astype(np.float32)
    if mode == "gt":
        from avs_sdt.evaluation import load_pose_vae, require_pose_vae, vae_encode

        bundle = bundle or load_pose_vae(require_pose_vae(cfg, "template=gt"))
        gt = ground_truth_pixels(dataset, cfg)
        return vae_encode(bundle, gt, [dataset.speakers[s] for s in dataset.speaker_ids])[0].astype(np.float32)
    return table[np.asarray(dataset.template_index)]


def predict_dataset(G: Any, dataset: Any, cfg: Any, codes: np.ndarray | None) -> np.ndarray:
    """Normalised predictions of every clip: (N, 64, 242) float32 (eval mode, no gradient)."""
    device = next(G.parameters()).device
    was_training = G.training
    G.eval()
    out = []
    try:
        with torch.no_grad():
            for i in range(0, len(dataset), EVAL_BATCH):
                items = _items(dataset, i, min(i + EVAL_BATCH, len(dataset)))
                if check_variant(cfg) == "pose-vae":
                    pose = torch.from_numpy(np.stack([it["pose"] for it in items])).to(device)
                    out.append(G(pose)[0].float().cpu().numpy())
                    continue
                mel = torch.from_numpy(np.stack([it["mel"] for it in items])).to(device)
                code = None if codes is None else torch.from_numpy(codes[i : i + len(items)]).to(device)
                out.append(G(mel, WINDOW_FRAMES, code).float().cpu().numpy())
    finally:
        G.train(was_training)
    return np.concatenate(out) if out else np.zeros((0, WINDOW_FRAMES, 242), np.float32)


def ground_truth_normalised(dataset: Any) -> np.ndarray:
    """(N, 64, 242) normalised ground truth of every clip."""
    return np.stack([dataset[j]["pose"] for j in range(len(dataset))])


def ground_truth_pixels(dataset: Any, cfg: Any) -> np.ndarray:
    """(N, 64, 121, 2) neck-relative ground-truth pixels (the normalised clips decoded)."""
    return decode(ground_truth_normalised(dataset), dataset.stats, dataset.speaker_ids, cfg)


def _score(pred: np.ndarray, gt: np.ndarray, dataset: Any, cfg: Any, bundle: Any) -> dict[str, float]:
    from avs.api import GestureClips, gesture_metrics, l2_px
    from avs_sdt.evaluation import ftd

    pred_px = decode(pred, dataset.stats, dataset.speaker_ids, cfg)
    gt_px = decode(gt, dataset.stats, dataset.speaker_ids, cfg)
    clips = GestureClips(  # core's suite: PCK, beat consistency, diversity, lip-sync error
        pred=pred_px.astype(np.float32), gt=gt_px.astype(np.float32), fps=FPS,
        audio=np.stack([dataset.audio(i) for i in range(len(dataset))]), sample_rate=SAMPLE_RATE,
        scored=list(range(pred_px.shape[2])), mean_pose=dataset.stats["mean_pose"][0], lips=(UPPER_LIP, LOWER_LIP),
    )
    result = {
        "l1": float(np.abs(pred - gt).mean()),
        "l2_px": l2_px(pred_px, gt_px),
        **gesture_metrics(clips),
    }
    if bundle is not None:
        result.update(ftd(bundle, pred_px, gt_px, [dataset.speakers[s] for s in dataset.speaker_ids]))
    return result


def _ftd_bundle(cfg: Any) -> Any:
    if check_variant(cfg) == "pose-vae" or not bool(cfg.ftd):
        return None
    from avs_sdt.evaluation import load_pose_vae, require_pose_vae

    return load_pose_vae(require_pose_vae(cfg, "FTD"))


def evaluate(G: Any, dataset: Any, cfg: Any, stats: dict[str, np.ndarray]) -> dict[str, float]:
    """Metrics of the generator over a split (SDT ``Voice2Pose.evaluate_step``/``evaluate_epoch``).

    Args:
        G: the generator (or pose VAE: reconstruction metrics).
        dataset: an :class:`avs_sdt.data.SDTDataset` split.
        cfg: an :class:`avs_sdt.config.SDTConfig` (template options; ``ftd``,
            ``pose_vae_checkpoint``; ``pca_plot``).
        stats: the checkpoint's statistics.

    Returns:
        ``l1`` (normalised units), ``l2_px`` (mean distance per keypoint and frame, pixels),
        ``lip_sync_error`` (fraction of the clip's largest ground-truth lip opening, keypoints 71/75),
        core's gesture suite (:func:`avs.evaluation.gesture_metrics`: ``l1_px``, ``pck@0.1``/``pck@0.2``,
        beat consistency, ``l1div_px``) over the 121 keypoints, and unless ``ftd=false`` (or for a
        pose VAE) ``ftd`` and ``ftd_mu_logvar``. With ``pca_plot``
        set and templates present, the PCA plot of the templates is written there.

    Raises:
        AvsError: an empty split; FTD asked for (the default) without ``pose_vae_checkpoint``.
    """
    stats = check_stats(stats)
    if len(dataset) == 0:
        raise AvsError("nothing to evaluate: the split is empty")
    bundle = _ftd_bundle(cfg)  # refuse before the (slow) predictions
    codes = None if check_variant(cfg) == "pose-vae" else eval_codes(G, dataset, cfg, stats, bundle)
    pred = predict_dataset(G, dataset, cfg, codes)
    result = _score(pred, ground_truth_normalised(dataset), dataset, cfg, bundle)
    if cfg.pca_plot and check_variant(cfg) in TEMPLATE_VARIANTS:
        from avs_sdt.evaluation import plot_templates_pca

        plot_templates_pca(template_table(G, cfg, stats), stats["clip_speaker"], [str(s) for s in stats["speakers"]],
                           str(cfg.pca_plot), title=f"{cfg.variant} templates")
    return result


def mean_pose_baseline(dataset: Any, cfg: Any, stats: dict[str, np.ndarray]) -> dict[str, float]:
    """The metrics of :func:`evaluate` for predicting each speaker's training mean pose in every frame
    (0 in normalised units): a model that learned anything from the audio must beat it on L1/L2.

    Raises:
        AvsError: as :func:`evaluate`.
    """
    stats = check_stats(stats)
    if len(dataset) == 0:
        raise AvsError("nothing to evaluate: the split is empty")
    gt = ground_truth_normalised(dataset)
    return _score(np.zeros_like(gt), gt, dataset, cfg, _ftd_bundle(cfg))


def predict_clips(G: Any, dataset: Any, cfg: Any, stats: dict[str, np.ndarray]) -> Any:
    """A split's predictions and ground truth for ``avs benchmark`` (:class:`avs.evaluation.GestureClips`).

    Keypoints are the 121 neck-relative points in pixels (all scored); the mean pose is the
    training mean of the first speaker; lips are keypoints 71/75; FTD features come from the pose
    VAE when ``pose_vae_checkpoint`` is set.
    """
    from avs.api import GestureClips

    stats = check_stats(stats)
    bundle = None
    if cfg.pose_vae_checkpoint and check_variant(cfg) != "pose-vae":
        from avs_sdt.evaluation import load_pose_vae, require_pose_vae

        bundle = load_pose_vae(require_pose_vae(cfg, "FTD"))
    codes = None if check_variant(cfg) == "pose-vae" else eval_codes(G, dataset, cfg, stats, bundle)
    pred = decode(predict_dataset(G, dataset, cfg, codes), dataset.stats, dataset.speaker_ids, cfg)
    gt = ground_truth_pixels(dataset, cfg)
    names = [dataset.speakers[s] for s in dataset.speaker_ids]
    features = None
    if bundle is not None:
        from avs_sdt.evaluation import vae_encode

        def features(clips: np.ndarray) -> np.ndarray:
            return vae_encode(bundle, clips, names)[0]

    return GestureClips(
        pred=pred.astype(np.float32), gt=gt.astype(np.float32), fps=FPS,
        audio=np.stack([dataset.audio(i) for i in range(len(dataset))]), sample_rate=SAMPLE_RATE,
        scored=list(range(121)), mean_pose=stats["mean_pose"][0], lips=(UPPER_LIP, LOWER_LIP),
        features=features, feature_metric="ftd",
    )


def iter_clip_predictions(G: Any, dataset: Any, cfg: Any, stats: dict[str, np.ndarray],
                          indices: list[int]) -> Iterator[tuple[int, np.ndarray, np.ndarray]]:
    """For each clip index: (index, predicted (64, 137, 2), ground truth (64, 137, 2)) pixels at the
    speaker's mean neck position (for example videos)."""
    stats = check_stats(stats)
    codes = None if check_variant(cfg) == "pose-vae" else eval_codes(G, dataset, cfg, stats)
    for i in indices:
        item = dataset[i]
        sub = _Subset(dataset, [i])
        pred = predict_dataset(G, sub, cfg, None if codes is None else codes[i : i + 1])[0]
        s = int(item["speaker"])
        neck = stats["neck"][s]
        yield (i, expand_to_137(decode(pred, stats, s, cfg), neck).astype(np.float32),
               expand_to_137(decode(item["pose"], stats, s, cfg), neck).astype(np.float32))


class _Subset:
    def __init__(self, dataset: Any, indices: list[int]) -> None:
        self.dataset, self.indices = dataset, indices

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, j: int) -> Any:
        return self.dataset[self.indices[j]]
