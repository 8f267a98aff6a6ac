"""``engine inspect-snapshot``, ``verify-snapshot`` and ``compact-snapshot``."""

from __future__ import annotations

from typing import Any

from engine.cli.context import Context, SubParsers
from engine.cli.snapshots import add_key_flag, save_map, signing_key
from engine.errors import BadInputError, InvariantError
from engine.jsonsafe import encode_key, encode_value
from engine.maps.adaptive import AdaptiveMap
from engine.maps.base import BaseMap
from engine.maps.factory import create_map

__all__ = ["add_parsers"]


def add_parsers(sub: SubParsers) -> None:
    i = sub.add_parser("inspect-snapshot")
    i.add_argument("--in", dest="infile", required=True)
    i.add_argument("--limit", type=int, default=10, help="items to list (default 10)")
    i.add_argument("--key", help="show this key's value and where it sits")
    add_key_flag(i)
    i.set_defaults(handler=run_inspect)

    v = sub.add_parser("verify-snapshot")
    v.add_argument("--in", dest="infile", required=True)
    v.add_argument("--repair", action="store_true", help="rebuild from the trusted entries")
    v.add_argument("--out", dest="outfile", help="where --repair writes (required with it)")
    v.add_argument("--verbose", action="store_true")
    v.add_argument("--compress", action="store_true", help="gzip the repaired snapshot")
    add_key_flag(v)
    v.set_defaults(handler=run_verify)

    c = sub.add_parser("compact-snapshot")
    c.add_argument("--in", dest="infile", required=True)
    c.add_argument("--out", dest="outfile", required=True)
    c.add_argument("--compress", action="store_true")
    add_key_flag(c)
    c.set_defaults(handler=run_compact)


def _ceiling(ctx: Context) -> int:
    return ctx.limits.snapshot_max_bytes


def _where(m: BaseMap, key: Any) -> dict[str, Any] | None:
    """The physical position of ``key``: slot, or bucket/group/position, per table."""
    tables = m.tables() if isinstance(m, AdaptiveMap) else [m]
    for table in tables:
        layout = table.layout()
        if "slots" in layout:
            for index, slot in enumerate(layout["slots"]):
                if slot.get("key") == encode_key(key):
                    return {"table": table.kind, "slot": index, "dib": slot["dib"]}
        else:
            for b, bucket in enumerate(layout["buckets"]):
                for g, chain in enumerate(bucket):
                    for p, entry in enumerate(chain):
                        if entry["key"] == encode_key(key):
                            return {"table": table.kind, "bucket": b, "group": g, "position": p}
    return None


def run_inspect(ctx: Context) -> int:
    args = ctx.args
    if args.limit < 0:
        raise BadInputError("--limit must not be negative")
    from engine.store.snapshot import describe, read_snapshot  # the snapshot commands load it

    info = read_snapshot(args.infile, key=signing_key(args), max_payload=_ceiling(ctx))
    m = info.map
    data = describe(info)
    stats = m.stats()
    data["tombstones"] = stats.get("tombstones", 0)
    data["active_backend"] = stats.get("active_backend", m.kind)
    data["migration"] = stats.get("migration")
    items = []
    for n, (k, v) in enumerate(m.items()):
        if n >= args.limit:
            break
        items.append([encode_key(k), encode_value(v)])
    data["items"] = items
    lines = [
        f"{info.path}: engine snapshot v{info.version}, {info.kind}"
        f"{' (gzip)' if info.compressed else ''}{', signed' if info.signed else ''}",
        f"checksum {info.checksum[:16]}... verified; {len(m)} keys, capacity {m.capacity}, "
        f"load factor {data['load_factor']:.3f}, tombstones {data['tombstones']}",
    ]
    lines += [f"  {k!r}: {v!r}" for k, v in items]
    if args.key is not None:
        value = m.get(args.key)
        where = _where(m, args.key)
        data["key"] = {
            "key": args.key,
            "found": where is not None,
            "value": encode_value(value),
            "where": where,
        }
        lines.append(f"key {args.key!r}: " + (f"{value!r} at {where}" if where else "not found"))
    ctx.out.result(data, "\n".join(lines))
    return 0


def _rebuild(m: BaseMap) -> tuple[BaseMap, list[str]]:
    """A consistent map of the same kind holding each key once (first copy wins)."""
    options: dict[str, Any]
    if isinstance(m, AdaptiveMap):
        opts = m.options
        options = {**opts.model_dump(exclude={"guardrails"}), "guardrails": opts.guardrails}
    else:
        layout = m.layout()
        options = {
            "capacity": m.capacity,
            "hash": m.hash_spec.name,
            "seed": m.hash_spec.seed,
            "max_load_factor": layout["max_load_factor"],
        }
        if m.kind == "robinhood":
            options["deletion"] = layout["deletion"]
        else:
            options["groups"] = layout["groups"]
    fresh = create_map(m.kind, **options)
    dropped: list[str] = []
    tables = m.tables() if isinstance(m, AdaptiveMap) else [m]
    for table in tables:
        for key, value in table._iter_entries():
            if key in fresh:
                dropped.append(f"duplicate of key {key!r} (kept the first copy)")
                continue
            fresh[key] = value
    return fresh, dropped


def run_verify(ctx: Context) -> int:
    args = ctx.args
    if args.repair and not args.outfile:
        raise BadInputError("--repair needs --out FILE", "the input is never overwritten")
    from engine.store.snapshot import read_snapshot

    info = read_snapshot(args.infile, key=signing_key(args), check=False, max_payload=_ceiling(ctx))
    m = info.map
    try:
        m.check_invariants()
    except InvariantError as exc:
        if not args.repair:
            raise
        fresh, dropped = _rebuild(m)
        fresh.check_invariants()
        save_map(fresh, args.outfile, args)
        data = {
            "path": info.path,
            "consistent": False,
            "broken": exc.invariant,
            "detail": exc.detail,
            "repaired": args.outfile,
            "kept": len(fresh),
            "dropped": dropped,
        }
        lines = [
            f"{info.path}: INCONSISTENT ({exc.detail})",
            f"repaired into {args.outfile}: kept {len(fresh)} keys, dropped {len(dropped)}",
        ]
        lines += [f"  dropped {d}" for d in dropped]
        ctx.out.result(data, "\n".join(lines))
        return 0
    data = {"path": info.path, "consistent": True, "backend": info.kind, "size": len(m)}
    text = f"{info.path}: OK ({info.kind}, {len(m)} keys, every invariant holds)"
    if args.verbose:
        data["stats"] = m.stats()
        text += f"\ncapacity {m.capacity}, load factor {len(m) / m.capacity:.3f}"
    if args.repair:
        save_map(m, args.outfile, args)
        data["repaired"] = args.outfile
    ctx.out.result(data, text)
    return 0


def run_compact(ctx: Context) -> int:
    from engine.store.snapshot import read_snapshot

    args = ctx.args
    m = read_snapshot(args.infile, key=signing_key(args), max_payload=_ceiling(ctx)).map
    removed = m.compact()
    save_map(m, args.outfile, args)
    ctx.out.result(
        {"in": args.infile, "out": args.outfile, "tombstones_removed": removed, "size": len(m)},
        f"wrote {args.outfile}: {len(m)} keys, {removed} tombstones removed",
    )
    return 0
