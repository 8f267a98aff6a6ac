"""The endpoint process of ``run-csv --metrics-port``: serves ``/metrics`` from a pipe.

:class:`~engine.observe.endpoint_process.MetricsProcess` starts this process with the
listening socket and writes one JSON line per tick to its stdin::

    {"tick": {...metrics.v1...}, "latency": {"counts": {"put": [...], ...}, "sums": {...}}}

A reader thread keeps the newest line; a scrape parses it (once) into the
:class:`FeedCollector`, so the exposition is the one the replay process used to render
itself. The HTTP stack loads at the first connection, which waits in the listen backlog
meanwhile (about 70 ms of CPU, in this process and at a lower priority than the
replay). At the end of stdin (the replay finished, failed or was killed) the process
exits at once. A failure to serve is reported as one line on stdout, then exit code 1.
"""

from __future__ import annotations

import json
import select
import socket
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import IO, TYPE_CHECKING

if TYPE_CHECKING:
    from prometheus_client.core import Metric

    from engine.observe.prometheus import TickCollector

__all__ = ["TickFeed", "serve"]


class TickFeed:
    """The newest line read from the replay's pipe (bytes, or None before the first)."""

    def __init__(self) -> None:
        self.latest: bytes | None = None
        self.lines = 0

    def pump(self, stream: Iterable[bytes], at_end: Callable[[], None]) -> None:
        """Keep the newest line of ``stream``; call ``at_end`` when it ends."""
        try:
            for line in stream:
                self.latest = line
                self.lines += 1
        except (OSError, ValueError):
            pass
        at_end()


def feed_collector(feed: TickFeed) -> TickCollector:
    """A :class:`TickCollector` that takes the feed's newest line at each scrape."""
    from engine.observe.prometheus import TickCollector

    class FeedCollector(TickCollector):
        """Parses the newest line, if new, before rendering."""

        def __init__(self) -> None:
            super().__init__()
            self._seen: bytes | None = None
            self._parse_lock = threading.Lock()

        def collect(self) -> Iterator[Metric]:
            with self._parse_lock:
                line = feed.latest
                if line is not None and line is not self._seen:
                    self._seen = line
                    try:
                        message = json.loads(line)
                        self.set_latency(message["latency"]["counts"], message["latency"]["sums"])
                        self.update(message["tick"])
                    except (ValueError, KeyError, TypeError):
                        pass  # a torn or foreign line: keep serving the last good tick
            return super().collect()

    return FeedCollector()


def serve(
    fd: int,
    host: str,
    stdin: IO[bytes],
    report: IO[str],
    at_end: Callable[[], None],
    lazy: bool = True,
) -> int:
    """Serve ``/metrics`` on the listening socket ``fd`` until ``stdin`` ends (which calls
    ``at_end``, normally an immediate exit) or the server fails. Returns the exit code;
    a failure is one line on ``report``. With ``lazy``, prometheus-client and uvicorn
    load only once a first connection is waiting (in the listen backlog): a run that
    nobody scrapes never pays for them."""
    feed = TickFeed()
    ended = threading.Event()

    def finish() -> None:
        ended.set()
        at_end()

    # Started before the HTTP stack is imported: a replay that ends meanwhile ends us.
    threading.Thread(
        target=feed.pump, args=(stdin, finish), name="engine-ticks", daemon=True
    ).start()
    try:
        sock = socket.socket(fileno=fd)
        if lazy:  # the HTTP stack loads when the first connection waits to be accepted
            select.select([sock], [], [])
        from engine.observe.endpoint import MetricsServer

        server = MetricsServer(host, 0, sock=sock, collector=feed_collector(feed), wait=False)
    except Exception as exc:  # reported to the replay, which fails with it
        return _report(report, f"{type(exc).__name__}: {exc}")
    failure: list[BaseException | None] = []

    def watch() -> None:
        failure.append(server.join())
        ended.set()

    threading.Thread(target=watch, name="engine-http-watch", daemon=True).start()
    ended.wait()
    if failure:
        return _report(report, f"the HTTP server stopped: {failure[0]}")
    server.close()
    return 0


def _report(report: IO[str], reason: str) -> int:
    try:
        report.write(" ".join(reason.split())[:1000] + "\n")
        report.flush()
    except (OSError, ValueError):
        pass
    return 1
