"""Persistence: snapshots of maps, their state encoding, and atomic file writes.

Owns the snapshot file format, checksums, signing and limits (:mod:`.snapshot`), the
JSON state of each map kind and its checked decoding (:mod:`.state`), and writing any
output file atomically (:mod:`.atomic`).

May import: :mod:`engine.maps`, :mod:`engine.tracing`, :mod:`engine.errors`,
:mod:`engine.jsonsafe` and the standard library.
"""
