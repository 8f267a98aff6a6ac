"""The ``engine`` program: the console script and ``python -m engine.cli``.

The same as :func:`engine.cli.main`, except that the process may end without freeing
its heap once the command is done (:mod:`engine.cli.quick_exit`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NoReturn

from engine.cli.app import main
from engine.cli.quick_exit import leave, program_mode

__all__ = ["run"]


def run(argv: Sequence[str] | None = None) -> NoReturn:
    """Run one command as the program and exit with its code (see ``main``)."""
    program_mode()
    leave(main(argv))
