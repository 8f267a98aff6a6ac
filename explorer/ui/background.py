"""Running slow work off the GUI thread through asyncio (qasync) when its loop runs.

Under ``explorer`` the Qt event loop is a qasync loop, so work goes to a thread pool and
the result comes back on the GUI thread; without a running loop (tests, scripts) the
work runs at once. Either way exactly one of the callbacks is called.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TypeVar

__all__ = ["run_in_background"]

T = TypeVar("T")


def run_in_background(
    work: Callable[[], T], on_done: Callable[[T], None], on_error: Callable[[Exception], None]
) -> asyncio.Future[None] | None:
    """Run ``work()``; deliver its result to ``on_done`` or its exception to ``on_error``."""
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        loop = None
    if loop is None:
        try:
            result = work()
        except Exception as exc:
            on_error(exc)
            return None
        on_done(result)
        return None

    async def runner() -> None:
        try:
            result = await loop.run_in_executor(None, work)
        except Exception as exc:
            on_error(exc)
            return
        on_done(result)

    return asyncio.ensure_future(runner())
