"""Training through core's trainer (padding collate, validation key, checkpoints, resume) and the bundled
checkpoint (it loads, predicts and beats a constant face on held-out synthetic speech)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from rich.console import Console

from avs.checkpoint import load_generator
from avs.config import build_config
from avs.plugins import discover
from avs.train import Trainer
from avs_emotalk.config import SMALL_PRESET, EmoTalkConfig
from avs_emotalk.data import EmoTalkDataset
from avs_emotalk.inference import baseline_metrics, evaluate, predict


def test_trainer_runs_and_resumes(tmp_path, synth_root, speech) -> None:
    method = discover().get("emotalk")
    overrides = SMALL_PRESET + ["train.epochs=1", "train.iterations_per_epoch=2", "train.batch_size=2",
                                "train.device=cpu", "train.lr_g=1e-3"]
    cfg = build_config(EmoTalkConfig, overrides=overrides)
    console = Console(file=open(tmp_path / "log.txt", "w"))  # noqa: SIM115
    result = Trainer(method, cfg, synth_root, tmp_path / "run", console=console).fit()
    assert result.best_checkpoint is not None and result.best_checkpoint.is_file()
    assert "mse" in result.last_metrics and "emotion_acc" in result.last_metrics
    record = json.loads((tmp_path / "run" / "log.jsonl").read_text().splitlines()[-1])
    assert {"cross", "self", "velocity", "emotion", "total"} <= set(record["train"])
    G, cfg2, stats = load_generator(method, result.last_checkpoint)
    assert stats["offset"].shape == (52,)
    # the emotions seen in training have running means, so emotion=<name> works for them
    seen = [i for i in range(8) if float(G.emotion_prototype_count[i]) > 0]
    assert seen
    cfg2.emotion = ("neutral", "calm", "happy", "sad", "angry", "fearful", "disgust", "surprised")[seen[0]]
    assert predict(G, speech[:8000], cfg2, stats).data.shape == (15, 52)
    cfg = build_config(EmoTalkConfig, overrides=overrides[:-4] + ["train.epochs=2", "train.iterations_per_epoch=1",
                                                                 "train.batch_size=2", "train.device=cpu"])
    resumed = Trainer(method, cfg, synth_root, tmp_path / "run", resume=True, console=console).fit()
    assert resumed.epoch == 2 and resumed.step == 3


def test_bundled_checkpoint_beats_a_constant_face(synth_root) -> None:
    """On held-out statements (dev/test hear words training never heard) the bundled small model is closer to
    the synthetic ground truth than the training mean face, and hears emotions far above chance (1/8)."""
    method = discover().get("emotalk")
    if method.default_checkpoint is None:
        pytest.skip("no bundled checkpoint")
    G, cfg, stats = load_generator(method, method.default_checkpoint)
    test = EmoTalkDataset(synth_root, "test", cfg, stats)
    cfg.eval.max_pairs = 8
    model, mean = evaluate(G, test, cfg, stats), baseline_metrics(test, stats, "mean")
    print("model", model, "mean face", mean)
    assert model["coef_mae_all"] < 0.8 * mean["coef_mae_all"]
    assert model["coef_mae_eyes_brows"] < mean["coef_mae_eyes_brows"]
    assert model["emotion_accuracy"] > 0.3
    assert np.isfinite(list(model.values())).all()
