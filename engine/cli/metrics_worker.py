"""The endpoint process of ``run-csv --metrics-port``, entered through a hidden argument.

``engine --serve-run-metrics SPEC`` (or ``python -m engine.cli ...``; see
:data:`engine.observe.endpoint_process.WORKER_FLAG`) applies the replay's logging set-up
and serves with :func:`engine.observe.endpoint_worker.serve`. It never returns: the
process ends with ``os._exit`` so that no thread or exit handler delays it.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Sequence
from typing import NoReturn

from engine.cli.output import configure_logging, ensure_logging
from engine.errors import EngineError

__all__ = ["main"]


def _exit_now() -> NoReturn:
    os._exit(0)


def main(argv: Sequence[str]) -> NoReturn:
    """Serve as the spec ``argv[0]`` says; exit 0 when stdin ends, 1 on a failure (its
    reason one line on stdout)."""
    from engine.observe.endpoint_worker import serve

    try:
        spec = json.loads(argv[0])
        log = spec.get("log")
        if log:
            configure_logging(*log)
            ensure_logging()
        fd, host = int(spec["fd"]), str(spec["host"])
    except (IndexError, ValueError, KeyError, TypeError, EngineError) as exc:
        sys.stdout.write(f"bad endpoint spec: {exc}\n")
        sys.stdout.flush()
        os._exit(1)
    os._exit(serve(fd, host, sys.stdin.buffer, sys.stdout, _exit_now))
