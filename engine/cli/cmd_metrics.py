"""``engine metrics validate FILE``: check an NDJSON metrics file against metrics.v1."""

from __future__ import annotations

from engine.cli.context import Context, SubParsers
from engine.observe.metrics import validate_ndjson

__all__ = ["add_parser"]


def add_parser(sub: SubParsers) -> None:
    p = sub.add_parser("metrics")
    actions = p.add_subparsers(dest="metrics_action", required=True, metavar="{validate}")
    v = actions.add_parser("validate", help="check every line against the metrics.v1 schema")
    v.add_argument("file")
    v.set_defaults(handler=run_validate)


def run_validate(ctx: Context) -> int:
    count = validate_ndjson(ctx.args.file)
    ctx.out.result(
        {"file": ctx.args.file, "ticks": count, "valid": True},
        f"{ctx.args.file}: {count} valid metrics.v1 ticks",
    )
    return 0
