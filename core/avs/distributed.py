"""Distributed helpers: rank/world queries, process-group set-up, reductions and gathers.

Everything here is a no-op (or the identity) in a single process, so callers never need
to branch on "am I distributed?". Under ``torchrun --nproc_per_node N`` (``WORLD_SIZE`` >
1 in the environment) :func:`init_distributed` starts a process group: ``gloo`` on CPU,
``nccl`` on CUDA (``docs/design.md``, "Training").

Collectives (:func:`reduce_mean`, :func:`reduce_sum`, :func:`gather_arrays`,
:func:`sync_buffers`, :func:`barrier`) must be called by every rank, in the same order.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

import numpy as np
import torch
import torch.distributed as dist

from avs.errors import AvsError

_MAX_NDIM = 8
# dtypes gather_arrays can move; bool travels as uint8 (not every backend reduces bool).
_DTYPES = (np.bool_, np.uint8, np.int8, np.int16, np.int32, np.int64, np.float16, np.float32, np.float64)


def is_distributed() -> bool:
    """True when a process group with more than one process is running."""
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def get_rank() -> int:
    """This process's global rank (0 when not distributed)."""
    return dist.get_rank() if dist.is_available() and dist.is_initialized() else 0


def get_world_size() -> int:
    """Number of processes in the group (1 when not distributed)."""
    return dist.get_world_size() if dist.is_available() and dist.is_initialized() else 1


def get_local_rank() -> int:
    """This process's rank on its machine (``LOCAL_RANK`` as set by torchrun; 0 otherwise)."""
    return int(os.environ.get("LOCAL_RANK", "0"))


def is_main_process() -> bool:
    """True on rank 0 (and in a single process): the one process that writes files and prints."""
    return get_rank() == 0


def resolve_device(name: str = "auto") -> torch.device:
    """The torch device for a ``cfg.train.device`` string.

    Args:
        name: ``"auto"`` (CUDA if available, else CPU), ``"cpu"``, ``"cuda"`` or ``"cuda:N"``.
            A bare ``"cuda"``/``"auto"`` picks ``cuda:LOCAL_RANK`` so each torchrun process
            gets its own GPU.

    Raises:
        AvsError: for an unknown device name, or CUDA asked for but not available.
    """
    name = str(name).strip().lower()
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    try:
        device = torch.device(name)
    except (RuntimeError, ValueError):
        raise AvsError(f"unknown device {name!r} (use auto, cpu or cuda)") from None
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise AvsError("device 'cuda' was asked for but CUDA is not available (use train.device=cpu)")
        if device.index is None:
            device = torch.device("cuda", get_local_rank() % torch.cuda.device_count())
    elif device.type != "cpu":
        raise AvsError(f"unsupported device {name!r} (use auto, cpu or cuda)")
    return device


def init_distributed(device: torch.device | str = "cpu") -> bool:
    """Start the default process group when launched by torchrun with ``WORLD_SIZE`` > 1.

    Uses ``nccl`` for a CUDA device (and sets the current CUDA device), ``gloo`` otherwise;
    rendezvous through torchrun's environment (``env://``).

    Args:
        device: the device this process trains on.

    Returns:
        True if this call created the group (so the caller should destroy it with
        :func:`cleanup_distributed`); False when not launched distributed or when a group
        already exists.
    """
    if not dist.is_available() or dist.is_initialized():
        return False
    if int(os.environ.get("WORLD_SIZE", "1")) <= 1:
        return False
    device = torch.device(device)
    if device.type == "cuda":
        if device.index is not None:
            torch.cuda.set_device(device)
        dist.init_process_group("nccl")
    else:
        dist.init_process_group("gloo")
    return True


def cleanup_distributed() -> None:
    """Destroy the default process group if one exists."""
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def barrier() -> None:
    """Wait for every rank (no-op when not distributed)."""
    if is_distributed():
        dist.barrier()


def _comm_device() -> torch.device:
    """Where collective tensors must live: the current CUDA device under nccl, else CPU."""
    if dist.get_backend() == "nccl":
        return torch.device("cuda", torch.cuda.current_device())
    return torch.device("cpu")


def reduce_sum(values: Mapping[str, float]) -> dict[str, float]:
    """Sum named floats over all ranks (identity when not distributed).

    Every rank must pass the same keys; they are reduced in sorted order.
    """
    keys = sorted(values)
    if not is_distributed() or not keys:
        return {k: float(values[k]) for k in keys}
    t = torch.tensor([float(values[k]) for k in keys], dtype=torch.float64, device=_comm_device())
    dist.all_reduce(t, op=dist.ReduceOp.SUM)
    return dict(zip(keys, t.cpu().tolist(), strict=True))


def reduce_mean(values: Mapping[str, float]) -> dict[str, float]:
    """Average named floats over all ranks (identity when not distributed).

    Every rank must pass the same keys. Each rank counts equally: use :func:`reduce_sum`
    of sums and counts for a weighted mean.
    """
    world = get_world_size()
    return {k: v / world for k, v in reduce_sum(values).items()}


def all_ranks_ok(ok: bool) -> bool:
    """True only if ``ok`` is True on every rank (a collective; ``ok`` itself when not distributed)."""
    if not is_distributed():
        return ok
    t = torch.tensor([0 if ok else 1], dtype=torch.int64, device=_comm_device())
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return int(t.item()) == 0


def gather_arrays(x: np.ndarray) -> np.ndarray:
    """Concatenate every rank's rows, in rank order, on every rank.

    For metrics that need all of the data at once (Fréchet distances). Ranks may hold
    different numbers of rows; the trailing dimensions and the dtype must agree.

    Args:
        x: array of shape (N_rank, ...); a 0-d array counts as one row. dtypes: bool,
            (u)int8, int16/32/64, float16/32/64.

    Returns:
        (sum of N_rank, ...) array of ``x``'s dtype; ``x`` itself when not distributed.

    Raises:
        ValueError: for an unsupported dtype, more than 8 dimensions, or ranks whose
            trailing shapes or dtypes differ (a programming error, not a user's).
    """
    x = np.asarray(x)
    if not is_distributed():
        return x
    if x.ndim == 0:
        x = x.reshape(1)
    codes = [np.dtype(d) for d in _DTYPES]
    if x.dtype not in codes:
        raise ValueError(f"gather_arrays: unsupported dtype {x.dtype}")
    if x.ndim > _MAX_NDIM:
        raise ValueError(f"gather_arrays: at most {_MAX_NDIM} dimensions, got {x.ndim}")
    device = _comm_device()
    world = dist.get_world_size()
    header = [codes.index(x.dtype), x.ndim, *x.shape] + [-1] * (_MAX_NDIM - x.ndim)
    mine = torch.tensor(header, dtype=torch.int64, device=device)
    headers = [torch.empty_like(mine) for _ in range(world)]
    dist.all_gather(headers, mine)
    rows = []
    for h in headers:
        h = h.cpu().tolist()
        if h[0] != header[0] or h[1] != x.ndim or h[3 : 2 + x.ndim] != list(x.shape[1:]):
            raise ValueError(
                f"gather_arrays: rank shapes/dtypes differ ({x.dtype}{tuple(x.shape)} here, "
                f"{codes[h[0]]}{tuple(h[2:2 + h[1]])} elsewhere)"
            )
        rows.append(h[2])
    send = np.ascontiguousarray(x.view(np.uint8) if x.dtype == np.bool_ else x)
    padded = np.zeros((max(rows), *x.shape[1:]), dtype=send.dtype)
    padded[: x.shape[0]] = send
    t = torch.from_numpy(padded).to(device)
    parts = [torch.empty_like(t) for _ in range(world)]
    dist.all_gather(parts, t)
    out = np.concatenate([p.cpu().numpy()[:n] for p, n in zip(parts, rows, strict=True)], axis=0)
    return out.view(np.bool_) if x.dtype == np.bool_ else out


def sync_buffers(module: torch.nn.Module) -> None:
    """Make a module's buffers equal on every rank: floating buffers averaged, others from rank 0.

    DDP with ``broadcast_buffers=False`` lets BatchNorm running statistics drift apart
    between ranks; the trainer calls this once per epoch, before validating and saving.
    No-op when not distributed.
    """
    if not is_distributed():
        return
    world = dist.get_world_size()
    for buf in module.buffers():
        if buf.is_floating_point() or buf.is_complex():
            dist.all_reduce(buf.data, op=dist.ReduceOp.SUM)
            buf.data.div_(world)
        else:
            dist.broadcast(buf.data, src=0)
