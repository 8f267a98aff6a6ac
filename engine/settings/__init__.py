"""Settings: every setting of the CLI and server, their defaults, and secrets.

Owns the pydantic settings, the TOML file and ``ADHASH_*`` overrides (:mod:`.models`),
the same defaults without pydantic for the fast path (:mod:`.defaults`), and reading
signing keys and tokens (:mod:`.secrets`).

May import: :mod:`engine.workloads`, :mod:`engine.store`, :mod:`engine.maps`,
:mod:`engine.tracing`, :mod:`engine.errors`, :mod:`engine.jsonsafe`; pydantic only in
:mod:`.models`.
"""
