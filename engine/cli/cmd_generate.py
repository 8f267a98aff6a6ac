"""``engine generate-csv``: write a synthetic workload."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, fields, replace

from engine.cli.argtypes import finite_float
from engine.cli.context import Context, SubParsers
from engine.cli.output import LOG
from engine.workloads.generate import PRESETS, WorkloadSpec, write_workload

__all__ = ["add_parser"]

_FLAG_FIELDS: dict[str, Callable[[str], object]] = {
    "ops": int,
    "read_ratio": finite_float,
    "del_ratio": finite_float,
    "key_skew": finite_float,
    "key_space": int,
    "seed": int,
    "adversarial_ratio": finite_float,
    "adversarial_lowbits": int,
}


def add_parser(sub: SubParsers) -> None:
    p = sub.add_parser(
        "generate-csv",
        description="Write a synthetic op,key,value workload. Deterministic for a --seed.",
    )
    p.add_argument("--outfile", required=True, help="CSV file to write (atomically)")
    defaults = WorkloadSpec()
    for name, kind in _FLAG_FIELDS.items():
        p.add_argument(
            "--" + name.replace("_", "-"),
            type=kind,
            default=None,
            help=f"default {getattr(defaults, name)}",
        )
    p.add_argument("--preset", choices=sorted(PRESETS), help="a YCSB core workload mix")
    p.add_argument(
        "--distribution",
        choices=["uniform", "zipf", "hotspot", "latest"],
        help="key choice (default: zipf when --key-skew > 0, else uniform)",
    )
    p.set_defaults(handler=run)


def run(ctx: Context) -> int:
    args = ctx.args
    spec = PRESETS[args.preset] if args.preset else WorkloadSpec()
    given = {f.name: getattr(args, f.name) for f in fields(WorkloadSpec) if hasattr(args, f.name)}
    spec = replace(spec, **{k: v for k, v in given.items() if v is not None}).validated()
    started = time.perf_counter()
    rows = write_workload(args.outfile, spec)
    elapsed = time.perf_counter() - started
    LOG.info("wrote %d rows to %s in %.2f s", rows, args.outfile, elapsed)
    result = {
        "outfile": args.outfile,
        "rows": rows,
        "seconds": elapsed,
        "spec": asdict(spec),
    }
    ctx.out.result(result, f"wrote {rows} rows to {args.outfile}")
    return 0
