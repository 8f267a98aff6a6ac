"""Atomic file writes: a temporary file in the target's folder, fsync, then rename.

A failed or interrupted write leaves no partial file and never replaces an existing good
one: the rename is the only step that touches the destination, and it is atomic on POSIX.

Writes go *through* what the path names, as a plain ``open`` would:

- a symbolic link is followed to its target (the link stays a link; a dangling link
  creates its target), and the temporary file lives beside the target;
- a path that is not a regular file (a character device such as ``/dev/null``, a FIFO)
  is opened and written directly: such a thing cannot be replaced by a rename, and
  replacing a device node would be wrong;
- a regular file that is replaced keeps its permission bits.
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from engine.errors import IOFailureError

__all__ = ["atomic_open", "atomic_write_bytes", "atomic_write_text", "resolve_output"]


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def resolve_output(path: str | os.PathLike[str]) -> tuple[Path, os.stat_result | None]:
    """The file a write to ``path`` lands in (symbolic links followed) and its status,
    None when it does not exist yet. Raises :class:`IOFailureError` for a folder."""
    try:
        status: os.stat_result | None = os.stat(path)  # follows links, /dev/stdout too
    except FileNotFoundError:
        status = None
    except OSError as exc:
        raise IOFailureError(f"cannot write {str(path)!r}: {exc.strerror or exc}") from None
    if status is not None and stat.S_ISDIR(status.st_mode):
        raise IOFailureError(
            f"cannot write {str(path)!r}: it is a folder", "give a file name inside it"
        )
    if status is not None and not stat.S_ISREG(status.st_mode):
        return Path(path), status  # a device or FIFO: opened as named
    return Path(os.path.realpath(path)), status


@contextlib.contextmanager
def atomic_open(path: str | os.PathLike[str], mode: str = "w", **kwargs: Any) -> Iterator[IO[Any]]:
    """Open a temporary sibling of ``path`` for writing; on success fsync and rename it to
    ``path``; on any exception delete it and leave ``path`` untouched. Symbolic links are
    followed, and a device or FIFO is written directly (see the module docstring)."""
    if mode not in ("w", "wb"):
        raise ValueError("atomic_open writes only: mode 'w' or 'wb'")
    target, status = resolve_output(path)
    if status is not None and not stat.S_ISREG(status.st_mode):
        with open(target, mode, **kwargs) as direct:
            yield direct
        return
    import tempfile  # here: a replay that writes no file does not load it

    folder = target.parent
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise IOFailureError(
            f"cannot create a file in {str(folder)!r}: {exc.strerror or exc}",
            "check that the folder exists and is writable",
        ) from exc
    file_mode = 0o666 & ~_umask() if status is None else stat.S_IMODE(status.st_mode)
    try:
        with os.fdopen(fd, mode, **kwargs) as handle:
            yield handle
            handle.flush()
            os.chmod(tmp_name, file_mode)  # mkstemp makes 0600
            os.fsync(handle.fileno())
        os.replace(tmp_name, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp_name)
        raise
    with contextlib.suppress(OSError):  # make the rename itself durable
        dir_fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def atomic_write_text(path: str | os.PathLike[str], text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    try:
        with atomic_open(path, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
    except OSError as exc:
        raise IOFailureError(f"cannot write {str(path)!r}: {exc.strerror or exc}") from exc


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` atomically."""
    try:
        with atomic_open(path, "wb") as handle:
            handle.write(data)
    except OSError as exc:
        raise IOFailureError(f"cannot write {str(path)!r}: {exc.strerror or exc}") from exc
