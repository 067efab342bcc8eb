"""The pose VAE as a tool: SDT-VAE's templates, FTD features, and the PCA plot of templates.

FTD (Fréchet Template Distance, Qian et al. 2021; SDT ``core/utils/fgd.py`` and
``Voice2Pose.evaluate_epoch``) is the Fréchet distance between Gaussians fitted to the pose VAE
encoder's μ of generated and of real clips. It is meaningless without a trained VAE, and values
are comparable only under the same VAE checkpoint: :func:`require_pose_vae` refuses otherwise.

Poses reach the VAE as pixels and are normalised with the VAE's own statistics and hierarchical
setting, so any generator (hierarchical or not) can be scored by any pose VAE trained on the same
speakers.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from avs.api import AvsError

BUNDLED = "bundled"
"""``pose_vae_checkpoint=bundled``: the pose VAE shipped with the plugin."""
BUNDLED_POSE_VAE = Path(__file__).parent / "checkpoints" / "pose_vae.safetensors"
ENCODE_BATCH = 64


def resolve_pose_vae(value: Any) -> Path | None:
    """``cfg.pose_vae_checkpoint`` → a path (None when empty); ``bundled`` → the shipped pose VAE.

    Raises:
        AvsError: ``bundled`` but the plugin was installed without it.
    """
    text = str(value or "").strip()
    if not text:
        return None
    if text == BUNDLED:
        if not BUNDLED_POSE_VAE.is_file():
            raise AvsError(f"the bundled pose VAE is missing ({BUNDLED_POSE_VAE}); pass pose_vae_checkpoint=PATH")
        return BUNDLED_POSE_VAE
    return Path(text)


def require_pose_vae(cfg: Any, purpose: str) -> Path:
    """The pose VAE checkpoint a computation needs, or a one-line refusal.

    Args:
        cfg: an :class:`avs_sdt.config.SDTConfig` (``pose_vae_checkpoint``).
        purpose: what needs it (``"FTD"``, ``"SDT-VAE"``, ...), for the message.

    Raises:
        AvsError: no ``pose_vae_checkpoint`` given, or the file does not exist.
    """
    path = resolve_pose_vae(cfg.pose_vae_checkpoint)
    if path is None:
        raise AvsError(
            f"{purpose} needs a trained pose VAE: pass pose_vae_checkpoint=PATH (train one with "
            "`avs train sdt --data DIR variant=pose-vae`); FTD is meaningless without one"
            + (" (or ftd=false to skip FTD)" if purpose == "FTD" else "")
        )
    if not path.is_file():
        raise AvsError(f"pose VAE checkpoint not found: {path}")
    return path


@dataclass
class PoseVAEBundle:
    """A loaded pose VAE: the network (eval mode, CPU), its config and its statistics."""

    vae: Any
    cfg: Any
    stats: dict[str, np.ndarray]
    path: Path


def load_pose_vae(path: str | Path) -> PoseVAEBundle:
    """Load a ``variant=pose-vae`` checkpoint of this plugin.

    Raises:
        AvsError: not an avs checkpoint, made for another method, or not a pose VAE.
    """
    from avs.api import build_config, load_checkpoint, load_state_strict
    from avs_sdt.config import SDTConfig
    from avs_sdt.data import check_stats
    from avs_sdt.model import build_generator

    path = Path(path)
    ckpt = load_checkpoint(path)
    if ckpt.method_name != "sdt":
        raise AvsError(f"pose VAE checkpoint {path} was made for method {ckpt.method_name!r}, not 'sdt'")
    variant = ckpt.config.get("variant")
    if variant != "pose-vae":
        raise AvsError(f"{path} is an sdt {variant!r} checkpoint, not a pose VAE "
                       "(train one with `avs train sdt variant=pose-vae`)")
    cfg = build_config(SDTConfig, base=ckpt.config)
    vae = build_generator(cfg)
    load_state_strict(vae, ckpt.state_dict, f"pose VAE checkpoint {path}")
    vae.eval()
    return PoseVAEBundle(vae, cfg, check_stats(ckpt.stats), path)


def vae_encode(bundle: PoseVAEBundle, relative: np.ndarray, speakers: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Encode clips with the pose VAE.

    Args:
        bundle: from :func:`load_pose_vae`.
        relative: (N, 64, 121, 2) neck-relative keypoints in pixels.
        speakers: (N,) speaker name of each clip (its statistics in the VAE normalise it).

    Returns:
        (μ, log σ²), each (N, code_dim) float64.

    Raises:
        AvsError: a speaker the VAE was not trained on, or a wrong clip shape.
    """
    import torch

    from avs_sdt.config import resolve_hierarchical
    from avs_sdt.data import speaker_index
    from avs_sdt.keypoints import normalise
    from avs_sdt.model import VAE_FRAMES

    rel = np.asarray(relative, dtype=np.float64)
    if rel.ndim != 4 or rel.shape[1:] != (VAE_FRAMES, 121, 2):
        raise AvsError(f"the pose VAE encodes (N, {VAE_FRAMES}, 121, 2) clips, got {rel.shape}")
    st = bundle.stats
    rows = []
    for name in speakers:
        try:
            rows.append(speaker_index(st, name))
        except AvsError:
            known = ", ".join(str(s) for s in st["speakers"])
            raise AvsError(f"pose VAE {bundle.path} was not trained on speaker {name!r} (it knows: {known})") from None
    rows_a = np.asarray(rows)
    flat = normalise(rel, st["mean"][rows_a][:, None, :].astype(np.float64),
                     st["std"][rows_a][:, None, :].astype(np.float64),
                     st["scale_factor"][rows_a][:, None, None, None].astype(np.float64),
                     resolve_hierarchical(bundle.cfg)).astype(np.float32)
    mus, logvars = [], []
    with torch.no_grad():
        for i in range(0, len(flat), ENCODE_BATCH):
            mu, logvar = bundle.vae.encode(torch.from_numpy(flat[i : i + ENCODE_BATCH]))
            mus.append(mu.double().numpy())
            logvars.append(logvar.double().numpy())
    if not mus:
        dim = bundle.vae.code_dim
        return np.zeros((0, dim)), np.zeros((0, dim))
    return np.concatenate(mus), np.concatenate(logvars)


def encode_training_templates(cfg: Any, root: Path, stats: dict[str, np.ndarray]) -> np.ndarray:
    """SDT-VAE's fixed templates: the pose VAE's μ of every training clip, in template-row order.

    The reference reads the μ its pose2pose run recorded for each clip while training
    (``clip_code_mu``); here the trained encoder is run once in eval mode, which is what the
    spec describes ("templates fixed to the trained VAE encoder's μ for each clip").

    Returns:
        (N, template_dim) float32.

    Raises:
        AvsError: no pose VAE given (SDT-VAE needs one), a VAE of another code size, or a speaker the
            VAE does not know.
    """
    from avs_sdt.data import read_pose, split_clips, split_pose
    from avs_sdt.keypoints import reduce_to_121

    bundle = load_pose_vae(require_pose_vae(cfg, "SDT-VAE"))
    if bundle.vae.code_dim != int(cfg.model.template_dim):
        raise AvsError(f"the pose VAE's code has {bundle.vae.code_dim} dimensions but model.template_dim is "
                       f"{cfg.model.template_dim}")
    speakers = [str(s) for s in stats["speakers"]]
    clips = split_clips(Path(root), speakers, "train")
    out = []
    for i in range(0, len(clips), ENCODE_BATCH):
        chunk = clips[i : i + ENCODE_BATCH]
        xy = np.stack([split_pose(read_pose(c.npz))[0] for c in chunk])
        rel, _ = reduce_to_121(xy)
        out.append(vae_encode(bundle, rel, [c.speaker for c in chunk])[0])
    return np.concatenate(out).astype(np.float32)


def ftd(bundle: PoseVAEBundle | None, pred: np.ndarray, gt: np.ndarray, speakers: list[str]) -> dict[str, float]:
    """FTD between predicted and real clips.

    Args:
        bundle: the pose VAE, or None (refused: FTD is meaningless without a trained VAE).
        pred, gt: (N, 64, 121, 2) neck-relative keypoints in pixels, N ≥ 2.
        speakers: (N,) speaker of each clip.

    Returns:
        ``ftd``: Fréchet distance of the μ features (the paper's FTD, the default);
        ``ftd_mu_logvar``: the same over [μ, log σ²] (the reference's second variant).

    Raises:
        AvsError: no pose VAE, fewer than 2 clips, or :func:`vae_encode`'s errors.
    """
    from avs.api import frechet_distance

    if bundle is None:
        raise AvsError("FTD needs a trained pose VAE: pass pose_vae_checkpoint=PATH (train one with "
                       "`avs train sdt --data DIR variant=pose-vae`); FTD is meaningless without one")
    mu_p, lv_p = vae_encode(bundle, pred, speakers)
    mu_g, lv_g = vae_encode(bundle, gt, speakers)
    return {
        "ftd": frechet_distance(mu_p, mu_g),
        "ftd_mu_logvar": frechet_distance(np.concatenate([mu_p, lv_p], 1), np.concatenate([mu_g, lv_g], 1)),
    }


def pca_2d(codes: np.ndarray) -> np.ndarray:
    """(N, D) codes → (N, 2) projections on the first two principal axes (numpy SVD; zeros where the
    codes span fewer than two directions)."""
    x = np.asarray(codes, dtype=np.float64)
    x = x - x.mean(axis=0, keepdims=True)
    if x.shape[0] < 2 or not np.any(x):
        return np.zeros((x.shape[0], 2))
    _, _, vt = np.linalg.svd(x, full_matrices=False)
    proj = x @ vt[:2].T
    if proj.shape[1] < 2:
        proj = np.pad(proj, ((0, 0), (0, 2 - proj.shape[1])))
    return proj


def plot_templates_pca(codes: np.ndarray, clip_speaker: np.ndarray, speakers: list[str], path: str | Path,
                       title: str = "templates") -> Path:
    """PCA scatter of template codes, one colour per speaker (SDT ``Voice2Pose.draw_figure_epoch``).

    Args:
        codes: (N, D) templates.
        clip_speaker: (N,) speaker row of each template.
        speakers: speaker names by row.
        path: the PNG to write (atomically).
        title: plot title.

    Returns:
        ``path`` as a Path.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from avs.api import atomic_path

    proj = pca_2d(codes)
    fig = Figure(figsize=(5.5, 4.5), dpi=120)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    labels = np.asarray(clip_speaker)
    for s, name in enumerate(speakers):
        sel = labels == s
        if sel.any():
            ax.scatter(proj[sel, 0], proj[sel, 1], s=10, alpha=0.6, edgecolors="none", label=f"{name} ({sel.sum()})")
    ax.set_xlabel("PC 1")
    ax.set_ylabel("PC 2")
    ax.set_title(f"{title}: {len(codes)} codes of {np.asarray(codes).shape[1]} dimensions")
    ax.legend(loc="best", fontsize=8)
    fig.tight_layout()
    path = Path(path)
    with atomic_path(path, suffix=".png") as tmp:
        fig.savefig(tmp, format="png")
    return path
