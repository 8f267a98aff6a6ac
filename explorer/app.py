"""Command line of the explorer: open the window (on a demo), or render a screenshot.

``explorer --demo NAME --steps N --screenshot PATH`` renders the demo after N micro-steps,
saves a PNG of the whole window and exits 0 (works with ``QT_QPA_PLATFORM=offscreen``).
``explorer --run CSV [--backend B] [--config TOML] [--metrics-out-dir DIR] [--metrics-port P]
[--json-summary-out F] [--screenshot PATH] [--exit-when-done]`` opens the Run view on a
whole workload and runs it; with ``--exit-when-done`` (or ``--screenshot``) the window
closes when the run ends, after writing the summary (with the GUI's event-loop stalls)
and the screenshot. Exit codes: 0 OK, 2 bad flags or input (a bad workload row too),
5 a file could not be written, and a failed run's own code otherwise.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from explorer import __version__
from explorer.model.demos import DEMOS, load_demo, showcase_steps
from explorer.model.session import Session

if TYPE_CHECKING:
    from PyQt6.QtWidgets import QApplication

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
    parser.add_argument("--version", action="version", version=f"explorer {__version__}")
    parser.add_argument(
        "--presenter",
        action="store_true",
        help="presenter mode: larger text and tiles, side panels hidden (full screen live)",
    )
    table = parser.add_argument_group("a map of your own (instead of a demo)")
    table.add_argument("--capacity", type=int, metavar="N", help="initial slots or buckets")
    table.add_argument("--fill", type=int, metavar="N", help="insert N random keys first")
    table.add_argument(
        "--crafted", type=int, default=0, metavar="M", help="M of them crafted to collide"
    )
    run = parser.add_argument_group("run a whole workload (the Run view)")
    run.add_argument("--run", metavar="CSV", help="open the Run view and run this workload")
    run.add_argument(
        "--backend",
        choices=["adaptive", "chaining", "robinhood"],
        help="the map's backend (with --capacity/--fill), or the run's (with --run)",
    )
    run.add_argument("--config", metavar="TOML", help="engine settings (engine config init)")
    run.add_argument("--metrics-out-dir", metavar="DIR", help="write metrics.v1 NDJSON here")
    run.add_argument("--metrics-port", type=int, metavar="P", help="serve Prometheus /metrics")
    run.add_argument("--json-summary-out", metavar="F", help="write the run's summary here")
    run.add_argument(
        "--exit-when-done", action="store_true", help="close the window when the run ends"
    )
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


def _own_map(args: argparse.Namespace) -> bool:
    return bool(args.capacity or args.fill or (args.backend and not args.run))


def _prepare_session(args: argparse.Namespace) -> Session:
    session = Session()
    if _own_map(args) and not args.workload:
        from explorer.model.map_config import MapConfig

        fields: dict[str, object] = {"backend": args.backend or "robinhood"}
        if args.capacity:
            fields["capacity"] = args.capacity
        session.reset(MapConfig.parse(**fields))
        if args.fill:
            session.fill(args.fill, adversarial=min(args.crafted, args.fill), seed=0)
            session.to_end()
        session.title = f"{fields['backend']}: {len(session.timeline.live):,} keys"
    elif args.workload:
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
    for flag, value, low, high in (
        ("--capacity", args.capacity, 1, 1 << 16),
        ("--fill", args.fill, 0, 100_000),
        ("--crafted", args.crafted, 0, 100_000),
    ):
        if value is not None and not low <= value <= high:
            print(f"explorer: error: {flag} must be between {low} and {high:,}", file=sys.stderr)
            return EXIT_BAD_INPUT
    from explorer.model.sources import WorkloadLoadError

    if args.run:
        return _run_workload(args)
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
    _identify(app)
    apply_theme(app, args.theme)
    window = MainWindow(session, theme=args.theme)
    window.resize(*args.size)
    if args.presenter:
        if args.screenshot:  # a picture at the given size: no full screen
            window.set_text_scale(1.5)
            window.set_side_panels(False)
        else:
            window.presenter_action.setChecked(True)
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
        window.dispose()
        return EXIT_OK
    window.show()
    return _run_event_loop(app)


def _run_workload(args: argparse.Namespace) -> int:
    """``explorer --run CSV ...``: the Run view on a whole workload."""
    if args.metrics_port is not None and not 0 <= args.metrics_port <= 65535:
        print("explorer: error: --metrics-port must be between 0 and 65535", file=sys.stderr)
        return EXIT_BAD_INPUT
    if _no_display():
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
        if not args.exit_when_done and not args.screenshot:
            print("explorer: no display found: running the workload offscreen and exiting when "
                  "it ends", file=sys.stderr)
        args.exit_when_done = True
    from PyQt6.QtWidgets import QApplication

    from explorer.ui.main_window import MainWindow
    from explorer.ui.theme import apply_theme

    _quiet_platform_warnings()
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    _identify(app)
    apply_theme(app, args.theme)
    window = MainWindow(Session(), theme=args.theme)
    window.resize(*args.size)
    view = window.run_view
    window.pages.setCurrentWidget(view)
    view.csv.setText(args.run)
    if args.backend:
        view.backend.setCurrentText(args.backend)
    view.config.setText(args.config or "")
    if args.metrics_out_dir:
        view.ndjson_on.setChecked(True)
        view.ndjson_dir.setText(args.metrics_out_dir)
    if args.metrics_port is not None:
        view.prom_on.setChecked(True)
        view.prom_port.setValue(args.metrics_port)
    window.show()
    if not (args.exit_when_done or args.screenshot):
        view.start()
        return _run_event_loop(app)
    from explorer.ui.run_automation import finish_automated_run

    return finish_automated_run(app, window, args)


#: the desktop entry's file name without ``.desktop`` (resources/), which Wayland
#: compositors use to match the window to its entry and icon
DESKTOP_FILE_NAME = "adaptive-hash-map-explorer"


def _identify(app: QApplication) -> None:
    """The application's name, window icon and desktop entry, from source or a binary."""
    from PyQt6.QtGui import QIcon

    from explorer.resources import resource_path

    app.setApplicationName("Adaptive Hash Map Explorer")
    app.setDesktopFileName(DESKTOP_FILE_NAME)
    try:
        icon = resource_path("icons", "explorer-256.png")
    except FileNotFoundError:
        return
    if icon.is_file():  # PNG: read by QtGui itself, no image-format plugin needed
        app.setWindowIcon(QIcon(str(icon)))


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
