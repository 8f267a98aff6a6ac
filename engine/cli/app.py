"""Argument parsing, dispatch and the error contract of the ``engine`` command."""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, NoReturn

from engine import __version__
from engine.cli import quick_exit
from engine.cli.context import Context, SubParsers
from engine.cli.output import (
    LOG,
    Output,
    configure_logging,
    forget_progressive,
    interrupted_hint,
    log_failure_to_file,
    log_file_failure,
    print_error,
    write_stderr,
    write_stdout,
)
from engine.errors import BadInputError, EngineError, IOFailureError
from engine.settings.defaults import BACKEND, MODES, settings_overridden

__all__ = ["COMMANDS", "build_parser", "main"]

EXIT_INTERNAL = 1

#: Every command, in the order ``engine --help`` lists them: its name, the ``cmd_*`` module
#: that builds its parser and runs it, and its line in the help. A command's module is
#: imported, and its parser built, only when that command runs (or shows its ``--help``).
COMMANDS: tuple[tuple[str, str, str], ...] = (
    ("generate-csv", "cmd_generate", "write a synthetic workload CSV"),
    ("run-csv", "cmd_run", "replay a CSV workload"),
    ("profile", "cmd_analyse", "recommend a backend for a workload"),
    (
        "workload-dna",
        "cmd_analyse",
        "describe a workload: mix, key space, skew, hot keys, collision risk",
    ),
    ("put", "cmd_ops", "put one key"),
    ("get", "cmd_ops", "get one key"),
    ("del", "cmd_ops", "del one key"),
    ("items", "cmd_ops", "list the map's items"),
    ("probe-visualize", "cmd_ops", "show the trace of one operation step by step"),
    ("config", "cmd_config", "create, show or check settings"),
    ("inspect-snapshot", "cmd_snapshot", "header, size, load and items of a snapshot"),
    ("verify-snapshot", "cmd_snapshot", "run the full invariant checker on a snapshot"),
    ("compact-snapshot", "cmd_snapshot", "rewrite a snapshot without tombstones"),
    ("metrics", "cmd_metrics", "work with metrics files"),
    (
        "serve",
        "cmd_serve",
        "serve metrics (JSON API, Prometheus /metrics) and a job API over HTTP",
    ),
    ("demo", "cmd_demo", "a short tour of the three maps"),
)


def _terminal_columns() -> int:
    """The terminal's width as ``shutil.get_terminal_size`` gives it: ``COLUMNS``, else the
    size of standard output's terminal, else 80."""
    with contextlib.suppress(ValueError):
        columns = int(os.environ.get("COLUMNS", "0"))
        if columns > 0:
            return columns
    try:
        columns = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
    except (AttributeError, ValueError, OSError):
        columns = 0
    return columns if columns > 0 else 80


class _Formatter(argparse.HelpFormatter):
    """argparse's help formatter, sized without importing :mod:`shutil`: every
    ``add_argument`` builds a formatter, and shutil loads bz2 and lzma (~2 ms of each
    command's start-up)."""

    def __init__(
        self,
        prog: str,
        indent_increment: int = 2,
        max_help_position: int = 24,
        width: int | None = None,
    ) -> None:
        width = _terminal_columns() - 2 if width is None else width
        super().__init__(prog, indent_increment, max_help_position, width)


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose usage errors become BadInput envelopes (exit 2)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", _Formatter)
        super().__init__(**kwargs)

    def error(self, message: str) -> NoReturn:
        raise BadInputError(message, f"see `{self.prog} --help`")


def _add_global_flags(parser: argparse.ArgumentParser, suppress: bool) -> None:
    """The flags every command accepts, before or after the command name."""

    def default(value: object) -> object:
        return argparse.SUPPRESS if suppress else value

    parser.add_argument(
        "--mode",
        choices=list(MODES),
        default=default(None),
        help="adaptive, fast-insert (chaining), fast-lookup or memory-tight (Robin Hood)",
    )
    parser.add_argument(
        "--backend",
        choices=["adaptive", "chaining", "robinhood"],
        default=default(None),
        help="overrides --mode",
    )
    parser.add_argument(
        "--config", default=default(None), help="TOML settings file (see `engine config init`)"
    )
    parser.add_argument(
        "--json",
        action="store_true",
        default=default(False),
        help="print results as a JSON success envelope",
    )
    parser.add_argument("--log-format", choices=["text", "json"], default=default("text"))
    parser.add_argument(
        "--log-level", choices=["debug", "info", "warning", "error"], default=default("warning")
    )
    parser.add_argument(
        "--log-file", default=default(None), help="also log to this file, rotated by size"
    )
    parser.add_argument("--log-max-bytes", type=int, default=default(10 * 1024 * 1024))
    parser.add_argument("--log-backups", type=int, default=default(5))


class _SubParser(_Parser):
    """Every command's parser also accepts the global flags."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        _add_global_flags(self, suppress=True)


def _add_module_parsers(module: str, sub: SubParsers) -> None:
    """Import one ``cmd_*`` module and let it add its commands' parsers to ``sub``."""
    if module == "cmd_generate":
        from engine.cli import cmd_generate

        cmd_generate.add_parser(sub)
    elif module == "cmd_run":
        from engine.cli import cmd_run

        cmd_run.add_parser(sub)
    elif module == "cmd_analyse":
        from engine.cli import cmd_analyse

        cmd_analyse.add_parsers(sub)
    elif module == "cmd_ops":
        from engine.cli import cmd_ops

        cmd_ops.add_parsers(sub)
    elif module == "cmd_config":
        from engine.cli import cmd_config

        cmd_config.add_parser(sub)
    elif module == "cmd_snapshot":
        from engine.cli import cmd_snapshot

        cmd_snapshot.add_parsers(sub)
    elif module == "cmd_metrics":
        from engine.cli import cmd_metrics

        cmd_metrics.add_parser(sub)
    elif module == "cmd_serve":
        from engine.cli import cmd_serve

        cmd_serve.add_parser(sub)
    elif module == "cmd_demo":
        from engine.cli import cmd_demo

        cmd_demo.add_parser(sub)
    else:
        raise ValueError(f"no command module {module!r}")


if TYPE_CHECKING:
    _SubParsersAction = argparse._SubParsersAction[argparse.ArgumentParser]
else:
    _SubParsersAction = argparse._SubParsersAction


class _Commands(_SubParsersAction):
    """The subcommands, each parser built when its command is chosen.

    ``engine --help`` and argparse's checks need only the names and help lines
    (:data:`COMMANDS`); building every parser would import every command module and add
    about 300 arguments to run one command. When argparse dispatches to a command,
    :meth:`__call__` first has its module add the real parser (:meth:`load`)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        #: name -> module, for the commands whose parser is not built yet
        self._modules: dict[str, str] = {}
        #: every command name in order (to its module): what argparse checks a choice
        #: against and lists in usage and errors, in place of the built parsers
        self._names: dict[str, Any] = {}
        self.choices = self._names

    def add_command(self, name: str, module: str, help: str) -> None:
        """List ``name`` with its help line; :meth:`load` builds its parser later."""
        self._choices_actions.append(self._ChoicesPseudoAction(name, (), help))
        self._modules[name] = module
        self._names[name] = module

    def add_parser(self, name: str, **kwargs: Any) -> argparse.ArgumentParser:
        if name in self._modules and "help" in kwargs:
            raise ValueError(f"{name}: its help line belongs in COMMANDS")
        return super().add_parser(name, **kwargs)

    def load(self, name: str) -> None:
        """Build the parser of ``name`` (and of the other commands of its module)."""
        module = self._modules.get(name)
        if module is None:
            return
        _add_module_parsers(module, self)
        for other, owner in list(self._modules.items()):
            if owner == module:
                if other not in self._name_parser_map:
                    raise ValueError(f"{module} did not add the command {other!r}")
                del self._modules[other]

    def load_all(self) -> None:
        """Build every parser (for tests and documentation)."""
        for name in list(self._names):
            self.load(name)

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: Any,
        option_string: str | None = None,
    ) -> None:
        self.load(values[0])
        super().__call__(parser, namespace, values, option_string)


class _Version(argparse.Action):
    """``--version``: the version and the build (pure or compiled, :mod:`engine.build`),
    found only when asked for."""

    def __init__(self, option_strings: list[str], dest: str = argparse.SUPPRESS) -> None:
        super().__init__(
            option_strings,
            dest,
            nargs=0,
            default=argparse.SUPPRESS,
            help="show the version and the build (pure or compiled) and exit",
        )

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: Any,
        option_string: str | None = None,
    ) -> None:
        from engine.build import build_name

        write_stdout(f"engine {__version__} ({build_name()} build)\n")
        parser.exit()


def build_parser(*, load_all: bool = False) -> argparse.ArgumentParser:
    """The ``engine`` parser. Each command's own parser is built when the command is
    parsed; ``load_all`` builds them all now."""
    parser = _Parser(
        prog="engine",
        description="Instrumented hash maps: generate, replay and inspect workloads.",
    )
    parser.add_argument("--version", action=_Version)
    _add_global_flags(parser, suppress=False)
    parser.register("action", "parsers", _Commands)
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_SubParser)
    assert isinstance(sub, _Commands)
    for name, module, line in COMMANDS:
        sub.add_command(name, module, line)
    if load_all:
        sub.load_all()
    return parser


def _global_argv(args: argparse.Namespace) -> list[str]:
    """The global flags to repeat for a follow-up command (``profile --then``)."""
    out: list[str] = []
    if args.config:
        out += ["--config", args.config]
    if args.json:
        out.append("--json")
    out += ["--log-format", args.log_format, "--log-level", args.log_level]
    if args.log_file:
        out += ["--log-file", args.log_file]
    return out


def _run(argv: Sequence[str] | None) -> int:
    args = build_parser().parse_args(argv)
    if args.log_max_bytes < 1 or args.log_backups < 1:
        raise BadInputError(
            "--log-max-bytes and --log-backups must be at least 1 (the log rotates by size)"
        )
    configure_logging(
        args.log_format, args.log_level, args.log_file, args.log_max_bytes, args.log_backups
    )
    args.global_argv = _global_argv(args)
    settings = None
    if settings_overridden(args.config, os.environ):
        from engine.settings.models import load_settings  # pydantic: only when something is set

        settings = load_settings(args.config)
    default = BACKEND if settings is None else settings.backend
    backend = args.backend or (MODES[args.mode] if args.mode else default)
    command = args.command
    if command == "config":
        command = f"config {args.config_action}"
    elif command == "metrics":
        command = f"metrics {args.metrics_action}"
    ctx = Context(
        args=args,
        backend=backend,
        out=Output(args.json, command),
        rerun=main,
        loaded=settings,
    )
    handler = args.handler
    code: int = handler(ctx)
    failure = log_file_failure()
    if failure is not None and code == 0:  # the command's work is done; its log is not
        raise IOFailureError(failure, "the command itself completed; free space for the log")
    return code


def _terminate(signum: int, frame: object) -> None:
    """SIGTERM unwinds like Ctrl-C, so atomic writes remove their temporary files."""
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; returns the exit code (see ``docs/error_envelope.md``)."""
    with contextlib.suppress(ValueError):  # only the main thread may set handlers
        signal.signal(signal.SIGTERM, _terminate)
    forget_progressive()
    quick_exit.reset()
    try:
        return _run(argv)
    except EngineError as exc:
        log_failure_to_file(exc)
        print_error(exc)
        return exc.exit_code
    except KeyboardInterrupt:
        import json

        envelope = {
            "error": "Interrupted",
            "detail": "stopped by a signal",
            "hint": interrupted_hint(),
        }
        write_stderr(json.dumps(envelope) + "\n")
        return 130
    except BrokenPipeError:
        return 0
    except MemoryError:
        print_error(IOFailureError("out of memory", "use a smaller workload or key space"))
        return IOFailureError.exit_code
    except Exception as exc:  # a bug: still no traceback on the terminal
        import json
        import logging

        LOG.debug("internal error", exc_info=True)
        envelope = {
            "error": "Internal",
            "detail": f"{type(exc).__name__}: {exc}",
            "hint": "this is a bug; rerun with --log-level debug for the traceback",
        }
        write_stderr(json.dumps(envelope) + "\n")
        logging.shutdown()
        return EXIT_INTERNAL


if __name__ == "__main__":
    raise SystemExit(main())
