"""The trainer under ``torchrun --nproc_per_node 2`` on CPU (gloo).

Run as a script (by torchrun) this file is the worker: it trains the toy method (with
BatchNorm in G and D) for 2 epochs and records, per rank, which windows it saw, its final
weights and what :func:`avs.distributed.gather_arrays` returned.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

WORLD = 2
TRAIN_WINDOWS, BATCH = 32, 4


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_torchrun_two_processes(tmp_path):
    run, side = tmp_path / "run", tmp_path / "side"
    side.mkdir()
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(Path(__file__).parent)}
    cmd = [
        sys.executable, "-m", "torch.distributed.run", "--nnodes", "1", "--nproc_per_node", str(WORLD),
        "--master_addr", "127.0.0.1", "--master_port", str(_free_port()),
        __file__, str(tmp_path), str(run), str(side),
    ]
    try:
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    except subprocess.TimeoutExpired as exc:  # pragma: no cover - a hang is the failure
        pytest.fail(f"torchrun timed out: {exc.stdout!r} {exc.stderr!r}")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]

    # one set of files, from rank 0 only; one log record and one summary line per epoch
    assert sorted(p.name for p in run.iterdir()) == [
        "best.safetensors", "config.yaml", "epoch_0002.safetensors", "last.safetensors", "log.jsonl",
        "state.pt",
    ]
    records = [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in records] == [1, 2]
    steps_per_epoch = TRAIN_WINDOWS // (WORLD * BATCH)
    assert [r["step"] for r in records] == [steps_per_epoch, 2 * steps_per_epoch]
    assert all(r["val"] is not None and np.isfinite(r["val"]["l1"]) for r in records)
    assert len(re.findall(r"epoch \d/2 \| step", proc.stdout)) == 2

    seen = [json.loads((side / f"rank{r}.json").read_text()) for r in range(WORLD)]
    for epoch in range(2):
        shards = [set(s["seen"][epoch]) for s in seen]
        assert all(len(sh) == TRAIN_WINDOWS // WORLD for sh in shards)
        assert shards[0].isdisjoint(shards[1])  # DistributedSampler: disjoint halves
        assert shards[0] | shards[1] == set(range(TRAIN_WINDOWS))
    assert seen[0]["seen"][0] != seen[0]["seen"][1]  # reshuffled each epoch

    # DDP kept the ranks' weights identical (and the per-epoch buffer sync the BN stats)
    assert seen[0]["weights"] == seen[1]["weights"]

    # gather_arrays: every rank gets every rank's rows, in rank order
    want = [[0.0, 0.0, 0.0], [1.0, 1.0, 1.0], [1.0, 1.0, 1.0]]
    for s in seen:
        assert s["gathered"] == want
        assert s["gathered_bool"] == [True, False, False]
        assert s["gathered_empty_ok"] == [[1, 2]]

    # a distributed evaluation scores all ranks' clips: each rank held half, both report the
    # metrics of the whole set, equal to one process scoring everything
    for s in seen:
        assert set(s["metrics_sharded"]) == set(s["metrics_single"])
        for key, value in s["metrics_single"].items():
            assert s["metrics_sharded"][key] == pytest.approx(value, rel=1e-6, abs=1e-9), key


def test_helpers_in_a_single_process():
    import torch

    from avs import distributed as avsdist
    from avs.errors import AvsError

    x = np.arange(6).reshape(3, 2)
    assert avsdist.gather_arrays(x) is x
    assert avsdist.reduce_mean({"b": 2.0, "a": 1}) == {"a": 1.0, "b": 2.0}
    assert avsdist.get_rank() == 0 and avsdist.get_world_size() == 1 and avsdist.is_main_process()
    assert avsdist.all_ranks_ok(True) and not avsdist.all_ranks_ok(False)
    assert avsdist.init_distributed("cpu") is False  # WORLD_SIZE unset: nothing to start
    assert avsdist.resolve_device("cpu") == torch.device("cpu")
    with pytest.raises(AvsError, match="unknown device"):
        avsdist.resolve_device("tpu")
    if not torch.cuda.is_available():
        with pytest.raises(AvsError, match="CUDA is not available"):
            avsdist.resolve_device("cuda")
        assert avsdist.resolve_device("auto") == torch.device("cpu")


def _worker(data_root: Path, run: Path, side: Path) -> None:
    import hashlib
    import io

    import torch.distributed as dist
    from rich.console import Console

    from avs import distributed as avsdist
    from avs.config import build_config
    from avs.train import Trainer
    from toy_method import ToyMethod, make_method

    seen: list[int] = []

    def recording_step(self, batch):
        seen.extend(int(i) for i in batch["index"])
        return ToyMethod.generator_step(self, batch)

    method = make_method(generator_step=recording_step)
    cfg = build_config(method.config_class, None, [
        "train.epochs=2", "train.iterations_per_epoch=0", f"train.batch_size={BATCH}",
        f"data.train_windows={TRAIN_WINDOWS}", "data.dev_windows=9", "model.batchnorm=true",
    ])
    console = Console(file=sys.stdout, width=300)
    trainer = Trainer(method, cfg, data_root, run, console=console if os.environ["RANK"] == "0" else
                      Console(file=io.StringIO()))
    trainer.fit()
    assert not dist.is_initialized()  # the trainer destroyed the group it created

    digest = hashlib.sha256()
    for module in (trainer.generator, trainer.discriminator):
        for key, value in sorted(module.state_dict().items()):
            digest.update(key.encode() + value.detach().cpu().numpy().tobytes())

    rank, world = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
    dist.init_process_group("gloo", init_method=f"file://{side / 'store'}", rank=rank, world_size=world)
    rows = np.full((rank + 1, 3), float(rank), dtype=np.float32)  # rank 0: 1 row, rank 1: 2 rows
    gathered = avsdist.gather_arrays(rows)
    assert gathered.dtype == np.float32
    flags = avsdist.gather_arrays(np.array([rank == 0] + [False] * rank))
    empty = avsdist.gather_arrays(np.array([[1, 2]] if rank == 0 else np.zeros((0, 2), dtype=np.int64)))
    from avs.evaluation import gesture_metrics
    from clips_fixture import make_clips

    full = make_clips()
    shard = make_clips(rank=dist.get_rank(), world=dist.get_world_size())
    sharded_metrics = gesture_metrics(shard)
    dist.destroy_process_group()
    single_metrics = gesture_metrics(full)  # no process group any more: this rank alone, all clips

    per_epoch = len(seen) // 2
    (side / f"rank{rank}.json").write_text(json.dumps({
        "seen": [seen[:per_epoch], seen[per_epoch:]],
        "weights": digest.hexdigest(),
        "gathered": gathered.tolist(),
        "gathered_bool": flags.tolist(),
        "gathered_empty_ok": empty.tolist(),
        "metrics_sharded": sharded_metrics,
        "metrics_single": single_metrics,
    }))


if __name__ == "__main__":
    _worker(*(Path(a) for a in sys.argv[1:4]))
