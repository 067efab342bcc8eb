"""Small file helpers: atomic writes so that a failure never leaves half a file."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any


@contextlib.contextmanager
def atomic_path(target: str | Path, suffix: str = "") -> Iterator[Path]:
    """Yield a temporary path beside ``target``; rename it onto ``target`` on success.

    The temporary file lives in the same directory (same file system), so the final
    ``os.replace`` is atomic. On any exception the temporary file is removed and
    ``target`` is untouched.

    Raises:
        AvsError: the folder cannot be created or written (checked on entry; call
            :func:`check_output_path` before long work to fail before it instead).
    """
    target = Path(target)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=suffix or target.suffix, dir=target.parent)
    except OSError as exc:  # a parent that is a file, no permission, read-only file system, disk full
        from avs.errors import AvsError

        raise AvsError(f"cannot write {target}: {exc.strerror or exc}") from None
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        if tmp.exists():  # mkstemp makes 0600; give the file the mode a plain open() would
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            tmp.unlink()


def check_output_path(path: str | Path, *, folder: bool = False, what: str = "output") -> Path:
    """Check, before any work, that ``path`` can be written; create nothing.

    Walks up to the nearest existing ancestor, which must be a folder in which a file can
    be created (probed with a temporary file that is removed at once, so read-only file
    systems and permissions count, whoever the user is).

    Args:
        path: the file (or, with ``folder``, the folder) a command will write.
        folder: ``path`` is a folder to create or fill, not a file.
        what: how the error names it (e.g. ``"--json file"``).

    Returns:
        ``path`` as a :class:`~pathlib.Path`.

    Raises:
        AvsError: ``path`` is a folder where a file is wanted or a file where a folder is
            wanted, one of its parents is a file, or the place is not writable.
    """
    from avs.errors import AvsError

    path = Path(path)
    if path.is_dir() and not folder:
        raise AvsError(f"{what} {path} is a folder, not a file")
    if path.exists() and folder and not path.is_dir():
        raise AvsError(f"{what} {path} is a file, not a folder")
    place = path if folder and path.is_dir() else path.parent
    while not place.exists() and place != place.parent:  # exists() is False below a file, too
        place = place.parent
    if not place.is_dir():
        raise AvsError(f"cannot write {what} {path}: {place} is a file, not a folder")
    try:
        fd, probe = tempfile.mkstemp(prefix=".avs-write-check-", dir=place)
    except OSError as exc:
        raise AvsError(f"cannot write {what} {path}: {place} is not writable ({exc.strerror or exc})") from None
    os.close(fd)
    os.unlink(probe)
    return path


def npz_array(path: str | Path, key: str, npz: Any = None) -> Any:
    """One named array of an ``.npz`` file as float32, never unpickling (``allow_pickle=False``).

    Args:
        path: the file (named in errors).
        key: the array's name (e.g. ``pose``, ``audio``).
        npz: the already opened archive, or None to open ``path`` here (and close it again).

    Raises:
        AvsError: unreadable or not an ``.npz`` archive, no array ``key``.
    """
    import numpy as np

    from avs.errors import AvsError

    path, data = Path(path), npz
    try:
        if data is None:
            data = np.load(path, allow_pickle=False)
        if not hasattr(data, "files"):
            raise AvsError(f"{path} is not an .npz archive")
        if key not in data.files:
            raise AvsError(f"{path} has no {key!r} array (has: {', '.join(data.files)})")
        return np.asarray(data[key], dtype=np.float32)
    except AvsError:
        raise
    except Exception as exc:  # numpy/zipfile raise many types for a bad file
        raise AvsError(f"cannot read {path}: {exc}") from None
    finally:
        if npz is None and hasattr(data, "close"):
            data.close()


def read_window_npz(path: str | Path, read_pose: Callable[[Path, Any], Any]) -> tuple[Any, Any]:
    """Read one training window: an ``.npz`` with a ``pose`` (checked by the method) and ``audio``.

    Never unpickles (``np.load`` with ``allow_pickle=False``).

    Args:
        path: the ``.npz`` file.
        read_pose: the method's reader, ``(path, npz) -> pose array``; it raises AvsError for a
            missing or malformed pose.

    Returns:
        ``(pose, audio)``: what ``read_pose`` returned, and the (N,) float32 audio, flattened.

    Raises:
        AvsError: unreadable or not an archive, no ``audio``, empty or non-finite audio, or what
            ``read_pose`` raises.
    """
    import numpy as np

    from avs.errors import AvsError

    path = Path(path)
    try:
        data = np.load(path, allow_pickle=False)
        if not hasattr(data, "files"):
            raise AvsError(f"{path} is not an .npz archive")
        with data:
            pose = read_pose(path, data)
            audio = npz_array(path, "audio", data).reshape(-1)
    except AvsError:
        raise
    except Exception as exc:
        raise AvsError(f"cannot read {path}: {exc}") from None
    if audio.size == 0 or not np.isfinite(audio).all():
        raise AvsError(f"{path}: audio is empty or contains NaN or infinite values")
    return pose, audio
