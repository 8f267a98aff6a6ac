"""``python -m explorer`` and the ``explorer`` console script."""

from __future__ import annotations

from explorer.app import main

__all__ = ["main"]

if __name__ == "__main__":
    raise SystemExit(main())
