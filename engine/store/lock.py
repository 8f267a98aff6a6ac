"""An exclusive lock for a read-modify-write of one file (``put``/``del --snapshot``).

Writers of the same snapshot serialise on ``fcntl.flock`` of a lock file beside it,
``.NAME.lock`` in the snapshot's folder (symbolic links followed first, so two names of
one file share one lock). The snapshot itself cannot carry the lock: every save replaces
it with a new file by rename. The lock file stays after the write (removing it would let a
waiting writer lock an unlinked file) and holds no data. Readers need no lock: a rename
shows them either the old snapshot or the new one, never a mixture.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import time
from collections.abc import Iterator
from pathlib import Path

from engine.errors import IOFailureError, PolicyError

__all__ = ["DEFAULT_LOCK_TIMEOUT", "lock_path", "locked"]

DEFAULT_LOCK_TIMEOUT = 60.0
_POLL = 0.01


def lock_path(path: str | os.PathLike[str]) -> Path:
    """Where the lock for ``path`` lives: ``.NAME.lock`` beside the file it names."""
    target = Path(os.path.realpath(path))
    return target.with_name(f".{target.name}.lock")


@contextlib.contextmanager
def locked(path: str | os.PathLike[str], timeout: float = DEFAULT_LOCK_TIMEOUT) -> Iterator[None]:
    """Hold the exclusive lock of ``path`` inside the block, waiting up to ``timeout``
    seconds for other writers. Raises :class:`PolicyError` when the wait runs out and
    :class:`IOFailureError` when the lock file cannot be opened."""
    where = lock_path(path)
    try:
        fd = os.open(where, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW, 0o644)
    except OSError as exc:
        raise IOFailureError(
            f"cannot open the lock file {str(where)!r}: {exc.strerror or exc}",
            "the snapshot's folder must be writable",
        ) from None
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as exc:
                if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                    raise IOFailureError(
                        f"cannot lock {str(where)!r}: {exc.strerror or exc}"
                    ) from None
            if time.monotonic() >= deadline:
                raise PolicyError(
                    f"{str(path)!r} is being written by another process "
                    f"(waited {timeout:g} s for {str(where)!r})",
                    "try again when the other command has finished",
                )
            time.sleep(_POLL)
        yield
    finally:
        os.close(fd)  # closing releases the lock
