"""Where the CLI writes: results on stdout, logs and error envelopes on stderr."""

from __future__ import annotations

import sys
import time
from typing import TYPE_CHECKING, Any

from engine.errors import EngineError, IOFailureError

if TYPE_CHECKING:
    import logging

__all__ = [
    "LOG",
    "Output",
    "configure_logging",
    "ensure_logging",
    "forget_progressive",
    "interrupted_hint",
    "keep_on_interrupt",
    "log_failure_to_file",
    "log_file_failure",
    "print_error",
    "write_stderr",
    "write_stdout",
]

_LEVELS = {"debug": 10, "info": 20, "warning": 30, "error": 40}
_WARNING = 30

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


class _EngineLog:
    """The ``engine`` logger (``logging.getLogger("engine")``), imported on first need.

    Importing :mod:`logging` (with traceback, threading, string and their regular
    expressions) costs about a tenth of a short command's start-up, and at the default
    level (warning) a replay logs nothing. So :func:`configure_logging` only records the
    configuration and the level; the first record at or above that level, or
    :func:`ensure_logging` (called before anything that logs through :mod:`logging`
    directly, such as the HTTP servers), imports logging, applies the configuration and
    from then on hands every call to the real logger."""

    def __init__(self) -> None:
        self.level = _WARNING  # an unconfigured logger's effective level (the root's)
        self._setup: tuple[str, str, str | None, int, int] | None = None
        self._logger: logging.Logger | None = None

    def configure(self, fmt: str, level: str, log_file: str | None, size: int, n: int) -> None:
        self.level = _LEVELS[level]
        self._setup = (fmt, level, log_file, size, n)
        if self._logger is not None:
            _apply(self._logger, *self._setup)

    @property
    def setup(self) -> tuple[str, str, str | None, int, int] | None:
        """The configuration (format, level, file, bytes, backups), once configured."""
        return self._setup

    @property
    def loaded(self) -> logging.Logger | None:
        """The real logger once loaded, else None."""
        return self._logger

    def real(self) -> logging.Logger:
        """The real logger, configured."""
        if self._logger is None:
            import logging

            logger = logging.getLogger("engine")
            if self._setup is not None:
                _apply(logger, *self._setup)
            self._logger = logger
        return self._logger

    def _log(self, level: int, msg: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        if self._logger is None and level < self.level:
            return  # what the real logger would drop, without loading it
        kwargs["stacklevel"] = kwargs.get("stacklevel", 1) + 2  # the caller's line
        self.real().log(level, msg, *args, **kwargs)

    def debug(self, msg: str, *args: Any, **kwargs: Any) -> None:
        self._log(10, msg, args, kwargs)

    def info(self, msg: str, *args: Any, **kwargs: Any) -> None:
        self._log(20, msg, args, kwargs)

    def warning(self, msg: str, *args: Any, **kwargs: Any) -> None:
        self._log(30, msg, args, kwargs)

    def error(self, msg: str, *args: Any, **kwargs: Any) -> None:
        self._log(40, msg, args, kwargs)


LOG = _EngineLog()


def _formatter(fmt: str) -> logging.Formatter:
    import logging

    if fmt != "json":
        return logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")

    class JsonFormatter(logging.Formatter):
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

    return JsonFormatter()


#: The first failure to write the log file, once one happened (see log_file_failure).
_LOG_FILE_FAILURE: list[str] = []


def _apply(
    logger: logging.Logger, fmt: str, level: str, log_file: str | None, max_bytes: int, backups: int
) -> None:
    import logging

    formatter = _formatter(fmt)

    class StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
        def handleError(self, record: logging.LogRecord) -> None:
            """A record stderr cannot take is lost: there is nowhere left to say so."""

    handlers: list[logging.Handler] = [StderrHandler(sys.stderr)]
    if log_file:
        from logging.handlers import RotatingFileHandler  # sockets and all: only here

        class LogFileHandler(RotatingFileHandler):
            def handleError(self, record: logging.LogRecord) -> None:
                """Keep the first failure, for :func:`log_file_failure`; no traceback."""
                exc = sys.exc_info()[1]
                if not _LOG_FILE_FAILURE:
                    reason = getattr(exc, "strerror", None) or str(exc)
                    _LOG_FILE_FAILURE.append(f"cannot write log file {log_file!r}: {reason}")

        try:
            handlers.append(
                LogFileHandler(log_file, maxBytes=max_bytes, backupCount=backups, encoding="utf-8")
            )
        except OSError as exc:
            raise IOFailureError(f"cannot open log file {log_file!r}: {exc.strerror}") from None
    for handler in handlers:
        handler.setFormatter(formatter)
    logger.handlers[:] = handlers
    logger.setLevel(level.upper())
    logger.propagate = False


def log_file_failure() -> str | None:
    """Why a record could not be written to the ``--log-file`` since logging was
    configured (a full disk, a device that takes nothing), or None. The records are lost
    from that file; the command ends with an IO error for it (``engine.cli.main``)."""
    return _LOG_FILE_FAILURE[0] if _LOG_FILE_FAILURE else None


def configure_logging(
    fmt: str, level: str, log_file: str | None, max_bytes: int, backups: int
) -> None:
    """Log to stderr, and to a rotating file when ``log_file`` is set. Applied at once
    for a file, a level below warning, or a process that has loaded :mod:`logging`
    anyway; otherwise at the first record (see :class:`_EngineLog`)."""
    _LOG_FILE_FAILURE.clear()  # a failure of an earlier command's log is not this one's
    LOG.configure(fmt, level, log_file, max_bytes, backups)
    if log_file or LOG.level < _WARNING or "logging" in sys.modules:
        LOG.real()


def ensure_logging() -> None:
    """Load and configure the ``engine`` logger now: before starting anything that logs
    through :mod:`logging` itself (``engine.observe.http``, uvicorn)."""
    LOG.real()


def log_failure_to_file(error: EngineError) -> None:
    """Record a failure in the log file only: stderr carries exactly one envelope."""
    logger = LOG.loaded
    if logger is None:  # not loaded, so there is no log file
        return
    import logging

    record = logger.makeRecord(
        logger.name, logging.ERROR, __file__, 0, "%s: %s", (error.code, error.detail), None
    )
    for handler in logger.handlers:
        if isinstance(handler, logging.FileHandler):
            handler.handle(record)


def print_error(error: EngineError) -> None:
    """The error envelope, one line of JSON on stderr."""
    import json  # here and below: a command that prints text never loads it

    write_stderr(json.dumps(error.envelope()) + "\n")


def write_stderr(text: str) -> None:
    """Write ``text`` to stderr and flush it, if stderr can take it: a closed or full
    stderr loses the message, and the exit status still tells what happened."""
    stream = sys.stderr
    if stream is None:  # started with stderr closed
        return
    try:
        stream.write(text)
        stream.flush()
    except (OSError, ValueError):
        pass


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
            out = json.dumps(payload, default=str) + "\n"
        elif text is not None:
            out = text if text.endswith("\n") or not text else text + "\n"
        else:
            import json

            out = json.dumps(data, indent=2, default=str) + "\n"
        write_stdout(out)


def write_stdout(text: str) -> None:
    """Write ``text`` to stdout and flush it. A stdout that takes no more (a full disk,
    ``/dev/full``) is an IO error (exit 5); in the program, stdout is then pointed at the
    null device so the interpreter's own flush at exit does not fail again on what is
    still buffered. A closed pipe (``BrokenPipeError``) is left to
    :func:`engine.cli.main`."""
    if sys.stdout is None:  # started with stdout closed (``>&-``)
        raise IOFailureError(
            "cannot write the result: standard output is closed",
            "give the command a standard output (a file, a pipe or /dev/null)",
        )
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except BrokenPipeError:
        raise
    except OSError as exc:
        _silence_stdout()
        import errno

        reason = exc.strerror or str(exc)
        hint = (
            "free space where stdout goes, or send it elsewhere"
            if exc.errno in (errno.ENOSPC, errno.EDQUOT)
            else "send stdout to a file, a pipe or /dev/null that can be written"
        )
        raise IOFailureError(
            f"cannot write the result to standard output: {reason}", hint
        ) from None


def _silence_stdout() -> None:
    """Send whatever stdout still holds, and anything after it, to the null device: in
    the ``engine`` program only (a library caller's stdout is its own)."""
    import os

    from engine.cli.quick_exit import in_program

    if not in_program():
        return
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):  # not a file (a test's capture)
        return
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(null, fd)
    finally:
        os.close(null)
