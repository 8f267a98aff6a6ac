"""The ``engine`` command line: a thin layer over the library.

``main(argv)`` parses, runs one command and returns the exit code from the contract
(0 OK, 2 BadInput, 3 Invariant, 4 Policy, 5 IO). Every expected failure prints one JSON
envelope ``{"error", "detail", "hint"}`` on stderr and no traceback.

The top layer: one ``cmd_*`` module per command group, bound to the library below.
May import every engine layer (:mod:`engine.observe`, :mod:`engine.settings`,
:mod:`engine.workloads`, :mod:`engine.store`, :mod:`engine.maps`, :mod:`engine.tracing`,
:mod:`engine.errors`, :mod:`engine.jsonsafe`); nothing imports it but the entry points.
"""

from __future__ import annotations

from engine.cli.app import main

__all__ = ["main"]
