"""Workloads: the CSV format, generating files, replaying them, and analysing them.

Owns the streaming CSV reader and its limits (:mod:`.csv_format`), the generator and its
presets (:mod:`.generate`), the replay loop (:mod:`.replay`) with latency sampling
(:mod:`.latency`), workload DNA (:mod:`.dna`) and backend profiling (:mod:`.profiling`).

May import: :mod:`engine.store` (atomic writes of generated files), :mod:`engine.maps`,
:mod:`engine.tracing`, :mod:`engine.errors`, :mod:`engine.jsonsafe`. Not the settings,
metrics or CLI above it: a replay reports progress through callbacks it is given.
"""
