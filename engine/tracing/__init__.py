"""Trace events and the ``trace()`` block that collects them.

Owns the event records a traced operation emits (:mod:`.events`: hash, probe, compare,
displace, place, resize, migrate, compact, …) and :func:`.collect.trace`, which a map
honours through two tracer hooks; the maps depend on this package, never the reverse.

May import: :mod:`engine.jsonsafe`, :mod:`engine.errors` and the standard library.
"""
