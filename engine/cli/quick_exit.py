"""Ending the ``engine`` process without taking its heap apart object by object.

A replay ends with a table of every live key in memory. When the process is about to
exit anyway, freeing it entry by entry (and the interpreter's last garbage collection,
which walks every container still alive) is work the operating system does in one go:
about 10 ms for 100,000 keys, 20 ms for the adaptive map, a few percent of a
one-million-row replay. So the ``engine`` program (:func:`run`, the console script and
``python -m engine.cli``) leaves through :func:`os._exit` once the command is done, but
only when every condition below holds; otherwise it exits the ordinary way:

* the command said its outputs are complete (:func:`allow`: written, flushed and
  closed, as ``run-csv`` does after its summary and snapshot);
* no thread but the main one is running (an ordinary exit would wait for them);
* the exit handlers ran (:mod:`atexit`: logging's flush of a log file, for one);
* stdout and stderr flushed without error (a command's result is flushed as it is
  written, :func:`engine.cli.output.write_stdout`, so this fails only for something
  written after it; the ordinary exit then reports it, with exit status 120).

Called as a library (``engine.cli.main(argv)``, in tests and notebooks) nothing changes:
:func:`hold` keeps nothing and nothing exits early.
"""

from __future__ import annotations

import os
import sys
from typing import Any, NoReturn

__all__ = ["allow", "hold", "in_program", "leave", "program_mode", "reset"]

#: Objects kept alive until the process ends (only in program mode).
_HELD: list[Any] = []
_STATE = {"program": False, "allowed": False}


def program_mode() -> None:
    """Mark this process as the ``engine`` program (not a library caller)."""
    _STATE["program"] = True


def in_program() -> bool:
    """Whether this process is the ``engine`` program (its stdio is its own to redirect)."""
    return _STATE["program"]


def reset() -> None:
    """Start a command: nothing held, no quick exit allowed yet."""
    _HELD.clear()
    _STATE["allowed"] = False


def hold(obj: Any) -> None:
    """Keep ``obj`` to the end of the program, so a quick exit does not free it first.
    Does nothing for a library caller. O(1)."""
    if _STATE["program"]:
        _HELD.append(obj)


def allow() -> None:
    """Say that the command's outputs are complete: a quick exit loses nothing."""
    _STATE["allowed"] = True


def _threads_running() -> bool:
    threading = sys.modules.get("threading")
    return threading is not None and threading.active_count() > 1


def _run_exit_handlers() -> bool:
    """Run and clear the :mod:`atexit` handlers, as an ordinary exit would; False when
    this interpreter offers no way to (then the exit is an ordinary one)."""
    import atexit

    run_handlers = getattr(atexit, "_run_exitfuncs", None)
    if run_handlers is None:
        return False
    run_handlers()
    return True


def _flushed() -> bool:
    for stream in (sys.stdout, sys.stderr):
        if stream is None:
            continue
        try:
            stream.flush()
        except BrokenPipeError:
            continue  # the reader left: as main() treats it, not an error
        except (OSError, ValueError):
            return False
    return True


def leave(code: int) -> NoReturn:
    """End the program with ``code``: quickly when it is safe (module docstring),
    otherwise through :class:`SystemExit`."""
    if (
        _STATE["program"]
        and _STATE["allowed"]
        and not _threads_running()
        and _run_exit_handlers()
        and _flushed()
    ):
        os._exit(code)
    raise SystemExit(code)
