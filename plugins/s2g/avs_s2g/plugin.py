"""Registration of Speech2Gesture with avs (entry point ``avs.plugins``: ``s2g``).

Importing this module is cheap: no torch. Every factory imports its module when called.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from avs.evaluation import GESTURE_DIRECTIONS
from avs.method import Method
from avs.plugins import hookimpl
from avs_s2g import __version__
from avs_s2g.config import S2GConfig

PAPER = (
    "Ginosar, Bar, Kohavi, Chan, Owens, Malik. Learning Individual Styles of Conversational Gesture. "
    "CVPR 2019. Reference code: https://github.com/amirbar/speech2gesture"
)
DEFAULT_CHECKPOINT = Path(__file__).parent / "checkpoints" / "default.safetensors"


def _generator(cfg: Any) -> Any:
    from avs_s2g.model import AudioToPoseGenerator

    return AudioToPoseGenerator(cfg.model)


def _discriminator(cfg: Any) -> Any:
    from avs_s2g.model import PatchGANDiscriminator

    return PatchGANDiscriminator(cfg.model)


def _compute_stats(cfg: Any, root: Path) -> Any:
    from avs_s2g.data import compute_stats

    return compute_stats(cfg, root)


def _dataset(cfg: Any, root: Path, split: str, stats: Any) -> Any:
    from avs_s2g.data import S2GDataset

    return S2GDataset(root, split, stats, cfg)


def _generator_loss(G: Any, D: Any, batch: Any, cfg: Any) -> Any:
    from avs_s2g.recipe import generator_loss

    return generator_loss(G, D, batch, cfg)


def _discriminator_loss(G: Any, D: Any, batch: Any, cfg: Any) -> Any:
    from avs_s2g.recipe import discriminator_loss

    return discriminator_loss(G, D, batch, cfg)


def _validate(G: Any, batch: Any, cfg: Any) -> Any:
    from avs_s2g.recipe import validate

    return validate(G, batch, cfg)


def _predict(G: Any, audio: Any, cfg: Any, stats: Any) -> Any:
    from avs_s2g.inference import predict

    return predict(G, audio, cfg, stats)


def _evaluate(G: Any, dataset: Any, cfg: Any, stats: Any) -> Any:
    from avs_s2g.inference import evaluate

    return evaluate(G, dataset, cfg, stats)


def _predict_clips(G: Any, dataset: Any, cfg: Any, stats: Any) -> Any:
    from avs_s2g.inference import predict_clips

    return predict_clips(G, dataset, cfg, stats)


def _render_examples(G: Any, dataset: Any, cfg: Any, stats: Any, n: int, out_dir: Path) -> Any:
    from avs_s2g.render import render_examples

    return render_examples(G, dataset, cfg, stats, n, out_dir)


def _renderer(cfg: Any, stats: Any) -> Any:
    from avs_s2g.render import build_renderer

    return build_renderer(cfg, stats)


def _synthesize(root: Path, cfg: Any, seed: int) -> str:
    from avs_s2g.synth import synthesize

    return synthesize(root, cfg, seed)


@hookimpl
def avs_methods() -> list[Method]:
    """The Speech2Gesture method record."""
    return [
        Method(
            name="s2g",
            task="gesture-2d",
            summary="Speech2Gesture: log-mel → 49 upper-body keypoints (15 fps), U-Net + PatchGAN, "
            "LSGAN + L1",
            paper=PAPER,
            version=__version__,
            config_class=S2GConfig,
            sample_rate=16000,
            fps=15.0,
            build_generator=_generator,
            build_discriminator=_discriminator,
            compute_stats=_compute_stats,
            build_dataset=_dataset,
            generator_loss=_generator_loss,
            discriminator_loss=_discriminator_loss,
            validate=_validate,
            predict=_predict,
            build_renderer=_renderer,
            evaluate=_evaluate,
            metric_directions={"l1": False, **GESTURE_DIRECTIONS},
            synthesize_data=_synthesize,
            default_checkpoint=DEFAULT_CHECKPOINT if DEFAULT_CHECKPOINT.is_file() else None,
            val_key="l1",
            predict_clips=_predict_clips,
            render_examples=_render_examples,
        )
    ]
