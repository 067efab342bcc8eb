"""Core's training loop: G/D alternation, validation, checkpoints, resume, progress, DDP.

A run folder (``out_dir``) receives::

    config.yaml                 the config used (rewritten on resume)
    log.jsonl                   one JSON record per epoch
    last.safetensors            inference networks after the latest epoch
    best.safetensors            those of the epoch with the lowest ``impl.val_key``
    epoch_XXXX.safetensors      every ``train.checkpoint_every`` epochs
    state.pt                    everything needed to resume (written last each epoch)

Every file is written atomically, and ``state.pt`` is written after the others: it is the
commit point of an epoch, so a run killed at any moment resumes from its last complete
epoch. Only ``state.pt`` marks a folder as holding a run: a run killed in its first epoch
(checkpoints but no ``state.pt``) is trained into afresh by a plain run and by ``--resume``
alike. Hidden temporary files left by a kill during a write are removed on start.

The template: :meth:`Trainer.fit` → ``_setup`` (statistics, implementation, optimisers,
data) → ``_restore`` (state.pt) → ``_prepare`` (run folder, DDP) → per epoch
``_train_epoch`` / ``_validate`` / ``_save_epoch``. One iteration is ``d_steps``
discriminator steps (``impl.discriminator_step``) then one generator step
(``impl.generator_step``), all on the same batch; every group's learning rate is its
initial rate times ``impl.lr_scale(epoch, step)`` before each iteration. An epoch is
``iterations_per_epoch`` generator steps (cycling the data, reshuffled on every pass) or
one pass when that is 0. Each pass starts a fresh order that is a pure function of
``(seed, epoch, pass)``, so resuming reproduces it.

Under ``torchrun --nproc_per_node N`` each network of ``impl.networks()`` is wrapped
separately in ``DistributedDataParallel``, each process reads its own shard through a
``DistributedSampler``, logged values are averaged over ranks, and only rank 0 writes
files and prints.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch.utils.data import DataLoader, DistributedSampler

from avs import distributed as avsdist
from avs.checkpoint import build_impl, load_state_strict, load_training_state, save_checkpoint, save_training_state
from avs.config import config_to_yaml
from avs.errors import AvsError
from avs.impl import MethodImpl, learning_rate_factor
from avs.io import atomic_path
from avs.method import Method

RUN_FILES = ("state.pt",)
"""Files whose presence marks a folder as holding a run (a fresh run may not overwrite them).
A folder without them (killed before its first epoch was committed) may be trained into
afresh; its files are rewritten."""

OWN_FILES = ("state.pt", "last.safetensors", "best.safetensors", "config.yaml", "log.jsonl", "epoch_")
"""Prefixes of the files the trainer writes (their hidden temporaries are ``.<name>.*``)."""

_PASS_STRIDE = 1 << 20  # passes per epoch never reach this; keeps (epoch, pass) keys unique


class TrainingInterrupted(AvsError):
    """Training was stopped with Ctrl-C; the last complete epoch's files are intact."""

    exit_code = 130


@dataclass
class RunState:
    """Where a run stands: the one mutable record of the loop (restored from ``state.pt``).

    Attributes:
        epoch: the last completed epoch (0 before the first).
        step: generator steps taken in all.
        best_value: the lowest ``impl.val_key`` so far, or None.
        best_epoch: the epoch it was reached in, or None.
        last_metrics: validation metrics of the last epoch.
    """

    epoch: int = 0
    step: int = 0
    best_value: float | None = None
    best_epoch: int | None = None
    last_metrics: dict[str, float] = field(default_factory=dict)

    @property
    def best(self) -> dict[str, Any]:
        """``{"value", "epoch"}`` as stored in ``state.pt``."""
        return {"value": self.best_value, "epoch": self.best_epoch}


@dataclass
class EpochRecord:
    """What one epoch produced (logged, summarised and saved)."""

    epoch: int
    train_logs: dict[str, float]
    windows: int
    seconds: float
    metrics: dict[str, float]
    improved: bool


class _Meter:
    """Running means of named logged values."""

    def __init__(self) -> None:
        self.sums: dict[str, float] = {}
        self.counts: dict[str, int] = {}

    def add(self, logs: Mapping[str, float]) -> None:
        for k, v in logs.items():
            self.sums[k] = self.sums.get(k, 0.0) + v
            self.counts[k] = self.counts.get(k, 0) + 1

    def means(self) -> dict[str, float]:
        return {k: self.sums[k] / self.counts[k] for k in self.sums}


@dataclass
class TrainResult:
    """What a finished :meth:`Trainer.fit` reports.

    Attributes:
        epoch: the last completed epoch (1-based; 0 if none ran).
        step: generator steps taken in all.
        val_key: the validation metric used to pick the best checkpoint.
        best_value: its lowest value, or None without a dev split.
        best_epoch: the epoch it was reached in, or None.
        last_metrics: validation metrics of the last epoch (empty without a dev split).
        out_dir: the run folder.
        last_checkpoint, best_checkpoint, state_path, log_path, config_path: the run's
            files (``best_checkpoint`` None without a dev split).
    """

    epoch: int
    step: int
    val_key: str
    best_value: float | None
    best_epoch: int | None
    out_dir: Path
    last_checkpoint: Path
    best_checkpoint: Path | None
    state_path: Path
    log_path: Path
    config_path: Path
    last_metrics: dict[str, float] = field(default_factory=dict)

    @property
    def run_dir(self) -> Path:
        """Alias of ``out_dir``."""
        return self.out_dir


__all__ = ["RunState", "TrainResult", "Trainer", "TrainingInterrupted", "learning_rate_factor"]


def _to_device(batch: Any, device: torch.device) -> Any:
    if isinstance(batch, torch.Tensor):
        return batch.to(device, non_blocking=True)
    if isinstance(batch, Mapping):
        return {k: _to_device(v, device) for k, v in batch.items()}
    if isinstance(batch, (list, tuple)):
        return type(batch)(_to_device(v, device) for v in batch)
    return batch


def _batch_size(batch: Any) -> int:
    if isinstance(batch, torch.Tensor):
        return int(batch.shape[0]) if batch.ndim else 1
    if isinstance(batch, Mapping):
        for value in batch.values():
            return _batch_size(value)
    if isinstance(batch, (list, tuple)) and batch:
        return _batch_size(batch[0])
    return 1


def _floats(logs: Mapping[str, Any]) -> dict[str, float]:
    return {str(k): float(v.detach() if isinstance(v, torch.Tensor) else v) for k, v in logs.items()}


def _fmt(values: Mapping[str, float]) -> str:
    return "  ".join(f"{k} {v:.4g}" for k, v in values.items())


def _json_value(v: float) -> float | None:
    return v if math.isfinite(v) else None


class _RequiresGradOff:
    """Context: freeze modules' parameters, restoring each one's flag afterwards."""

    def __init__(self, *modules: torch.nn.Module | None) -> None:
        self.params = [p for m in modules if m is not None for p in m.parameters()]
        self.flags: list[bool] = []

    def __enter__(self) -> None:
        self.flags = [p.requires_grad for p in self.params]
        for p in self.params:
            p.requires_grad_(False)

    def __exit__(self, *exc: Any) -> None:
        for p, flag in zip(self.params, self.flags, strict=True):
            p.requires_grad_(flag)


class Trainer:
    """Trains one method on one data set into a run folder (a template method: see the module doc).

    Args:
        method: the method record (its ``impl`` is built here from ``(cfg, stats)``).
        cfg: the full config (``cfg.train`` is a :class:`avs.config.TrainConfig`).
        data_root: the data set's root folder (the method's own on-disk format).
        out_dir: the run folder; created if missing.
        resume: continue the run in ``out_dir`` from its ``state.pt`` (a folder killed before its
            first epoch was committed starts afresh, with a note).
        console: a :class:`rich.console.Console` for the progress bar and the epoch
            summaries (default: a new one on stdout). Only rank 0 prints.

    After :meth:`fit`, ``impl`` is the trained :class:`avs.impl.MethodImpl` (networks unwrapped
    from DDP, on the training device); ``generator`` and ``discriminator`` (None without one)
    are its networks of those names.

    Raises:
        AvsError: the data root is missing; a bad training option; ``out_dir`` is a file
            or already holds a run (without ``resume``); ``resume`` of a folder that is no run.
    """

    def __init__(
        self,
        method: Method,
        cfg: Any,
        data_root: str | Path,
        out_dir: str | Path,
        resume: bool = False,
        console: Any = None,
    ) -> None:
        self.method = method
        self.cfg = cfg
        self.data_root = Path(data_root)
        self.out_dir = Path(out_dir)
        self.resume = resume
        if console is None:
            from rich.console import Console

            console = Console()
        self.console = console
        self.device = torch.device("cpu")
        self.rank, self.world, self.main = 0, 1, True
        self.impl: MethodImpl | None = None
        self.optimizers: dict[str, torch.optim.Optimizer] = {}
        self.base_lrs: dict[str, list[float]] = {}
        self.train_set: Any = None
        self.dev_set: Any = None
        self.train_loader: DataLoader | None = None
        self.dev_loader: DataLoader | None = None
        self.train_sampler: DistributedSampler | None = None
        self.loader_generator = torch.Generator()
        self.steps_per_epoch = 0
        self.state = RunState()
        self.restart_note = ""
        self._check_options()
        self._check_paths()

    @property
    def generator(self) -> torch.nn.Module | None:
        """The implementation's ``generator`` network (None before :meth:`fit`)."""
        return self.impl.networks().get("generator") if self.impl is not None else None

    @property
    def discriminator(self) -> torch.nn.Module | None:
        """The implementation's ``discriminator`` network, or None."""
        return self.impl.networks().get("discriminator") if self.impl is not None else None

    # ------------------------------------------------------------------ checks & paths

    def _check_options(self) -> None:
        t = self.cfg.train
        problems = [
            (t.epochs < 1, f"train.epochs must be at least 1 (got {t.epochs})"),
            (t.batch_size < 1, f"train.batch_size must be at least 1 (got {t.batch_size})"),
            (t.iterations_per_epoch < 0,
             f"train.iterations_per_epoch must be 0 or more (got {t.iterations_per_epoch})"),
            (t.d_steps < 0, f"train.d_steps must be 0 or more (got {t.d_steps})"),
            (not t.lr_g > 0, f"train.lr_g must be positive (got {t.lr_g})"),
            (not t.lr_d > 0, f"train.lr_d must be positive (got {t.lr_d})"),
            (not (0 <= t.beta1 < 1 and 0 <= t.beta2 < 1), "train.beta1 and train.beta2 must be in [0, 1)"),
            (t.num_workers < 0, f"train.num_workers must be 0 or more (got {t.num_workers})"),
            (t.checkpoint_every < 0, f"train.checkpoint_every must be 0 or more (got {t.checkpoint_every})"),
        ]
        for bad, message in problems:
            if bad:
                raise AvsError(message)

    def _check_paths(self) -> None:
        if not self.data_root.exists():
            raise AvsError(f"data folder not found: {self.data_root}")
        if not self.data_root.is_dir():
            raise AvsError(f"data root {self.data_root} is not a folder")
        if self.out_dir.exists() and not self.out_dir.is_dir():
            raise AvsError(f"output path {self.out_dir} exists and is not a folder")
        holds_run = self.out_dir.is_dir() and any((self.out_dir / f).exists() for f in RUN_FILES)
        if self.resume and not holds_run:
            if not (self.out_dir / "config.yaml").is_file():
                raise AvsError(f"nothing to resume: {self.out_dir / 'state.pt'} not found")
            self.resume = False  # killed before its first epoch was committed: start again
            self.restart_note = "no complete epoch to resume (state.pt not found); training from the start"
        elif holds_run and not self.resume:
            raise AvsError(
                f"{self.out_dir} already holds a training run; "
                "resume it with --resume or choose another --out"
            )

    def _path(self, name: str) -> Path:
        return self.out_dir / name

    def _print(self, text: str) -> None:
        if self.main:
            self.console.print(text, highlight=False, soft_wrap=True)

    def _impl(self) -> MethodImpl:
        if self.impl is None:
            raise RuntimeError("Trainer._setup() has not run")
        return self.impl

    # ------------------------------------------------------------------ template

    def fit(self) -> TrainResult:
        """Train for ``cfg.train.epochs`` epochs (or the remaining ones on resume).

        Returns:
            A :class:`TrainResult`.

        Raises:
            AvsError: an empty train split, a non-finite training loss, a dev metric
                without ``impl.val_key``, or weights in ``state.pt`` that do not fit.
            TrainingInterrupted: on Ctrl-C (an :class:`AvsError` with exit code 130);
                the last complete epoch's files stay valid.
        """
        self.device = avsdist.resolve_device(self.cfg.train.device)
        created_group = avsdist.init_distributed(self.device)
        deterministic = (torch.are_deterministic_algorithms_enabled(),
                         torch.is_deterministic_algorithms_warn_only_enabled(),
                         torch.utils.deterministic.fill_uninitialized_memory)
        try:
            self.rank, self.world = avsdist.get_rank(), avsdist.get_world_size()
            self.main = self.rank == 0
            avsdist.barrier()  # every rank has passed its checks before rank 0 writes anything
            if self.device.type == "cpu":
                torch.use_deterministic_algorithms(True, warn_only=True)
                # not also NaN-filling every new tensor (a debugging aid of deterministic mode): 12 % of an
                # SDT-BP step's CPU time, and results are the same (benchmarks/bench_sdt_step.py)
                torch.utils.deterministic.fill_uninitialized_memory = False
            self._setup()
            self._restore()
            self._prepare()
            for epoch in range(self.state.epoch + 1, int(self.cfg.train.epochs) + 1):
                self._run_epoch(epoch)
            return self._result()
        except KeyboardInterrupt:
            done = self.state.epoch
            hint = f"resume with --resume {self.out_dir}" if done else "no epoch was completed, start again"
            raise TrainingInterrupted(f"training interrupted after epoch {done}; {hint}") from None
        finally:
            torch.use_deterministic_algorithms(deterministic[0], warn_only=deterministic[1])
            torch.utils.deterministic.fill_uninitialized_memory = deterministic[2]
            if created_group:
                avsdist.cleanup_distributed()

    def _setup(self) -> None:
        """Statistics, the implementation (seeded networks), optimisers and the data sets."""
        t = self.cfg.train
        cls = self.method.impl_class()
        stats = cls.compute_stats(self.cfg, self.data_root)
        torch.manual_seed(int(t.seed))  # the initial weights depend on the seed alone
        self.impl = build_impl(self.method, self.cfg, stats)
        self.cfg = self.impl.cfg  # the implementation may complete it from the statistics (saved as such)
        self.impl.to(self.device)
        self.optimizers = dict(self.impl.configure_optimizers())
        if "generator" not in self.optimizers:
            raise AvsError(f"method {self.method.name}: configure_optimizers() returned no 'generator' optimiser")
        self.base_lrs = {name: [float(g["lr"]) for g in opt.param_groups] for name, opt in self.optimizers.items()}
        with torch.random.fork_rng(devices=[]):  # reading data never shifts the training random stream
            self._read_data()
        if self.world > 1:  # each rank its own noise (dropout, sampling); DDP syncs the weights
            torch.manual_seed(int(t.seed) + 7919 * (self.rank + 1))

    def _read_data(self) -> None:
        impl = self._impl()
        self.train_set = impl.build_dataset(self.data_root, "train")
        if len(self.train_set) == 0:
            raise AvsError(f"the train split of {self.data_root} is empty")
        try:
            self.dev_set = impl.build_dataset(self.data_root, "dev")
            dev_reason = "it is empty" if len(self.dev_set) == 0 else ""
        except (AvsError, FileNotFoundError) as exc:
            self.dev_set, dev_reason = None, str(exc)
        if dev_reason:
            self.dev_set = None
            self._print(f"[yellow]note:[/] no dev split ({dev_reason}); training without validation")

    def _restore(self) -> None:
        """Load ``state.pt`` into the networks, optimisers, run state and RNG (``resume`` only)."""
        if self.restart_note:
            self._print(f"[yellow]note:[/] {self.restart_note}")
        if not self.resume:
            return
        saved = load_training_state(self._path("state.pt"))
        source = f"training state {self._path('state.pt')}"
        for name, net in self._impl().networks().items():
            if name not in saved.networks:
                raise AvsError(f"{source} has no {name!r} network but method {self.method.name!r} has one")
            load_state_strict(net, saved.networks[name], source)
        try:
            for name, opt in self.optimizers.items():
                if name in saved.optimizers:
                    opt.load_state_dict(saved.optimizers[name])
        except (ValueError, KeyError, RuntimeError) as exc:
            raise AvsError(f"{source}: optimiser state does not fit: {exc}") from None
        self.state = RunState(saved.epoch, saved.step, saved.best.get("value"), saved.best.get("epoch"))
        self._restore_rng(saved.rng_state, saved.epoch)
        if self.main:
            self._trim_log(saved.epoch)
        self._print(f"resuming {self.out_dir} after epoch {saved.epoch} (step {saved.step})")
        if saved.epoch >= int(self.cfg.train.epochs):
            self._print(f"nothing to do: the run already has {saved.epoch} epoch(s); "
                        f"raise train.epochs to train longer")

    def _prepare(self) -> None:
        """Write the run folder's config, wrap each network in DDP, build the loaders."""
        if self.main:
            self.out_dir.mkdir(parents=True, exist_ok=True)
            self._remove_stale_temporaries()
            if not self.resume:
                self._path("log.jsonl").unlink(missing_ok=True)  # left by a run killed in epoch 1
            with atomic_path(self._path("config.yaml")) as tmp:
                tmp.write_text(config_to_yaml(self.cfg))
        self._wrap_networks()
        self.train_loader = self._train_loader(self.train_set)
        self.dev_loader = self._dev_loader(self.dev_set) if self.dev_set is not None else None
        self.steps_per_epoch = self.cfg.train.iterations_per_epoch or len(self.train_loader)

    def _remove_stale_temporaries(self) -> None:
        """Hidden temporaries of :func:`avs.io.atomic_path` left by a run killed while writing."""
        for path in self.out_dir.iterdir():
            if path.is_file() and path.name.startswith(tuple("." + own for own in OWN_FILES)):
                path.unlink(missing_ok=True)

    def _wrap_networks(self) -> None:
        impl = self._impl()
        impl.wrapped = {}
        if self.world <= 1:
            return
        from torch.nn.parallel import DistributedDataParallel as DDP

        ids = [self.device.index] if self.device.type == "cuda" else None
        for name, net in impl.networks().items():
            if any(p.requires_grad for p in net.parameters()):
                # a D step runs D twice (real, fake): no buffer broadcast between the calls
                impl.wrapped[name] = DDP(net, device_ids=ids, forward_sync_buffers=False)

    def _run_epoch(self, epoch: int) -> None:
        began = time.perf_counter()
        train_logs, windows = self._train_epoch(epoch)
        self.state.step += self.steps_per_epoch
        seconds = time.perf_counter() - began
        for net in self._impl().networks().values():
            avsdist.sync_buffers(net)
        metrics = self._validate() if self.dev_loader is not None else {}
        record = EpochRecord(epoch, train_logs, windows, seconds, metrics, self._update_best(epoch, metrics))
        rng = self._rng_state()  # a collective: every rank, before rank 0 writes
        if self.main:
            self._save_epoch(record, rng)
        self.state.epoch = epoch
        self.state.last_metrics = metrics
        self._print(self._summary(record))

    def _update_best(self, epoch: int, metrics: Mapping[str, float]) -> bool:
        if not metrics:
            return False
        key = self._impl().val_key
        if key not in metrics:
            raise AvsError(f"method {self.method.name}: validate() returned no {key!r} (got {', '.join(metrics)})")
        value = metrics[key]
        improved = math.isfinite(value) and (self.state.best_value is None or value < self.state.best_value)
        if improved:
            self.state.best_value, self.state.best_epoch = float(value), epoch
        return improved

    def _result(self) -> TrainResult:
        s = self.state
        return TrainResult(
            epoch=s.epoch, step=s.step, val_key=self._impl().val_key, best_value=s.best_value,
            best_epoch=s.best_epoch, out_dir=self.out_dir, last_checkpoint=self._path("last.safetensors"),
            best_checkpoint=self._path("best.safetensors") if s.best_value is not None else None,
            state_path=self._path("state.pt"), log_path=self._path("log.jsonl"),
            config_path=self._path("config.yaml"), last_metrics=s.last_metrics,
        )

    # ------------------------------------------------------------------ data

    def _train_loader(self, dataset: Any) -> DataLoader:
        t = self.cfg.train
        self.train_sampler = DistributedSampler(
            dataset, num_replicas=self.world, rank=self.rank, shuffle=True, seed=t.seed, drop_last=False
        )
        per_rank = len(self.train_sampler)
        return DataLoader(
            dataset,
            batch_size=t.batch_size,
            sampler=self.train_sampler,
            num_workers=t.num_workers,
            drop_last=per_rank >= t.batch_size,  # equal batch counts on every rank; never zero batches
            generator=self.loader_generator,
            pin_memory=self.device.type == "cuda",
            collate_fn=self._impl().collate,
        )

    def _dev_loader(self, dataset: Any) -> DataLoader:
        n = len(dataset)
        # rank-strided shards without padding; if there are fewer windows than ranks every
        # rank validates them all (the weighted average is unchanged)
        indices = list(range(n)) if n < self.world else list(range(self.rank, n, self.world))
        return DataLoader(
            dataset,
            batch_size=self.cfg.train.batch_size,
            sampler=indices,
            num_workers=self.cfg.train.num_workers,
            pin_memory=self.device.type == "cuda",
            collate_fn=self._impl().collate,
        )

    def _passes(self, epoch: int) -> Iterator[Any]:
        """Batches of an epoch's passes, each pass in its own order keyed by (seed, epoch, pass)."""
        assert self.train_loader is not None and self.train_sampler is not None
        seed = int(self.cfg.train.seed)
        pass_index = 0
        while True:
            key = epoch * _PASS_STRIDE + pass_index
            self.train_sampler.set_epoch(key)
            self.loader_generator.manual_seed((seed * 1_000_003 + key) % (2**63))
            yield from self.train_loader
            pass_index += 1

    # ------------------------------------------------------------------ RNG

    def _rng_state(self) -> dict:
        """Every rank's torch CPU (and CUDA) generator state, gathered on all ranks."""
        cpu = avsdist.gather_arrays(torch.get_rng_state().numpy()[None])
        state: dict[str, Any] = {"world_size": self.world, "cpu": torch.from_numpy(cpu.copy())}
        if self.device.type == "cuda":
            cuda = avsdist.gather_arrays(torch.cuda.get_rng_state(self.device).numpy()[None])
            state["cuda"] = torch.from_numpy(cuda.copy())
        return state

    def _restore_rng(self, state: Mapping[str, Any], epoch: int) -> None:
        if int(state.get("world_size", 0)) == self.world and "cpu" in state:
            torch.set_rng_state(state["cpu"][self.rank].clone())
            if self.device.type == "cuda" and "cuda" in state:
                torch.cuda.set_rng_state(state["cuda"][self.rank].clone(), self.device)
            return
        # resumed with another number of processes: reseed deterministically instead
        self._print(
            f"[yellow]note:[/] the run was saved with {state.get('world_size')} process(es) and resumes "
            f"with {self.world}: random streams are reseeded, so results differ from an uninterrupted run"
        )
        torch.manual_seed(int(self.cfg.train.seed) + 7919 * epoch + self.rank)

    # ------------------------------------------------------------------ one epoch

    def _progress(self, epoch: int) -> Any:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        show = self.main and bool(getattr(self.console, "is_terminal", False))
        return Progress(
            TextColumn(f"epoch {epoch}/{self.cfg.train.epochs}"), BarColumn(), MofNCompleteColumn(),
            TimeRemainingColumn(), TextColumn("{task.fields[losses]}"),
            console=self.console, transient=True, disable=not show,
        )

    def _train_epoch(self, epoch: int) -> tuple[dict[str, float], int]:
        """Run ``steps_per_epoch`` iterations.

        Returns:
            (logs averaged over steps and ranks, windows seen by all ranks).
        """
        self._impl().set_mode(True)
        meter, windows = _Meter(), 0
        batches = self._passes(epoch)
        progress = self._progress(epoch)
        with progress:
            task = progress.add_task("train", total=self.steps_per_epoch, losses="")
            for i in range(self.steps_per_epoch):
                batch = _to_device(next(batches), self.device)
                windows += _batch_size(batch)
                self._set_learning_rates(epoch, self.state.step + i)
                self._discriminator_steps(batch, meter)
                meter.add(self._generator_step(batch))
                if not progress.disable:
                    progress.update(task, advance=1, losses=_fmt(meter.means()))
        means = avsdist.reduce_mean(meter.means())
        windows = int(round(avsdist.reduce_sum({"w": windows})["w"]))
        bad = [k for k, v in means.items() if not math.isfinite(v)]
        if bad:
            raise AvsError(f"training diverged in epoch {epoch}: {', '.join(bad)} is not finite "
                           "(try a lower learning rate)")
        return means, windows

    def _set_learning_rates(self, epoch: int, step: int) -> None:
        scale = float(self._impl().lr_scale(epoch, step))
        for name, opt in self.optimizers.items():
            for group, base in zip(opt.param_groups, self.base_lrs[name], strict=True):
                group["lr"] = base * scale

    def _discriminator_steps(self, batch: Any, meter: _Meter) -> None:
        """``d_steps`` discriminator updates with every other network frozen."""
        opt = self.optimizers.get("discriminator")
        if opt is None or self.cfg.train.d_steps <= 0:
            return
        impl = self._impl()
        frozen = [n for k, n in impl.networks().items() if k != "discriminator"]
        with _RequiresGradOff(*frozen):
            for _ in range(int(self.cfg.train.d_steps)):
                opt.zero_grad(set_to_none=True)
                out = impl.discriminator_step(batch)
                if out is None:
                    return
                loss_d, logs_d = out
                loss_d.backward()
                opt.step()
                meter.add({"loss_d": float(loss_d.detach()), **_floats(logs_d)})

    def _generator_step(self, batch: Any) -> dict[str, float]:
        """One update of every optimiser but the discriminator's, the discriminator frozen."""
        impl = self._impl()
        opts = [opt for name, opt in self.optimizers.items() if name != "discriminator"]
        for opt in opts:
            opt.zero_grad(set_to_none=True)
        with _RequiresGradOff(impl.networks().get("discriminator")):
            loss_g, logs_g = impl.generator_step(batch)
            loss_g.backward()
        for opt in opts:
            opt.step()
        return {"loss_g": float(loss_g.detach()), **_floats(logs_g)}

    def _validate(self) -> dict[str, float]:
        """``impl.validate`` averaged over the dev split (weighted by batch size, all ranks)."""
        impl = self._impl()
        impl.set_mode(False)
        sums: dict[str, float] = {}
        count = 0
        with torch.no_grad():
            for batch in self.dev_loader or ():
                batch = _to_device(batch, self.device)
                n = _batch_size(batch)
                for k, v in impl.validate(batch).items():
                    sums[k] = sums.get(k, 0.0) + float(v) * n
                count += n
        impl.set_mode(True)
        total = avsdist.reduce_sum({**sums, "\0count": float(count)})
        count_all = total.pop("\0count")
        return {k: v / count_all for k, v in total.items()} if count_all else {}

    # ------------------------------------------------------------------ files

    def _save_epoch(self, record: EpochRecord, rng: dict) -> None:
        """Checkpoints, the log line, then ``state.pt`` (the commit point of the epoch)."""
        impl, t, epoch = self._impl(), self.cfg.train, record.epoch
        nets = impl.networks()
        weights = {name: nets[name].state_dict() for name in impl.inference_networks if name in nets}
        extra = {"epoch": epoch, "step": self.state.step, "metrics": record.metrics, "train": record.train_logs}
        names = ["last.safetensors"]
        if t.checkpoint_every and epoch % t.checkpoint_every == 0:
            names.append(f"epoch_{epoch:04d}.safetensors")
        if record.improved:
            names.append("best.safetensors")
        for name in names:
            save_checkpoint(self._path(name), weights, method=self.method, cfg=self.cfg, stats=impl.stats,
                            extra=extra)
        self._append_log(record)
        save_training_state(self._path("state.pt"), networks=nets, optimizers=self.optimizers, epoch=epoch,
                            step=self.state.step, rng_state=rng, best=self.state.best)

    def _append_log(self, record: EpochRecord) -> None:
        seconds = record.seconds
        line = {
            "epoch": record.epoch,
            "step": self.state.step,
            "train": {k: _json_value(v) for k, v in record.train_logs.items()},
            "val": {k: _json_value(v) for k, v in record.metrics.items()} if record.metrics else None,
            "best": record.improved,
            "seconds": round(seconds, 4),
            "windows_per_second": round(record.windows / seconds, 2) if seconds > 0 else None,
        }
        with open(self._path("log.jsonl"), "a", encoding="utf-8") as fh:
            fh.write(json.dumps(line) + "\n")
            fh.flush()

    def _trim_log(self, epoch: int) -> None:
        """Keep only complete records of epochs up to ``epoch`` (a run killed mid-epoch may have more)."""
        path = self._path("log.jsonl")
        if not path.exists():
            return
        kept = []
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if isinstance(record, dict) and int(record.get("epoch", 0)) <= epoch:
                kept.append(line)
        with atomic_path(path) as tmp:
            tmp.write_text("".join(line + "\n" for line in kept), encoding="utf-8")

    def _summary(self, record: EpochRecord) -> str:
        parts = [f"epoch {record.epoch}/{self.cfg.train.epochs}", f"step {self.state.step}",
                 _fmt(record.train_logs)]
        if record.metrics:
            parts.append("val " + _fmt(record.metrics) + (" (best)" if record.improved else ""))
        seconds = record.seconds
        parts.append(f"{seconds:.1f} s, {record.windows / seconds if seconds > 0 else 0:.0f} windows/s")
        return " | ".join(parts)
