"""``engine serve``: the JSON API and /metrics over an NDJSON metrics file."""

from __future__ import annotations

import os
import threading

from engine.cli.argtypes import finite_float
from engine.cli.context import Context, SubParsers
from engine.cli.output import LOG, ensure_logging
from engine.errors import BadInputError
from engine.settings.secrets import read_secret

__all__ = ["add_parser"]

#: Not 9090, which is Prometheus's own (engine.observe.http.DEFAULT_PORT: kept in step).
DEFAULT_PORT = 9477


def add_parser(sub: SubParsers) -> None:
    p = sub.add_parser(
        "serve",
        description=(
            "Serve the ticks of FILE.ndjson (during or after a run), and with --workload-dir "
            "run workloads as jobs for other programs, until stopped. See docs/server.md."
        ),
    )
    p.add_argument("--source", help="metrics.ndjson written by run-csv")
    p.add_argument("--follow", action="store_true", help="keep reading as the file grows")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    p.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT}; 0: any)"
    )
    p.add_argument("--token-file", help="require this bearer token (or set ADHASH_TOKEN)")
    p.add_argument("--tls-cert", help="serve HTTPS with this certificate (PEM)")
    p.add_argument("--tls-key", help="and this private key (PEM)")
    p.add_argument("--history-limit", type=int, default=1000, help="ticks kept in memory")
    p.add_argument(
        "--request-timeout",
        type=finite_float,
        default=10.0,
        help="seconds a connection may take to send a request head (default 10)",
    )
    p.add_argument(
        "--max-connections",
        type=int,
        default=256,
        help="open connections served at once; more get 503 (default 256)",
    )
    jobs = p.add_argument_group("jobs (POST /api/jobs/...)")
    jobs.add_argument(
        "--workload-dir",
        action="append",
        default=[],
        help="jobs may read workloads from this folder (repeatable); jobs are off without it",
    )
    jobs.add_argument("--jobs-dir", help="job folders go here (default: a new temporary one)")
    jobs.add_argument("--job-workers", type=int, default=1, help="jobs run at once (default 1)")
    jobs.add_argument(
        "--max-queued-jobs", type=int, default=16, help="jobs that may wait (default 16)"
    )
    p.set_defaults(handler=run)


def run(ctx: Context) -> int:
    args = ctx.args
    if not 0 <= args.port <= 65535:
        raise BadInputError("--port must be between 0 and 65535")
    if not 1 <= args.history_limit <= 1_000_000:
        raise BadInputError("--history-limit must be between 1 and 1,000,000")
    if bool(args.tls_cert) != bool(args.tls_key):
        raise BadInputError("--tls-cert and --tls-key go together")
    if not 0.1 <= args.request_timeout <= 3600:
        raise BadInputError("--request-timeout must be between 0.1 and 3600 seconds")
    if not 1 <= args.max_connections <= 100_000:
        raise BadInputError("--max-connections must be between 1 and 100,000")
    if not args.source and not args.workload_dir:
        raise BadInputError(
            "nothing to serve", "give --source FILE.ndjson, --workload-dir DIR for jobs, or both"
        )
    if not 1 <= args.job_workers <= 64 or not 1 <= args.max_queued_jobs <= 10_000:
        raise BadInputError("--job-workers must be 1..64 and --max-queued-jobs 1..10,000")
    ensure_logging()  # the server logs through logging itself
    from engine.observe.http import warn_if_exposed
    from engine.observe.jobs import JobManager, WorkloadFolders
    from engine.observe.server import MetricsStore, serve  # uvicorn, prometheus-client

    token = read_secret(args.token_file, os.environ.get("ADHASH_TOKEN"), "token")
    warn_if_exposed(args.host, token, "engine serve")
    store = MetricsStore(args.source, history_limit=args.history_limit) if args.source else None
    jobs = None
    if args.workload_dir:
        folders = WorkloadFolders(args.workload_dir)
        jobs = JobManager(
            folders,
            args.jobs_dir,
            workers=args.job_workers,
            max_queued=args.max_queued_jobs,
        )
    tls = (args.tls_cert, args.tls_key) if args.tls_cert else None
    try:
        running = serve(
            store,
            args.host,
            args.port,
            token=token,
            follow=args.follow,
            tls=tls,
            request_timeout=args.request_timeout,
            max_connections=args.max_connections,
            jobs=jobs,
        )
        server = next(running)
    except BaseException:
        if jobs is not None:
            jobs.close()
        raise
    url = server.url
    ticks = len(store.ticks) if store is not None else 0
    LOG.info("serving %s (metrics: %s, jobs: %s)", url, args.source or "none",
             "in " + str(jobs.root) if jobs is not None else "off")
    serving = f"serving {url}"
    serving += f" ({ticks} ticks)" if store is not None else ""
    serving += f"; jobs in {jobs.root}" if jobs is not None else ""
    ctx.out.result(
        {
            "url": url,
            "ticks": ticks,
            "token_required": token is not None,
            "jobs_dir": str(jobs.root) if jobs is not None else None,
        },
        serving + "; Ctrl-C to stop",
    )
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        LOG.info("stopped")
    finally:
        running.close()
    return 0
