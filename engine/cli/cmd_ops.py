"""``engine put|get|del|items`` and ``engine probe-visualize``: single operations."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from engine.cli.context import Context, SubParsers
from engine.cli.snapshots import add_key_flag, load_map, save_map, signing_key
from engine.errors import BadInputError, IOFailureError
from engine.maps.base import BaseMap
from engine.tracing.collect import trace

__all__ = ["add_parsers"]


def add_parsers(sub: SubParsers) -> None:
    for name, positionals in (("put", ("key", "value")), ("get", ("key",)), ("del", ("key",))):
        p = sub.add_parser(name)
        for positional in positionals:
            p.add_argument(positional)
        p.add_argument("--snapshot", help="work on this snapshot file (state persists)")
        p.add_argument("--compress", action="store_true", help="gzip the saved snapshot")
        add_key_flag(p)
        p.set_defaults(handler=run_op, op=name)
    items = sub.add_parser("items")
    items.add_argument("--snapshot", help="read this snapshot file")
    add_key_flag(items)
    items.set_defaults(handler=run_op, op="items")

    v = sub.add_parser(
        "probe-visualize",
        description="Seed a map, run one operation under tracing and print every step.",
    )
    v.add_argument("--operation", required=True, choices=["get", "put", "del"])
    v.add_argument("--key", required=True)
    v.add_argument("--value", default="", help="value for --operation put")
    v.add_argument(
        "--seed", action="append", default=[], metavar="K=V", help="put K=V first (repeatable)"
    )
    v.add_argument("--snapshot", help="start from this snapshot instead of an empty map")
    add_key_flag(v)
    v.set_defaults(handler=run_probe)


def run_op(ctx: Context) -> int:
    args = ctx.args
    snapshot = args.snapshot
    if args.op != "items" and not args.key:
        raise BadInputError("the key is empty", "keys must have at least one character")
    if snapshot:
        signing_key(args)  # a bad key file fails here, before any lock file is made
    if snapshot and args.op == "del" and not Path(snapshot).exists():
        _load_or_create(ctx, snapshot, False)  # the error, before a lock file is made
    if snapshot and args.op in ("put", "del"):
        from engine.store.lock import locked  # fcntl: only for a snapshot write

        with locked(snapshot):  # concurrent writers of one snapshot take turns
            result, text = _apply(ctx, _load_or_create(ctx, snapshot, args.op == "put"))
    else:
        m = _load_or_create(ctx, snapshot, False) if snapshot else ctx.build_map()
        result, text = _apply(ctx, m)
    ctx.out.result(result, text)
    return 0


def _load_or_create(ctx: Context, snapshot: str, create: bool) -> BaseMap:
    """The map saved at ``snapshot``; a new map when it is missing and ``create`` is set
    (``put`` starts a snapshot), else an IO error: nothing to read or delete from."""
    if Path(snapshot).exists():
        return load_map(snapshot, ctx.args, ctx.limits.snapshot_max_bytes)
    if Path(snapshot).is_symlink() and not create:
        raise IOFailureError(f"{snapshot}: the link points at a missing file")
    if not create:
        raise IOFailureError(
            f"{snapshot}: no such snapshot", "`engine put KEY VALUE --snapshot FILE` creates one"
        )
    return ctx.build_map()


def _apply(ctx: Context, m: BaseMap) -> tuple[dict[str, Any], str]:
    """Run the command's operation on ``m`` (saving it for a write); the result and text."""
    args = ctx.args
    op = args.op
    result: dict[str, Any] = {"op": op}
    if op == "put":
        m[args.key] = args.value
        result.update(key=args.key, value=args.value)
        text = "OK"
    elif op == "get":
        value = m.get(args.key)
        result.update(key=args.key, found=value is not None, value=value)
        text = "" if value is None else str(value)
    elif op == "del":
        found = m.discard(args.key)
        result.update(key=args.key, found=found)
        text = "1" if found else "0"
    else:
        pairs = list(m.items())
        result["items"] = [[k, v] for k, v in pairs]
        text = _csv_lines(pairs)
    if args.snapshot and op in ("put", "del"):
        save_map(m, args.snapshot, args)  # atomically: a failed save keeps the old state
    return result, text


def _csv_lines(pairs: list[tuple[Any, Any]]) -> str:
    """``key,value`` lines, quoted as the CSV format quotes them (RFC 4180)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerows(pairs)
    return buffer.getvalue().removesuffix("\n")


def _parse_seeds(seeds: list[str]) -> list[tuple[str, str]]:
    pairs = []
    for seed in seeds:
        key, sep, value = seed.partition("=")
        if not sep or not key:
            raise BadInputError(f"--seed {seed!r} is not KEY=VALUE", "e.g. --seed apple=1")
        pairs.append((key, value))
    return pairs


def run_probe(ctx: Context) -> int:
    args = ctx.args
    ceiling = ctx.limits.snapshot_max_bytes
    m: BaseMap = load_map(args.snapshot, args, ceiling) if args.snapshot else ctx.build_map()
    for key, value in _parse_seeds(args.seed):
        m[key] = value
    with trace(m) as events:
        if args.operation == "get":
            m.get(args.key)
        elif args.operation == "put":
            m[args.key] = args.value
        else:
            m.discard(args.key)
    data = {
        "backend": m.kind,
        "operation": args.operation,
        "key": args.key,
        "events": [e.to_dict() for e in events],
    }
    lines = [f"{args.operation} {args.key!r} on {m.kind} ({len(m)} keys):"]
    lines += [f"  {i:2}. {e.kind:9} {e.describe()}" for i, e in enumerate(events, 1)]
    ctx.out.result(data, "\n".join(lines))
    return 0
