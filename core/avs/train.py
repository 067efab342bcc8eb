"""Core's training loop: G/D alternation, validation, checkpoints, resume, progress, DDP.

A run folder (``out_dir``) receives::

    config.yaml                 the config used (rewritten on resume)
    log.jsonl                   one JSON record per epoch
    last.safetensors            generator after the latest epoch
    best.safetensors            generator of the epoch with the lowest ``method.val_key``
    epoch_XXXX.safetensors      every ``train.checkpoint_every`` epochs
    state.pt                    everything needed to resume (written last each epoch)

Every file is written atomically, and ``state.pt`` is written after the others, so a
run killed at any moment resumes from its last complete epoch.

One iteration is ``d_steps`` discriminator steps then one generator step, all on the
same batch. An epoch is ``iterations_per_epoch`` generator steps (cycling the data,
reshuffled on every pass) or one pass when that is 0. Each pass starts a fresh order
that is a pure function of ``(seed, epoch, pass)``, so resuming reproduces it.

Under ``torchrun --nproc_per_node N`` the generator and the discriminator are wrapped
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
from avs.checkpoint import load_state_strict, load_training_state, save_checkpoint, save_training_state
from avs.config import config_to_yaml
from avs.errors import AvsError
from avs.io import atomic_path
from avs.method import Method

RUN_FILES = ("state.pt", "last.safetensors", "best.safetensors")
"""Files whose presence marks a folder as holding a run (a fresh run may not overwrite them).
A folder with only ``config.yaml``/``log.jsonl`` (killed before its first epoch was saved)
may be trained into afresh; those two are rewritten."""

_PASS_STRIDE = 1 << 20  # passes per epoch never reach this; keeps (epoch, pass) keys unique


class TrainingInterrupted(AvsError):
    """Training was stopped with Ctrl-C; the last complete epoch's files are intact."""

    exit_code = 130


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


def learning_rate_factor(milestones: Any, gamma: float, epochs: int, epoch: int) -> float:
    """Step decay: ``gamma`` to the number of milestones already passed before ``epoch`` (1-based).

    As ``torch.optim.lr_scheduler.MultiStepLR`` stepped once per epoch; a negative milestone
    counts from the end (``-10`` = ``epochs - 10``: SDT's schedule, Qian et al. 2021). A pure
    function of the epoch, so a resumed run needs no scheduler state.
    """
    passed = 0
    for m in milestones or ():
        at = epochs + int(m) if int(m) < 0 else int(m)
        if 0 < at <= epoch - 1:  # a milestone at or before the start never fires (as MultiStepLR)
            passed += 1
    return float(gamma) ** passed


def set_learning_rates(cfg: Any, epoch: int, opt_g: torch.optim.Optimizer,
                       opt_d: torch.optim.Optimizer | None) -> None:
    """Set both optimisers' rates for ``epoch`` from ``cfg.train`` (lr, milestones, gamma)."""
    t = cfg.train
    factor = learning_rate_factor(t.lr_milestones, t.lr_gamma, int(t.epochs), epoch)
    for group in opt_g.param_groups:
        group["lr"] = float(t.lr_g) * factor
    if opt_d is not None:
        for group in opt_d.param_groups:
            group["lr"] = float(t.lr_d) * factor


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
    """Context: freeze a module's parameters, restoring each one's flag afterwards."""

    def __init__(self, module: torch.nn.Module | None) -> None:
        self.params = list(module.parameters()) if module is not None else []
        self.flags: list[bool] = []

    def __enter__(self) -> None:
        self.flags = [p.requires_grad for p in self.params]
        for p in self.params:
            p.requires_grad_(False)

    def __exit__(self, *exc: Any) -> None:
        for p, flag in zip(self.params, self.flags, strict=True):
            p.requires_grad_(flag)


class Trainer:
    """Trains one method on one data set into a run folder.

    Args:
        method: the method (its factories and losses).
        cfg: the full config (``cfg.train`` is a :class:`avs.config.TrainConfig`).
        data_root: the data set's root folder (the method's own on-disk format).
        out_dir: the run folder; created if missing.
        resume: continue the run in ``out_dir`` from its ``state.pt``.
        console: a :class:`rich.console.Console` for the progress bar and the epoch
            summaries (default: a new one on stdout). Only rank 0 prints.

    After :meth:`fit`, ``generator`` and ``discriminator`` (None without one) are the
    trained modules (unwrapped from DDP), on the training device.

    Raises:
        AvsError: the data root is missing; a bad training option; ``out_dir`` is a file
            or already holds a run (without ``resume``); ``resume`` without a ``state.pt``.
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
        self._check_options()
        if not self.data_root.exists():
            raise AvsError(f"data folder not found: {self.data_root}")
        if not self.data_root.is_dir():
            raise AvsError(f"data root {self.data_root} is not a folder")
        if self.out_dir.exists() and not self.out_dir.is_dir():
            raise AvsError(f"output path {self.out_dir} exists and is not a folder")
        holds_run = self.out_dir.is_dir() and any((self.out_dir / f).exists() for f in RUN_FILES)
        if resume:
            if not (self.out_dir / "state.pt").is_file():
                raise AvsError(f"nothing to resume: {self.out_dir / 'state.pt'} not found")
        elif holds_run:
            raise AvsError(
                f"{self.out_dir} already holds a training run; "
                "resume it with --resume or choose another --out"
            )

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

    def _path(self, name: str) -> Path:
        return self.out_dir / name

    def _print(self, text: str) -> None:
        if self.main:
            self.console.print(text, highlight=False, soft_wrap=True)

    # ------------------------------------------------------------------ data

    def _train_loader(self, dataset: Any) -> DataLoader:
        t = self.cfg.train
        self.train_sampler = DistributedSampler(
            dataset, num_replicas=self.world, rank=self.rank, shuffle=True, seed=t.seed, drop_last=False
        )
        per_rank = len(self.train_sampler)
        self.loader_generator = torch.Generator()
        return DataLoader(
            dataset,
            batch_size=t.batch_size,
            sampler=self.train_sampler,
            num_workers=t.num_workers,
            drop_last=per_rank >= t.batch_size,  # equal batch counts on every rank; never zero batches
            generator=self.loader_generator,
            pin_memory=self.device.type == "cuda",
            collate_fn=self.method.collate,
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
            collate_fn=self.method.collate,
        )

    def _passes(self, loader: DataLoader, epoch: int) -> Iterator[Any]:
        """Batches of an epoch's passes, each pass in its own order keyed by (seed, epoch, pass)."""
        seed = int(self.cfg.train.seed)
        pass_index = 0
        while True:
            key = epoch * _PASS_STRIDE + pass_index
            self.train_sampler.set_epoch(key)
            self.loader_generator.manual_seed((seed * 1_000_003 + key) % (2**63))
            yield from loader
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

    # ------------------------------------------------------------------ main entry

    def fit(self) -> TrainResult:
        """Train for ``cfg.train.epochs`` epochs (or the remaining ones on resume).

        Returns:
            A :class:`TrainResult`.

        Raises:
            AvsError: an empty train split, a non-finite training loss, a dev metric
                without ``method.val_key``, or weights in ``state.pt`` that do not fit.
            TrainingInterrupted: on Ctrl-C (an :class:`AvsError` with exit code 130);
                the last complete epoch's files stay valid.
        """
        self.device = avsdist.resolve_device(self.cfg.train.device)
        created_group = avsdist.init_distributed(self.device)
        deterministic = (torch.are_deterministic_algorithms_enabled(),
                         torch.is_deterministic_algorithms_warn_only_enabled())
        try:
            self.rank, self.world = avsdist.get_rank(), avsdist.get_world_size()
            self.main = self.rank == 0
            avsdist.barrier()  # every rank has passed its checks before rank 0 writes anything
            if self.device.type == "cpu":
                torch.use_deterministic_algorithms(True, warn_only=True)
            return self._fit()
        except KeyboardInterrupt:
            done = getattr(self, "epoch_done", 0)
            hint = f"resume with --resume {self.out_dir}" if done else "no epoch was completed, start again"
            raise TrainingInterrupted(f"training interrupted after epoch {done}; {hint}") from None
        finally:
            torch.use_deterministic_algorithms(deterministic[0], warn_only=deterministic[1])
            if created_group:
                avsdist.cleanup_distributed()

    def _fit(self) -> TrainResult:
        method, cfg, t = self.method, self.cfg, self.cfg.train
        stats = method.compute_stats(cfg, self.data_root)
        train_set = method.build_dataset(cfg, self.data_root, "train", stats)
        if len(train_set) == 0:
            raise AvsError(f"the train split of {self.data_root} is empty")
        try:
            dev_set = method.build_dataset(cfg, self.data_root, "dev", stats)
            dev_reason = "it is empty" if len(dev_set) == 0 else ""
        except (AvsError, FileNotFoundError) as exc:
            dev_set, dev_reason = None, str(exc)
        if dev_reason:
            dev_set = None
            self._print(f"[yellow]note:[/] no dev split ({dev_reason}); training without validation")

        torch.manual_seed(int(t.seed))  # the initial weights depend on the seed alone
        G = method.build_generator(cfg).to(self.device)
        D = method.build_discriminator(cfg) if method.build_discriminator else None  # None: variant without D
        if D is not None:
            D = D.to(self.device)
        betas = (float(t.beta1), float(t.beta2))
        opt_g = torch.optim.Adam(G.parameters(), lr=float(t.lr_g), betas=betas)
        opt_d = torch.optim.Adam(D.parameters(), lr=float(t.lr_d), betas=betas) if D is not None else None
        self.generator, self.discriminator = G, D
        if self.world > 1:  # each rank its own noise (dropout, sampling); DDP syncs the weights
            torch.manual_seed(int(t.seed) + 7919 * (self.rank + 1))

        start_epoch, step = 0, 0
        best: dict[str, Any] = {"value": None, "epoch": None}
        if self.resume:
            state = load_training_state(self._path("state.pt"))
            source = f"training state {self._path('state.pt')}"
            load_state_strict(G, state.generator, source)
            if D is not None:
                if state.discriminator is None:
                    raise AvsError(f"{source} has no discriminator but method {method.name!r} has one")
                load_state_strict(D, state.discriminator, source)
            try:
                opt_g.load_state_dict(state.opt_g)
                if opt_d is not None and state.opt_d is not None:
                    opt_d.load_state_dict(state.opt_d)
            except (ValueError, KeyError, RuntimeError) as exc:
                raise AvsError(f"{source}: optimiser state does not fit: {exc}") from None
            start_epoch, step, best = state.epoch, state.step, state.best
            self._restore_rng(state.rng_state, start_epoch)
            if self.main:
                self._trim_log(start_epoch)
            self._print(f"resuming {self.out_dir} after epoch {start_epoch} (step {step})")
            if start_epoch >= int(t.epochs):
                self._print(f"nothing to do: the run already has {start_epoch} epoch(s); "
                            f"raise train.epochs to train longer")
        self.epoch_done = start_epoch

        if self.main:
            self.out_dir.mkdir(parents=True, exist_ok=True)
            if not self.resume:
                self._path("log.jsonl").unlink(missing_ok=True)  # left by a run killed in epoch 1
            with atomic_path(self._path("config.yaml")) as tmp:
                tmp.write_text(config_to_yaml(cfg))

        G_train, D_train = G, D
        if self.world > 1:
            from torch.nn.parallel import DistributedDataParallel as DDP

            ids = [self.device.index] if self.device.type == "cuda" else None
            G_train = DDP(G, device_ids=ids, forward_sync_buffers=False)
            if D is not None:
                # D runs twice per D step (real, fake): no buffer broadcast between the calls
                D_train = DDP(D, device_ids=ids, forward_sync_buffers=False)

        train_loader = self._train_loader(train_set)
        dev_loader = self._dev_loader(dev_set) if dev_set is not None else None
        steps_per_epoch = t.iterations_per_epoch or len(train_loader)
        last_metrics: dict[str, float] = {}

        for epoch in range(start_epoch + 1, int(t.epochs) + 1):
            began = time.perf_counter()
            set_learning_rates(cfg, epoch, opt_g, opt_d)
            train_logs, windows = self._train_epoch(G, D, G_train, D_train, opt_g, opt_d, train_loader,
                                                    epoch, steps_per_epoch)
            step += steps_per_epoch
            seconds = time.perf_counter() - began
            avsdist.sync_buffers(G)
            if D is not None:
                avsdist.sync_buffers(D)
            metrics = self._validate(G, dev_loader) if dev_loader is not None else {}
            last_metrics = metrics
            improved = False
            if metrics:
                if method.val_key not in metrics:
                    raise AvsError(f"method {method.name}: validate() returned no {method.val_key!r} "
                                   f"(got {', '.join(metrics)})")
                value = metrics[method.val_key]
                improved = math.isfinite(value) and (best["value"] is None or value < best["value"])
                if improved:
                    best = {"value": float(value), "epoch": epoch}
            rng = self._rng_state()  # a collective: every rank, before rank 0 writes
            if self.main:
                self._save_epoch(G, D, opt_g, opt_d, stats, epoch, step, metrics, train_logs, improved, best,
                                 rng, seconds, windows)
            self.epoch_done = epoch
            self._print(self._summary(epoch, step, train_logs, metrics, improved, seconds, windows))

        return TrainResult(
            epoch=self.epoch_done,
            step=step,
            val_key=method.val_key,
            best_value=best["value"],
            best_epoch=best["epoch"],
            out_dir=self.out_dir,
            last_checkpoint=self._path("last.safetensors"),
            best_checkpoint=self._path("best.safetensors") if best["value"] is not None else None,
            state_path=self._path("state.pt"),
            log_path=self._path("log.jsonl"),
            config_path=self._path("config.yaml"),
            last_metrics=last_metrics,
        )

    # ------------------------------------------------------------------ one epoch

    def _train_epoch(self, G, D, G_train, D_train, opt_g, opt_d, loader, epoch, steps):
        """Run ``steps`` iterations.

        Returns:
            (logs averaged over steps and ranks, windows seen by all ranks).
        """
        method, cfg, t = self.method, self.cfg, self.cfg.train
        G.train()
        if D is not None:
            D.train()
        sums: dict[str, float] = {}
        counts: dict[str, int] = {}
        windows = 0

        def add(logs: Mapping[str, float]) -> None:
            for k, v in logs.items():
                sums[k] = sums.get(k, 0.0) + v
                counts[k] = counts.get(k, 0) + 1

        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        show = self.main and bool(getattr(self.console, "is_terminal", False))
        progress = Progress(
            TextColumn(f"epoch {epoch}/{t.epochs}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
            TextColumn("{task.fields[losses]}"),
            console=self.console, transient=True, disable=not show,
        )
        batches = self._passes(loader, epoch)
        with progress:
            task = progress.add_task("train", total=steps, losses="")
            for _ in range(steps):
                batch = _to_device(next(batches), self.device)
                windows += _batch_size(batch)
                if D is not None and t.d_steps > 0:
                    with _RequiresGradOff(G):
                        for _ in range(t.d_steps):
                            opt_d.zero_grad(set_to_none=True)
                            loss_d, logs_d = method.discriminator_loss(G, D_train, batch, cfg)
                            loss_d.backward()
                            opt_d.step()
                            add({"loss_d": float(loss_d.detach()), **_floats(logs_d)})
                opt_g.zero_grad(set_to_none=True)
                with _RequiresGradOff(D):
                    loss_g, logs_g = method.generator_loss(G_train, D, batch, cfg)
                    loss_g.backward()
                opt_g.step()
                add({"loss_g": float(loss_g.detach()), **_floats(logs_g)})
                if show:
                    progress.update(task, advance=1, losses=_fmt({k: sums[k] / counts[k] for k in sums}))
        means = avsdist.reduce_mean({k: sums[k] / counts[k] for k in sums})
        windows = int(round(avsdist.reduce_sum({"w": windows})["w"]))
        bad = [k for k, v in means.items() if not math.isfinite(v)]
        if bad:
            raise AvsError(f"training diverged in epoch {epoch}: {', '.join(bad)} is not finite "
                           "(try a lower learning rate)")
        return means, windows

    def _validate(self, G: torch.nn.Module, loader: DataLoader) -> dict[str, float]:
        """``method.validate`` averaged over the dev split (weighted by batch size, all ranks)."""
        G.eval()
        sums: dict[str, float] = {}
        count = 0
        with torch.no_grad():
            for batch in loader:
                batch = _to_device(batch, self.device)
                n = _batch_size(batch)
                for k, v in self.method.validate(G, batch, self.cfg).items():
                    sums[k] = sums.get(k, 0.0) + float(v) * n
                count += n
        G.train()
        total = avsdist.reduce_sum({**sums, "\0count": float(count)})
        count_all = total.pop("\0count")
        return {k: v / count_all for k, v in total.items()} if count_all else {}

    # ------------------------------------------------------------------ files

    def _save_epoch(self, G, D, opt_g, opt_d, stats, epoch, step, metrics, train_logs, improved, best,
                    rng, seconds, windows) -> None:
        t = self.cfg.train
        extra = {"epoch": epoch, "step": step, "metrics": metrics, "train": train_logs}
        state = G.state_dict()
        save_checkpoint(self._path("last.safetensors"), state, method=self.method, cfg=self.cfg, stats=stats,
                        extra=extra)
        if t.checkpoint_every and epoch % t.checkpoint_every == 0:
            save_checkpoint(self._path(f"epoch_{epoch:04d}.safetensors"), state, method=self.method,
                            cfg=self.cfg, stats=stats, extra=extra)
        if improved:
            save_checkpoint(self._path("best.safetensors"), state, method=self.method, cfg=self.cfg,
                            stats=stats, extra=extra)
        record = {
            "epoch": epoch,
            "step": step,
            "train": {k: _json_value(v) for k, v in train_logs.items()},
            "val": {k: _json_value(v) for k, v in metrics.items()} if metrics else None,
            "best": improved,
            "seconds": round(seconds, 4),
            "windows_per_second": round(windows / seconds, 2) if seconds > 0 else None,
        }
        with open(self._path("log.jsonl"), "a", encoding="utf-8") as fh:
            fh.write(json.dumps(record) + "\n")
            fh.flush()
        # last: state.pt is the commit point of an epoch
        save_training_state(self._path("state.pt"), generator=G, discriminator=D, opt_g=opt_g, opt_d=opt_d,
                            epoch=epoch, step=step, rng_state=rng, best=best)

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

    def _summary(self, epoch, step, train_logs, metrics, improved, seconds, windows) -> str:
        parts = [f"epoch {epoch}/{self.cfg.train.epochs}", f"step {step}", _fmt(train_logs)]
        if metrics:
            parts.append("val " + _fmt(metrics) + (" (best)" if improved else ""))
        parts.append(f"{seconds:.1f} s, {windows / seconds if seconds > 0 else 0:.0f} windows/s")
        return " | ".join(parts)

