"""``engine config init|show|validate``."""

from __future__ import annotations

from pathlib import Path

from engine.cli.context import Context, SubParsers
from engine.errors import PolicyError
from engine.store.atomic import atomic_write_text

__all__ = ["add_parser"]


def add_parser(sub: SubParsers) -> None:
    p = sub.add_parser("config")
    actions = p.add_subparsers(dest="config_action", required=True, metavar="{init,show,validate}")
    init = actions.add_parser("init", help="write a TOML file with every default")
    init.add_argument("--out", default="engine.toml", help="file to write (default engine.toml)")
    init.add_argument("--force", action="store_true", help="replace an existing file")
    init.set_defaults(handler=run_init)
    show = actions.add_parser("show", help="print the effective settings")
    show.set_defaults(handler=run_show)
    check = actions.add_parser("validate", help="check a TOML settings file")
    check.add_argument("file")
    check.set_defaults(handler=run_validate)


def run_init(ctx: Context) -> int:
    out = ctx.args.out
    if Path(out).exists() and not ctx.args.force:
        raise PolicyError(f"{out!r} already exists", "pass --force to replace it")
    from engine.settings.models import default_config_text

    atomic_write_text(out, default_config_text())
    ctx.out.result({"action": "init", "written": out}, f"wrote {out}")
    return 0


def run_show(ctx: Context) -> int:
    from engine.settings.models import settings_to_toml

    effective = ctx.settings.model_copy(update={"backend": ctx.backend})
    ctx.out.result(effective.model_dump(), settings_to_toml(effective))
    return 0


def run_validate(ctx: Context) -> int:
    from engine.settings.models import load_settings

    settings = load_settings(ctx.args.file, environ={})  # the file alone, not the shell
    for backend in ("chaining", "robinhood", "adaptive"):
        settings.build_map(backend)  # cross-field checks the maps make
    ctx.out.result(
        {"file": ctx.args.file, "valid": True, "settings": settings.model_dump()},
        f"{ctx.args.file}: valid",
    )
    return 0
