"""``engine profile`` and ``engine workload-dna``: look at a workload before running it."""

from __future__ import annotations

import argparse

from engine.cli.cmd_run import add_csv_limits, csv_limits
from engine.cli.context import Context, SubParsers
from engine.errors import BadInputError
from engine.workloads.csv_format import WorkloadFile

__all__ = ["add_parsers"]


def add_parsers(sub: SubParsers) -> None:
    p = sub.add_parser(
        "profile",
        description="Replay a prefix of the workload on every backend and recommend one.",
    )
    p.add_argument("--csv", required=True)
    p.add_argument("--sample", type=int, default=5000, help="operations to replay (default 5000)")
    p.add_argument(
        "--then",
        nargs=argparse.REMAINDER,
        help="then run this command with the recommended --mode, e.g. --then run-csv --csv F",
    )
    add_csv_limits(p)
    p.set_defaults(handler=run_profile)

    d = sub.add_parser("workload-dna")
    d.add_argument("--csv", required=True)
    d.add_argument("--top", type=int, default=10, help="hot keys to list (default 10)")
    add_csv_limits(d)
    d.set_defaults(handler=run_dna)


def run_profile(ctx: Context) -> int:
    args = ctx.args
    if not 1 <= args.sample <= 10_000_000:
        raise BadInputError("--sample must be between 1 and 10,000,000")
    from engine.workloads.profiling import profile_workload  # loads for this command only

    report = profile_workload(WorkloadFile(args.csv, csv_limits(ctx)), ctx.build_map, args.sample)
    lines = [report["recommended_mode"], f"reason: {report['reason']}"]
    if args.then:
        # The recommendation on stdout first, then the follow-up command's own output.
        ctx.out.result(report, "\n".join(lines))
        return ctx.rerun([*ctx.args.global_argv, "--mode", report["recommended_mode"], *args.then])
    ctx.out.result(report, "\n".join(lines))
    return 0


def run_dna(ctx: Context) -> int:
    args = ctx.args
    if args.top < 0:
        raise BadInputError("--top must not be negative")
    hashfn = ctx.build_map().hash_spec.function()
    from engine.workloads.dna import analyse_workload  # loads for this command only

    report = analyse_workload(WorkloadFile(args.csv, csv_limits(ctx)), hashfn, args.top)
    risk = report["collision_risk"]
    lines = [
        f"workload {report['csv']}: {report['total_ops']} operations over "
        f"{report['key_space']} keys",
        "mix: " + ", ".join(f"{op} {share:.1%}" for op, share in report["op_ratios"].items()),
        f"skew: zipf exponent ~{report['skew']['zipf_exponent']}, hottest 1% of keys get "
        f"{report['skew']['top_1_percent_share']:.1%} of operations",
        f"entropy: {report['entropy_bits']} bits ({report['entropy_normalised']:.1%} of uniform)",
        "hot keys: " + ", ".join(f"{h['key']} ({h['count']})" for h in report["hot_keys"]),
        f"low-bit collision risk ({ctx.hashing.function} hash): {risk['level']} "
        f"(fullest slot {risk['worst_ratio']}x what random hashing gives)",
    ]
    ctx.out.result(report, "\n".join(lines))
    return 0
