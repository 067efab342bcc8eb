"""Registration of Speech Drives Templates with avs (entry point ``avs.plugins``: ``sdt``).

Importing this module is cheap: no torch. Every factory imports its module when called.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from avs.method import Method
from avs.plugins import hookimpl
from avs_sdt import __version__
from avs_sdt.config import SDTConfig

PAPER = (
    "Qian, Tu, Zhi, Liu, Gao. Speech Drives Templates: Co-Speech Gesture Synthesis with Learned Templates. "
    "ICCV 2021. Reference code: https://github.com/ShenhanQian/SpeechDrivesTemplates"
)
DEFAULT_CHECKPOINT = Path(__file__).parent / "checkpoints" / "default.safetensors"


def _generator(cfg: Any) -> Any:
    from avs_sdt.model import build_generator

    return build_generator(cfg)


def _discriminator(cfg: Any) -> Any:
    from avs_sdt.model import build_discriminator

    return build_discriminator(cfg)


def _compute_stats(cfg: Any, root: Path) -> Any:
    from avs_sdt.data import compute_stats

    return compute_stats(cfg, root)


def _dataset(cfg: Any, root: Path, split: str, stats: Any) -> Any:
    from avs_sdt.data import SDTDataset

    return SDTDataset(root, split, stats, cfg)


def _generator_loss(G: Any, D: Any, batch: Any, cfg: Any) -> Any:
    from avs_sdt.recipe import generator_loss

    return generator_loss(G, D, batch, cfg)


def _discriminator_loss(G: Any, D: Any, batch: Any, cfg: Any) -> Any:
    from avs_sdt.recipe import discriminator_loss

    return discriminator_loss(G, D, batch, cfg)


def _validate(G: Any, batch: Any, cfg: Any) -> Any:
    from avs_sdt.recipe import validate

    return validate(G, batch, cfg)


def _predict(G: Any, audio: Any, cfg: Any, stats: Any) -> Any:
    from avs_sdt.inference import predict

    return predict(G, audio, cfg, stats)


def _evaluate(G: Any, dataset: Any, cfg: Any, stats: Any) -> Any:
    from avs_sdt.inference import evaluate

    return evaluate(G, dataset, cfg, stats)


def _predict_clips(G: Any, dataset: Any, cfg: Any, stats: Any) -> Any:
    from avs_sdt.inference import predict_clips

    return predict_clips(G, dataset, cfg, stats)


def _renderer(cfg: Any, stats: Any) -> Any:
    from avs_sdt.render import build_renderer

    return build_renderer(cfg, stats)


def _render_examples(G: Any, dataset: Any, cfg: Any, stats: Any, n: int, out_dir: Path) -> Any:
    from avs_sdt.render import render_examples

    return render_examples(G, dataset, cfg, stats, n, out_dir)


def _synthesize(root: Path, cfg: Any, seed: int) -> str:
    from avs_sdt.synth import synthesize

    return synthesize(root, cfg, seed)


def _import_weights(reference: Path, cfg: Any, data_root: Path | None) -> Any:
    from avs_sdt.importer import import_weights

    return import_weights(reference, cfg, data_root)


def sdt_method() -> Method:
    """The Speech Drives Templates method record (all four variants; ``variant=`` selects)."""
    return Method(
        name="sdt",
        task="gesture-2d",
        summary="Speech Drives Templates: mel → 137 keypoints (15 fps) with learned templates; "
                "variant=sdt-bp|sdt-vae|s2g|pose-vae",
        paper=PAPER,
        version=__version__,
        config_class=SDTConfig,
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
        metric_directions={"l1": False, "l2_px": False, "lip_sync_error": False, "ftd": False,
                           "ftd_mu_logvar": False},
        synthesize_data=_synthesize,
        default_checkpoint=DEFAULT_CHECKPOINT if DEFAULT_CHECKPOINT.is_file() else None,
        val_key="l1",
        import_weights=_import_weights,
        render_examples=_render_examples,
        predict_clips=_predict_clips,
    )


@hookimpl
def avs_methods() -> list[Method]:
    """The sdt method record."""
    return [sdt_method()]
