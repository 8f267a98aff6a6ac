"""``python -m engine.cli``: the same as the ``engine`` command."""

import sys

if sys.argv[1:2] == ["--serve-run-metrics"]:  # the run-csv endpoint process (hidden)
    from engine.cli.metrics_worker import main as serve_run_metrics

    serve_run_metrics(sys.argv[2:])

from engine.cli.program import run

run()
