"""Where the CLI writes: results on stdout, logs and error envelopes on stderr."""

from __future__ import annotations

import logging
import sys
import time
from typing import Any

from engine.errors import EngineError

__all__ = [
    "Output",
    "configure_logging",
    "forget_progressive",
    "interrupted_hint",
    "keep_on_interrupt",
    "log_failure_to_file",
    "print_error",
]

LOG = logging.getLogger("engine")

#: Files this command writes as it goes (not atomically), and what a stop leaves in them.
_PROGRESSIVE: dict[str, str] = {}


def keep_on_interrupt(path: str, what: str) -> None:
    """Record that ``path`` is written as the command runs, so an interrupted command's
    envelope says that it was kept and what it holds (``what``)."""
    _PROGRESSIVE[path] = what


def forget_progressive() -> None:
    """Start a command with no progressive outputs recorded."""
    _PROGRESSIVE.clear()


def interrupted_hint() -> str:
    """The interrupted envelope's hint: what was kept, and that nothing else was written."""
    if not _PROGRESSIVE:
        return "no partial output files were left"
    kept = "; ".join(f"{path} ({what})" for path, what in _PROGRESSIVE.items())
    return f"kept {kept}; the atomic outputs (summary, snapshot) were not written"


class _JsonFormatter(logging.Formatter):
    """One JSON object per log record."""

    def format(self, record: logging.LogRecord) -> str:
        import json

        entry: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        access = getattr(record, "access", None)
        if isinstance(access, dict):  # an HTTP request (engine.observe.http)
            entry.update(access)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry)


def configure_logging(
    fmt: str, level: str, log_file: str | None, max_bytes: int, backups: int
) -> None:
    """Log to stderr, and to a rotating file when ``log_file`` is set."""
    formatter: logging.Formatter = (
        _JsonFormatter()
        if fmt == "json"
        else logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    )
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if log_file:
        from logging.handlers import RotatingFileHandler  # sockets and all: only here

        try:
            handlers.append(
                RotatingFileHandler(
                    log_file, maxBytes=max_bytes, backupCount=backups, encoding="utf-8"
                )
            )
        except OSError as exc:
            from engine.errors import IOFailureError

            raise IOFailureError(f"cannot open log file {log_file!r}: {exc.strerror}") from None
    for handler in handlers:
        handler.setFormatter(formatter)
    LOG.handlers[:] = handlers
    LOG.setLevel(level.upper())
    LOG.propagate = False


def log_failure_to_file(error: EngineError) -> None:
    """Record a failure in the log file only: stderr carries exactly one envelope."""
    record = LOG.makeRecord(
        LOG.name, logging.ERROR, __file__, 0, "%s: %s", (error.code, error.detail), None
    )
    for handler in LOG.handlers:
        if isinstance(handler, logging.FileHandler):
            handler.handle(record)


def print_error(error: EngineError) -> None:
    """The error envelope, one line of JSON on stderr."""
    import json  # here and below: a command that prints text never loads it

    sys.stderr.write(json.dumps(error.envelope()) + "\n")
    sys.stderr.flush()


class Output:
    """Results for a person (text) or a program (``--json`` success envelope)."""

    def __init__(self, as_json: bool, command: str) -> None:
        self.as_json = as_json
        self.command = command

    def result(self, data: Any, text: str | None = None) -> None:
        """Print ``text`` (or ``data`` as JSON when there is no text form) or, with
        ``--json``, ``{"ok": true, "command": ..., "result": data}``."""
        if self.as_json:
            import json

            payload = {"ok": True, "command": self.command, "result": data}
            sys.stdout.write(json.dumps(payload, default=str) + "\n")
        elif text is not None:
            sys.stdout.write(text if text.endswith("\n") or not text else text + "\n")
        else:
            import json

            sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")
        sys.stdout.flush()
