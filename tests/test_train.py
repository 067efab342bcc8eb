"""Core trainer on the toy method: learning, run files, best checkpoint, resume, errors."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from rich.console import Console

from avs.checkpoint import load_checkpoint, load_generator, load_training_state
from avs.config import build_config
from avs.errors import AvsError
from avs.train import Trainer, TrainingInterrupted
from toy_method import ToyMethod, build_dataset, build_generator, compute_stats, make_method


def _cfg(method, *overrides):
    return build_config(method.config_class, None, list(overrides))


def _trainer(method, cfg, tmp_path, run="run", resume=False):
    out = io.StringIO()
    trainer = Trainer(method, cfg, tmp_path, tmp_path / run, resume=resume,
                      console=Console(file=out, width=200))
    return trainer, out


def _records(run: Path) -> list[dict]:
    return [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines()]


def _train_l1(g, cfg) -> float:
    stats = compute_stats(cfg, Path("."))
    ds = build_dataset(cfg, Path("."), "train", stats)
    g.eval()
    with torch.no_grad():
        return float((g(torch.from_numpy(ds.audio)) - torch.from_numpy(ds.pose)).abs().mean())


def test_one_epoch_lowers_the_training_loss(tmp_path):
    method = make_method()
    cfg = _cfg(method, "train.epochs=1", "train.seed=4")
    torch.manual_seed(4)  # the trainer builds G right after seeding with train.seed
    before = _train_l1(build_generator(cfg), cfg)
    trainer, out = _trainer(method, cfg, tmp_path)
    result = trainer.fit()
    g, _, _ = load_generator(method, result.last_checkpoint)
    after = _train_l1(g, cfg)
    assert after < 0.95 * before
    assert result.epoch == 1 and result.step == 8  # 64 windows / batch 8, one pass
    assert "epoch 1/1" in out.getvalue()


def test_run_folder_log_and_best_checkpoint(tmp_path):
    # scripted validation values: the best epoch is 2 of 3, not the last one
    scripted = iter([0.5, 0.5, 0.2, 0.2, 0.4, 0.4])  # two dev batches (16 windows / 8) per epoch
    method = make_method(validate=lambda self, batch: {"l1": next(scripted), "other": 1.0})
    cfg = _cfg(method, "train.epochs=3", "train.checkpoint_every=1")
    trainer, out = _trainer(method, cfg, tmp_path)
    result = trainer.fit()
    run = tmp_path / "run"
    assert sorted(p.name for p in run.iterdir()) == [
        "best.safetensors", "config.yaml", "epoch_0001.safetensors", "epoch_0002.safetensors",
        "epoch_0003.safetensors", "last.safetensors", "log.jsonl", "state.pt",
    ]
    records = _records(run)
    assert [r["epoch"] for r in records] == [1, 2, 3]
    assert [r["step"] for r in records] == [8, 16, 24]
    for r in records:
        assert set(r) >= {"epoch", "step", "train", "val", "seconds", "windows_per_second"}
        assert {"loss_g", "loss_d", "g_l1", "g_adv", "d_real", "d_fake"} <= set(r["train"])
        assert r["windows_per_second"] > 0
    assert [r["val"]["l1"] for r in records] == [0.5, 0.2, 0.4]
    best_epoch = min(records, key=lambda r: r["val"]["l1"])["epoch"]
    assert best_epoch == 2 and result.best_epoch == 2 and result.best_value == 0.2
    best = load_checkpoint(result.best_checkpoint, method)
    assert best.meta["epoch"] == 2 and best.meta["metrics"] == {"l1": 0.2, "other": 1.0}
    same = load_checkpoint(run / "epoch_0002.safetensors")
    last = load_checkpoint(run / "last.safetensors")
    assert all(torch.equal(best.state_dict[k], same.state_dict[k]) for k in best.state_dict)
    assert not all(torch.equal(best.state_dict[k], last.state_dict[k]) for k in best.state_dict)
    assert last.meta["epoch"] == 3
    saved_cfg = build_config(method.config_class, run / "config.yaml")
    assert saved_cfg == cfg
    summary = [line for line in out.getvalue().splitlines() if line.startswith("epoch ")]
    assert len(summary) == 3 and "(best)" in summary[1] and "(best)" not in summary[2]


def _weights(run: Path) -> dict[str, torch.Tensor]:
    state = load_training_state(run / "state.pt")
    return {**{f"G.{k}": v for k, v in state.generator.items()},
            **{f"D.{k}": v for k, v in state.discriminator.items()}}


def _assert_same(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key


def test_resume_is_bit_identical(tmp_path):
    method = make_method()
    # 10 steps per epoch over 8 batches per pass: epochs cycle the data, reshuffled each pass
    base = ["train.iterations_per_epoch=10", "model.batchnorm=true", "train.d_steps=2"]
    straight, _ = _trainer(method, _cfg(method, "train.epochs=4", *base), tmp_path, "straight")
    straight.fit()

    first, _ = _trainer(method, _cfg(method, "train.epochs=2", *base), tmp_path, "resumed")
    first.fit()
    second, out = _trainer(method, _cfg(method, "train.epochs=4", *base), tmp_path, "resumed", resume=True)
    result = second.fit()
    assert result.epoch == 4 and result.step == 40
    assert "resuming" in out.getvalue()

    _assert_same(_weights(tmp_path / "straight"), _weights(tmp_path / "resumed"))
    a, b = _records(tmp_path / "straight"), _records(tmp_path / "resumed")
    assert [r["epoch"] for r in b] == [1, 2, 3, 4]
    assert [r["train"] for r in a] == [r["train"] for r in b]
    assert [r["val"] for r in a] == [r["val"] for r in b]
    sa = load_training_state(tmp_path / "straight" / "state.pt")
    sb = load_training_state(tmp_path / "resumed" / "state.pt")
    assert sa.best == sb.best
    assert torch.equal(sa.opt_d["state"][0]["exp_avg_sq"], sb.opt_d["state"][0]["exp_avg_sq"])


def test_resume_after_a_kill_between_files(tmp_path):
    """Killed after writing epoch 3's checkpoint and log line but before its state.pt."""
    method = make_method()
    run = tmp_path / "run"
    straight, _ = _trainer(method, _cfg(method, "train.epochs=4"), tmp_path, "straight")
    straight.fit()
    _trainer(method, _cfg(method, "train.epochs=2"), tmp_path)[0].fit()
    shutil.copy(run / "state.pt", tmp_path / "state-after-2.pt")
    _trainer(method, _cfg(method, "train.epochs=3"), tmp_path, resume=True)[0].fit()
    shutil.copy(tmp_path / "state-after-2.pt", run / "state.pt")
    with open(run / "log.jsonl", "a") as fh:
        fh.write('{"epoch": 4, "step"')  # a half-written line
    result = _trainer(method, _cfg(method, "train.epochs=4"), tmp_path, resume=True)[0].fit()
    assert result.epoch == 4
    _assert_same(_weights(tmp_path / "straight"), _weights(run))
    assert [r["epoch"] for r in _records(run)] == [1, 2, 3, 4]


def test_interrupt_keeps_the_last_complete_epoch(tmp_path):
    calls = {"n": 0}

    def flaky_step(self, batch):
        calls["n"] += 1
        if calls["n"] == 12:  # in epoch 2 (8 steps per epoch)
            raise KeyboardInterrupt
        return ToyMethod.generator_step(self, batch)

    method = make_method(generator_step=flaky_step)
    cfg = _cfg(method, "train.epochs=3")
    with pytest.raises(TrainingInterrupted, match="after epoch 1; resume with --resume") as exc:
        _trainer(method, cfg, tmp_path)[0].fit()
    assert isinstance(exc.value, AvsError) and exc.value.exit_code == 130
    run = tmp_path / "run"
    assert load_checkpoint(run / "last.safetensors", method).meta["epoch"] == 1
    assert load_training_state(run / "state.pt").epoch == 1
    assert not [p for p in run.iterdir() if p.name.startswith(".")]  # no temporary files left
    result = _trainer(method, cfg, tmp_path, resume=True)[0].fit()
    assert result.epoch == 3 and [r["epoch"] for r in _records(run)] == [1, 2, 3]


def test_no_discriminator_and_no_dev_split(tmp_path):
    method = make_method(with_discriminator=False)
    cfg = _cfg(method, "train.epochs=2", "data.dev_windows=0")
    trainer, out = _trainer(method, cfg, tmp_path)
    result = trainer.fit()
    assert out.getvalue().count("no dev split") == 1
    assert result.best_checkpoint is None and result.best_value is None
    assert not (tmp_path / "run" / "best.safetensors").exists()
    records = _records(tmp_path / "run")
    assert [r["val"] for r in records] == [None, None]
    assert "loss_d" not in records[0]["train"] and trainer.discriminator is None
    assert load_training_state(tmp_path / "run" / "state.pt").discriminator is None


def test_resume_without_state_and_refusing_an_existing_run(tmp_path):
    method = make_method()
    cfg = _cfg(method, "train.epochs=1")
    with pytest.raises(AvsError, match="nothing to resume"):
        _trainer(method, cfg, tmp_path, resume=True)
    _trainer(method, cfg, tmp_path)[0].fit()
    with pytest.raises(AvsError, match="already holds a training run"):
        _trainer(method, cfg, tmp_path)
    (tmp_path / "file").write_text("x")
    with pytest.raises(AvsError, match="not a folder"):
        _trainer(method, cfg, tmp_path, run="file")


@pytest.mark.parametrize(
    "overrides, message",
    [
        (["train.batch_size=0"], "batch_size must be at least 1"),
        (["train.epochs=0"], "epochs must be at least 1"),
        (["train.lr_g=0"], "lr_g must be positive"),
        (["train.iterations_per_epoch=-1"], "iterations_per_epoch"),
        (["train.device=tpu"], "device"),
    ],
)
def test_bad_options(tmp_path, overrides, message):
    method = make_method()
    with pytest.raises(AvsError, match=message):
        _trainer(method, _cfg(method, *overrides), tmp_path)[0].fit()
    assert not (tmp_path / "run").exists()


def test_missing_data_root_and_empty_train_split(tmp_path):
    method = make_method()
    with pytest.raises(AvsError, match="data folder not found"):
        Trainer(method, _cfg(method), tmp_path / "nope", tmp_path / "run",
                console=Console(file=io.StringIO()))
    with pytest.raises(AvsError, match="train split .* is empty"):
        _trainer(method, _cfg(method, "data.train_windows=0"), tmp_path)[0].fit()


def test_diverging_loss_is_reported(tmp_path):
    def nan_loss(self, batch):
        loss, logs = ToyMethod.generator_step(self, batch)
        return loss * float("nan"), logs

    method = make_method(generator_step=nan_loss)
    with pytest.raises(AvsError, match="diverged in epoch 1: .*loss_g"):
        _trainer(method, _cfg(method, "train.epochs=1"), tmp_path)[0].fit()


def test_determinism_setting_is_restored(tmp_path):
    seen = []

    def step(self, batch):
        seen.append((torch.are_deterministic_algorithms_enabled(), torch.utils.deterministic.fill_uninitialized_memory))
        return ToyMethod.generator_step(self, batch)

    method = make_method(generator_step=step)
    before = (torch.are_deterministic_algorithms_enabled(), torch.utils.deterministic.fill_uninitialized_memory)
    _trainer(method, _cfg(method, "train.epochs=1"), tmp_path)[0].fit()
    assert seen and set(seen) == {(True, False)}  # deterministic on CPU, without NaN-filling new tensors
    assert (torch.are_deterministic_algorithms_enabled(), torch.utils.deterministic.fill_uninitialized_memory) == before


def test_small_train_split_still_trains(tmp_path):
    # fewer windows than the batch size: one short batch per pass instead of none
    method = make_method()
    result = _trainer(method, _cfg(method, "train.epochs=1", "data.train_windows=5"), tmp_path)[0].fit()
    assert result.step == 1
    assert np.isfinite(_records(tmp_path / "run")[0]["train"]["loss_g"])


def test_a_run_killed_before_its_first_checkpoint_can_start_again(tmp_path):
    method = make_method()
    run = tmp_path / "run"
    run.mkdir()
    (run / "config.yaml").write_text("stale: true\n")
    (run / "log.jsonl").write_text('{"epoch": 1, "step": 8}\n{"epo')
    result = _trainer(method, _cfg(method, "train.epochs=1"), tmp_path)[0].fit()
    assert result.epoch == 1
    assert len(_records(run)) == 1 and "train" in _records(run)[0]
    assert build_config(method.config_class, run / "config.yaml").train.epochs == 1


def test_progress_bar_on_a_terminal(tmp_path):
    method = make_method()
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=120)
    Trainer(method, _cfg(method, "train.epochs=1"), tmp_path, tmp_path / "run", console=console).fit()
    text = out.getvalue()
    assert "loss_g" in text and "epoch 1/1 | step 8" in text


def _killed_in_first_epoch(tmp_path, method, cfg) -> Path:
    """A run folder as a kill in epoch 1 leaves it: checkpoints and log written, no state.pt,
    and a 0-byte hidden temporary of the interrupted state.pt write."""
    _trainer(method, cfg, tmp_path)[0].fit()
    run = tmp_path / "run"
    (run / "state.pt").unlink()
    (run / ".state.pt.abc123.pt").write_bytes(b"")
    (run / ".last.safetensors.x1.safetensors").write_bytes(b"")
    return run


@pytest.mark.parametrize("resume", [False, True])
def test_a_run_killed_in_its_first_epoch_can_continue(tmp_path, resume):
    method = make_method()
    cfg = _cfg(method, "train.epochs=2")
    run = _killed_in_first_epoch(tmp_path, method, _cfg(method, "train.epochs=1"))
    (run / "notes.txt").write_text("mine")
    (run / ".hidden-user-file").write_text("mine")
    trainer, out = _trainer(method, cfg, tmp_path, resume=resume)
    result = trainer.fit()
    assert result.epoch == 2 and [r["epoch"] for r in _records(run)] == [1, 2]
    assert ("no complete epoch to resume" in out.getvalue()) == resume
    assert not [p for p in run.iterdir() if p.name.startswith((".state.pt", ".last.safetensors"))]
    assert (run / "notes.txt").exists() and (run / ".hidden-user-file").exists()  # only our temporaries go
    straight, _ = _trainer(method, cfg, tmp_path, "straight")
    straight.fit()
    _assert_same(_weights(tmp_path / "straight"), _weights(run))


def test_state_is_the_commit_point_of_an_epoch(tmp_path, monkeypatch):
    """A kill while state.pt is written: the previous state stays, and resuming repeats the epoch."""
    import avs.train as train_module

    method = make_method()
    _trainer(method, _cfg(method, "train.epochs=1"), tmp_path)[0].fit()
    real = train_module.save_training_state

    def killed(path, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(train_module, "save_training_state", killed)
    with pytest.raises(TrainingInterrupted):
        _trainer(method, _cfg(method, "train.epochs=2"), tmp_path, resume=True)[0].fit()
    monkeypatch.setattr(train_module, "save_training_state", real)
    run = tmp_path / "run"
    assert load_training_state(run / "state.pt").epoch == 1
    result = _trainer(method, _cfg(method, "train.epochs=2"), tmp_path, resume=True)[0].fit()
    assert result.epoch == 2 and [r["epoch"] for r in _records(run)] == [1, 2]
