"""The ``engine`` command line: a thin layer over the library.

``main(argv)`` parses, runs one command and returns the exit code from the contract
(0 OK, 2 BadInput, 3 Invariant, 4 Policy, 5 IO). Every expected failure prints one JSON
envelope ``{"error", "detail", "hint"}`` on stderr and no traceback.
"""

from __future__ import annotations

from engine.cli.app import main

__all__ = ["main"]
