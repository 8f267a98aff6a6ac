"""Observability: the metrics producer, the ``metrics.v1`` schema, Prometheus, the server.

Owns the tick producer and NDJSON sink (:mod:`.metrics`), the ``metrics.v1`` pydantic
schema and its JSON Schema file (:mod:`.schema`, ``schemas/metrics.v1.json``), the
Prometheus collector and endpoint (:mod:`.prometheus`, :mod:`.endpoint`), the process
that serves ``run-csv --metrics-port`` and the replay's side of it
(:mod:`.endpoint_worker`, :mod:`.endpoint_process`), and ``engine serve`` (:mod:`.server`).

May import every engine layer below it: :mod:`engine.settings`, :mod:`engine.workloads`,
:mod:`engine.store`, :mod:`engine.maps`, :mod:`engine.tracing`, :mod:`engine.errors`,
:mod:`engine.jsonsafe`; and prometheus-client and pydantic (loaded only when used).
"""
