"""Command line of the explorer: open the window (on a demo), or render a screenshot.

``explorer --demo NAME --steps N --screenshot PATH`` renders the demo after N micro-steps,
saves a PNG of the whole window and exits 0 (works with ``QT_QPA_PLATFORM=offscreen``).
Exit codes: 0 OK, 2 bad flags or input, 5 the screenshot could not be written.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from explorer.model.demos import DEMOS, load_demo, showcase_steps
from explorer.model.session import Session

__all__ = ["build_parser", "main"]

EXIT_OK, EXIT_BAD_INPUT, EXIT_IO = 0, 2, 5
DEFAULT_DEMO = "robinhood-basics"


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        print(f"explorer: error: {message}", file=sys.stderr)
        raise SystemExit(EXIT_BAD_INPUT)


def _size(text: str) -> tuple[int, int]:
    try:
        width, height = (int(part) for part in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError("use WIDTHxHEIGHT, for example 1440x900") from None
    if not (320 <= width <= 7680 and 240 <= height <= 4320):
        raise argparse.ArgumentTypeError("the size must be between 320x240 and 7680x4320")
    return width, height


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="explorer", description="Watch hash maps work, step by step.")
    parser.add_argument("--demo", choices=sorted(DEMOS), help="open on a built-in demo")
    parser.add_argument("--workload", metavar="CSV", help="open on a workload CSV to play back")
    parser.add_argument(
        "--steps", type=int, default=0, metavar="N", help="advance N micro-steps first"
    )
    parser.add_argument(
        "--showcase",
        action="store_true",
        help="advance to the demo's signature moment (a swap, a migration batch, ...)",
    )
    parser.add_argument("--screenshot", metavar="PATH", help="save a PNG of the window and exit")
    parser.add_argument("--theme", choices=["light", "dark"], default="light")
    parser.add_argument("--size", type=_size, default=(1440, 900), metavar="WxH")
    parser.add_argument("--list-demos", action="store_true", help="print the demos and exit")
    return parser


def _no_display() -> bool:
    """True on a Linux machine with no X or Wayland display and no Qt platform chosen."""
    return (
        sys.platform.startswith("linux")
        and not os.environ.get("QT_QPA_PLATFORM")
        and not os.environ.get("DISPLAY")
        and not os.environ.get("WAYLAND_DISPLAY")
    )


def _headless_fallback(args: argparse.Namespace) -> None:
    """Without a display there is no window to open: render the demo to a PNG instead."""
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    if args.screenshot:
        return
    name = args.demo or DEFAULT_DEMO
    args.screenshot = f"explorer-{name}.png"
    args.showcase = args.showcase or not args.steps
    print(
        f"explorer: no display found, so the window cannot open here; rendering the "
        f"'{name}' demo to {args.screenshot} instead. Run it on a desktop "
        "(or under xvfb-run) for the live window.",
        file=sys.stderr,
    )


def _prepare_session(args: argparse.Namespace) -> Session:
    session = Session()
    if args.workload:
        session.load_workload(args.workload)
        session.title = f"Workload: {Path(args.workload).name}"
    else:
        demo = load_demo(session, args.demo or DEFAULT_DEMO)
        if args.showcase:
            args.steps = showcase_steps(session, demo)
    for _ in range(args.steps):
        if not session.step_forward():
            break
    return session


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.list_demos:
        for name, demo in DEMOS.items():
            print(f"{name:26} {demo.title}")
        return EXIT_OK
    if args.steps < 0:
        print("explorer: error: --steps must not be negative", file=sys.stderr)
        return EXIT_BAD_INPUT
    from explorer.model.sources import WorkloadLoadError

    if _no_display():
        _headless_fallback(args)
    try:
        session = _prepare_session(args)
    except WorkloadLoadError as exc:
        print(f"explorer: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT

    from PyQt6.QtWidgets import QApplication

    from explorer.ui.main_window import MainWindow
    from explorer.ui.theme import apply_theme

    _quiet_platform_warnings()
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setApplicationName("Adaptive Hash Map Explorer")
    apply_theme(app, args.theme)
    window = MainWindow(session, theme=args.theme)
    window.resize(*args.size)
    if args.screenshot:
        window.animate = False
        window.show()
        app.processEvents()
        window.refresh(animate=False)
        app.processEvents()
        try:
            window.save_screenshot(args.screenshot)
        except OSError as exc:
            print(f"explorer: error: {exc}", file=sys.stderr)
            return EXIT_IO
        window.close()
        return EXIT_OK
    window.show()
    return _run_event_loop(app)


def _quiet_platform_warnings() -> None:
    """Drop the offscreen platform's notice about window size hints (harmless, noisy)."""
    from PyQt6.QtCore import qInstallMessageHandler

    def handler(mode: object, context: object, message: str | None) -> None:
        if message and "propagateSizeHints" not in message:
            print(message, file=sys.stderr)

    qInstallMessageHandler(handler)


def _run_event_loop(app: object) -> int:
    """Run Qt's loop as an asyncio loop (qasync), so background work can be awaited."""
    import qasync

    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    closing = asyncio.Event()
    app.aboutToQuit.connect(closing.set)  # type: ignore[attr-defined]
    with loop:
        loop.run_until_complete(closing.wait())
    return EXIT_OK


if __name__ == "__main__":
    raise SystemExit(main())
