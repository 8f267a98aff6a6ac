"""``engine run-csv``: replay a workload and summarise it."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from engine.cli import quick_exit
from engine.cli.argtypes import finite_float
from engine.cli.context import Context, SubParsers
from engine.cli.output import LOG, keep_on_interrupt
from engine.cli.snapshots import add_key_flag, load_map, save_map
from engine.errors import BadInputError
from engine.settings.defaults import MAX_LATENCY_SAMPLES as MAX_SAMPLES
from engine.workloads.csv_format import CsvLimits, WorkloadFile
from engine.workloads.replay import ReplayOptions, ReplayProgress, ReplayResult, replay

if TYPE_CHECKING:
    from engine.observe.endpoint_process import MetricsProcess
    from engine.observe.metrics import NdjsonSink

__all__ = ["add_csv_limits", "add_parser", "build_summary"]

_STRUCTURAL = {"resize", "compact", "migrate", "guardrail"}


def add_csv_limits(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--csv-max-rows", type=int, default=None, help="refuse files with more rows (0: no limit)"
    )
    p.add_argument(
        "--csv-max-bytes", type=int, default=None, help="refuse larger files (0: no limit)"
    )


def csv_limits(ctx: Context) -> CsvLimits:
    limits = ctx.limits
    rows = ctx.args.csv_max_rows
    size = ctx.args.csv_max_bytes
    for flag, value in (("--csv-max-rows", rows), ("--csv-max-bytes", size)):
        if value is not None and value < 0:
            raise BadInputError(f"{flag} must not be negative (0 disables the check)")
    return CsvLimits(
        max_rows=limits.csv_max_rows if rows is None else rows,
        max_bytes=limits.csv_max_bytes if size is None else size,
    )


def add_parser(sub: SubParsers) -> None:
    p = sub.add_parser(
        "run-csv",
        description="Replay an op,key,value workload through the selected map.",
    )
    p.add_argument("--csv", required=True, help="workload file")
    p.add_argument("--dry-run", action="store_true", help="validate the file, replay nothing")
    p.add_argument("--json-summary-out", help="write the run summary to this JSON file")
    p.add_argument("--latency-sample-k", type=int, default=None, help="latency reservoir size")
    p.add_argument(
        "--latency-sample-every", type=int, default=None, help="time every Nth operation"
    )
    p.add_argument(
        "--compact-interval", type=finite_float, default=None, help="seconds between compactions"
    )
    p.add_argument("--snapshot-in", help="start from this snapshot")
    p.add_argument("--snapshot-out", help="save the final map to this snapshot")
    p.add_argument("--compress", action="store_true", help="gzip the snapshot")
    add_key_flag(p)
    p.add_argument(
        "--metrics-port", type=int, help="serve Prometheus /metrics on this port (0: any free)"
    )
    p.add_argument("--metrics-host", default="127.0.0.1", help="address to serve metrics on")
    p.add_argument(
        "--metrics-linger",
        type=finite_float,
        default=0.0,
        help="keep serving /metrics this many seconds after the run (for a last scrape)",
    )
    p.add_argument("--metrics-out-dir", help="write metrics.v1 ticks to DIR/metrics.ndjson")
    p.add_argument("--metrics-max-ticks", type=int, help="keep only the last N ticks")
    p.add_argument(
        "--metrics-every-ops", type=int, default=10_000, help="a tick every N operations"
    )
    p.add_argument(
        "--metrics-every-seconds",
        type=finite_float,
        default=1.0,
        help="and at least every S seconds",
    )
    add_csv_limits(p)
    p.set_defaults(handler=run)


def _check_flags(ctx: Context) -> None:
    args = ctx.args
    if args.metrics_port is not None and not 0 <= args.metrics_port <= 65535:
        raise BadInputError("--metrics-port must be between 0 and 65535")
    if not 0 <= args.metrics_linger <= 86_400:
        raise BadInputError("--metrics-linger must be between 0 and 86400 seconds")
    if args.latency_sample_k is not None and not 0 <= args.latency_sample_k <= MAX_SAMPLES:
        raise BadInputError(f"--latency-sample-k must be between 0 and {MAX_SAMPLES:,}")
    if args.latency_sample_every is not None and args.latency_sample_every < 1:
        raise BadInputError("--latency-sample-every must be at least 1")
    if args.metrics_every_ops < 1 or args.metrics_every_seconds <= 0:
        raise BadInputError("--metrics-every-ops must be >= 1 and --metrics-every-seconds > 0")
    if args.metrics_max_ticks is not None and args.metrics_max_ticks < 1:
        raise BadInputError("--metrics-max-ticks must be at least 1")
    if args.compact_interval is not None and args.compact_interval <= 0:
        raise BadInputError("--compact-interval must be positive")


def build_summary(ctx: Context, result: ReplayResult, m: Any, every: int) -> dict[str, Any]:
    """The JSON summary: the established fields first, then the additions."""
    stats = m.stats()
    latency = result.latency
    return {
        "elapsed_seconds": result.elapsed_seconds,
        "total_ops": result.total_ops,
        "ops_per_second": (
            result.total_ops / result.elapsed_seconds if result.elapsed_seconds > 0 else None
        ),
        "final_backend": stats.get("active_backend", stats["backend"]),
        "migrations_triggered": stats["migrations"],
        "compactions_triggered": stats["compactions"],
        "latency_ms": result.latency_ms(),
        "latency_sample": {
            "reservoir_k_overall": latency["overall"].k if every else 0,
            "reservoir_k_each": latency["put"].k if every else 0,
            "seen_overall": latency["overall"].seen,
            "every_n_ops": every,
        },
        "csv": ctx.args.csv,
        "backend": m.kind,
        "ops": result.ops,
        "get_hits": result.get_hits,
        "get_misses": result.ops["get"] - result.get_hits,
        "del_hits": result.del_hits,
        "del_misses": result.ops["del"] - result.del_hits,
        "final_size": len(m),
        "final_stats": stats,
        "probe_histogram": stats["probes"]["histogram"],
        "events": [e for e in result.events if e.get("kind") in _STRUCTURAL],
        "migration_history": stats.get("migration_history", []),
    }


def run(ctx: Context) -> int:
    args = ctx.args
    _check_flags(ctx)
    workload = WorkloadFile(args.csv, csv_limits(ctx))
    if args.dry_run:
        checked = workload.validate()
        data = {"csv": args.csv, "valid": True, **checked.to_dict()}
        text = (
            f"{args.csv}: valid, {checked.rows} operations "
            f"(put {checked.ops['put']}, get {checked.ops['get']}, del {checked.ops['del']})"
        )
        ctx.out.result(data, text)
        return 0
    sampling = ctx.sampling
    k = sampling.latency_sample_k if args.latency_sample_k is None else args.latency_sample_k
    every = (
        sampling.latency_sample_every
        if args.latency_sample_every is None
        else args.latency_sample_every
    )
    ceiling = ctx.limits.snapshot_max_bytes
    m = load_map(args.snapshot_in, args, ceiling) if args.snapshot_in else ctx.build_map()
    LOG.info("replaying %s on %s", args.csv, m.kind)
    # The metrics modules (and pathlib, json) load only for a run that produces metrics.
    sink: NdjsonSink | None = None
    if args.metrics_out_dir:
        from engine.observe.metrics import NdjsonSink

        sink = NdjsonSink(args.metrics_out_dir, args.metrics_max_ticks)
        keep_on_interrupt(str(sink.path), "the ticks up to the stop, each a complete line")
    server: MetricsProcess | None = None
    if args.metrics_port is not None:
        # Served by a process of its own: prometheus-client and uvicorn load there.
        from engine.observe.endpoint_process import MetricsProcess
        from engine.observe.listen import exposure_warning

        warning = exposure_warning(args.metrics_host, None, "the metrics endpoint")
        if warning is not None:
            LOG.warning("%s", warning)
        server = MetricsProcess(args.metrics_host, args.metrics_port, log=LOG.setup)
        LOG.info("serving metrics on %s/metrics", server.url)
    ticking = sink is not None or server is not None
    if ticking:
        from engine.observe.metrics import MetricsProducer, compact_json

        producer = MetricsProducer()

    def tick(current: Any, progress: ReplayProgress) -> None:
        encoded = compact_json(producer.tick(current, progress.latency))  # once for both
        if sink is not None:
            sink.write_encoded(encoded)
        if server is not None:
            server.publish_encoded(encoded)

    if server is not None:
        server.publish(producer.tick(m))

    try:
        result = replay(
            m,
            workload,
            ReplayOptions(
                latency_sample_k=k,
                latency_sample_every=every,
                compact_interval=args.compact_interval,
                tick=tick if ticking else None,
                tick_every_ops=args.metrics_every_ops if ticking else 0,
                tick_every_seconds=args.metrics_every_seconds if ticking else 0.0,
                on_latency=server.observe_latency if server is not None else None,
            ),
        )
        if server is not None and args.metrics_linger:
            LOG.info("run finished; serving metrics for %.1f more seconds", args.metrics_linger)
            server.linger(args.metrics_linger)
        if server is not None:
            server.check()
    finally:
        if sink is not None:
            sink.close()
        if server is not None:
            server.close()
    summary = build_summary(ctx, result, m, every if k > 0 else 0)
    if server is not None:
        summary["metrics_port"] = server.port
    if args.snapshot_out:
        save_map(m, args.snapshot_out, args)
        LOG.info("wrote snapshot %s", args.snapshot_out)
        summary["snapshot_out"] = args.snapshot_out
    if args.json_summary_out:
        import json

        from engine.store.atomic import atomic_write_text

        atomic_write_text(args.json_summary_out, json.dumps(summary, indent=2, default=str))
        LOG.info("wrote summary to %s", args.json_summary_out)
    LOG.info(
        "run-csv finished: %d ops in %.3f s, backend %s",
        result.total_ops,
        result.elapsed_seconds,
        summary["final_backend"],
    )
    overall = summary["latency_ms"]["overall"]
    text = (
        f"{result.total_ops} ops in {result.elapsed_seconds:.3f} s "
        f"({summary['ops_per_second'] or 0:,.0f} ops/s) on {ctx.backend}; "
        f"final backend {summary['final_backend']}, {summary['final_size']} keys, "
        f"{summary['migrations_triggered']} migrations, "
        f"{summary['compactions_triggered']} compactions; latency p50 {overall['p50']:.4f} ms, "
        f"p99 {overall['p99']:.4f} ms"
    )
    ctx.out.result(summary, text)
    quick_exit.hold(m)  # freed with the process, not entry by entry
    quick_exit.allow()
    return 0
