"""phadtf through core's trainer: ``--resume`` of a stopped run continues bit-identically, and
``torchrun --nproc_per_node 2`` (CPU, gloo) trains the fine-tune variant with DDP (ATC_net + GAN generator and the
PatchGAN each wrapped apart)."""

from __future__ import annotations

import io
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from rich.console import Console

TINY = [
    "init=none", "atc.conv_widths=[8,8,16,16,16]", "atc.fc_hidden=64", "atc.hidden=32", "atc.dropout=0.3",
    "atc.weight_decay=1e-4", "gan.image_size=64", "gan.levels=6", "gan.ngf=8", "gan.ndf=8", "gan.query_dim=32",
    "gan.mem_size=64", "gan.top_k=8", "data.min_frames=40", "train.device=cpu", "train.seed=3",
    "train.batch_size=4", "train.iterations_per_epoch=2",
]


@pytest.fixture(scope="module")
def person(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 2.4 s synthetic prepared person (60 frames, 112×144)."""
    from avs_phadtf.synth import synthesize_person

    return synthesize_person(tmp_path_factory.mktemp("phadtf_dist") / "data", seed=0, seconds=2.4, size=(112, 144))


def _method():
    from avs.plugins import discover

    return discover().get("phadtf")


def _fit(person: Path, run: Path, overrides: list[str], resume: bool = False) -> str:
    from avs.config import build_config
    from avs.train import Trainer

    out = io.StringIO()
    cfg = build_config(_method().config_class, overrides=[*TINY, *overrides])
    Trainer(_method(), cfg, person, run, resume=resume, console=Console(file=out, width=200)).fit()
    return out.getvalue()


def _weights(run: Path) -> dict[str, torch.Tensor]:
    from avs.checkpoint import load_training_state

    state = load_training_state(run / "state.pt")
    weights = {f"G.{k}": v for k, v in state.generator.items()}
    weights.update({f"D.{k}": v for k, v in (state.discriminator or {}).items()})
    return weights


def _records(run: Path) -> list[dict]:
    return [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines()]


@pytest.mark.parametrize("variant", ["general", pytest.param("finetune", marks=pytest.mark.slow)])
def test_resume_continues_bit_identically(person: Path, tmp_path: Path, variant: str) -> None:
    """3 epochs straight == 1 epoch, stop, ``--resume`` to 3 (the fine-tune builds its GAN triplets three
    times: ~2 min on one thread, hence slow): every weight and buffer (BatchNorm statistics,
    the GAN memory's keys/values/ages) and every logged loss equal."""
    base = [f"variant={variant}"]
    _fit(person, tmp_path / "straight", [*base, "train.epochs=3"])
    _fit(person, tmp_path / "resumed", [*base, "train.epochs=1"])
    after_one = _weights(tmp_path / "resumed")
    log = _fit(person, tmp_path / "resumed", [*base, "train.epochs=3"], resume=True)
    assert "resuming" in log

    a, b = _weights(tmp_path / "straight"), _weights(tmp_path / "resumed")
    assert a.keys() == b.keys()
    if variant == "finetune":
        assert any(k.startswith("G.memory.") for k in a) and any(k.startswith("D.") for k in a)
    for key in a:
        assert torch.equal(a[key], b[key]), key
    ra, rb = _records(tmp_path / "straight"), _records(tmp_path / "resumed")
    assert [r["epoch"] for r in rb] == [1, 2, 3]
    assert [r["train"] for r in ra] == [r["train"] for r in rb]
    assert [r["val"] for r in ra] == [r["val"] for r in rb]
    # epochs 2-3 changed the weights (a resume that trained nothing would not pass the checks above)
    assert any(not torch.equal(after_one[k], b[k]) for k in b if "lstm_fc" in k)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_torchrun_two_processes_finetune(person: Path, tmp_path: Path) -> None:
    """``torchrun --nproc_per_node 2 -m avs.cli train phadtf`` on CPU: one set of run files, each rank a disjoint
    half of the training frames per epoch (steps = items / (2 · batch)), finite losses, a loadable checkpoint."""
    run = tmp_path / "run"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nnodes", "1", "--nproc_per_node", "2",
           "--master_addr", "127.0.0.1", "--master_port", str(_free_port()),
           "-m", "avs.cli", "train", "phadtf", "--data", str(person), "--out", str(run),
           *TINY, "variant=finetune", "train.iterations_per_epoch=0", "train.epochs=1"]
    try:
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    except subprocess.TimeoutExpired as exc:  # pragma: no cover - a hang is the failure
        pytest.fail(f"torchrun timed out: {exc.stdout!r} {exc.stderr!r}")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    # files from rank 0 only (no best: the 15 held-out frames are fewer than one 16-frame clip)
    assert sorted(p.name for p in run.iterdir()) == ["config.yaml", "last.safetensors", "log.jsonl", "state.pt"]

    from avs.checkpoint import load_checkpoint, load_training_state
    from avs_phadtf.data import Person, split_frames

    (record,) = _records(run)
    p = Person.load(person)
    train_stop, _ = split_frames(p.num_frames, _cfg_data())
    items = train_stop - 2  # GAN frames t in [2, train_stop): every frame of the synthetic person is valid
    assert record["step"] == items // (2 * 4)  # DistributedSampler: each of 2 ranks takes half, batch 4 each
    assert all(torch.isfinite(torch.tensor(v)) for v in record["train"].values())
    state = load_training_state(run / "state.pt")  # both networks, unwrapped from DDP before saving
    assert state.discriminator and not any(k.startswith("module.") for k in [*state.generator, *state.discriminator])
    ckpt = load_checkpoint(run / "last.safetensors")
    assert ckpt.networks["generator"].keys() == state.generator.keys()


def _cfg_data():
    from avs_phadtf.config import DataConfig

    return DataConfig(min_frames=40)
