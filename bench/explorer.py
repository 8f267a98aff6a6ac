"""Explorer responsiveness: stepping back deep in a timeline, and animation frame cost.

    QT_QPA_PLATFORM=offscreen python bench/explorer.py [--ops 10000] [--repeat 20] [--run-view]

1. Step back at operation 10,000 (target: 50 ms). For each backend a session records
   ``--ops`` mixed operations (60% put, 30% get, 10% delete over 5,000 keys); from the
   end, one step back has to rebuild the last operation's frames from the nearest
   checkpoint. Caches are cleared before every sample, so each one pays in full.
2. Animation (target: 60 fps for tables up to 1,024 slots). A Robin Hood table grows
   to 64, 256 and 1,024 slots and every key glides to its new slot; one animation frame
   is moving every tile and painting the whole view. Reported as frames per second.

3. With ``--run-view``, also the Run view's targets (``bench/run_view.py``): GUI stalls
   during a 1M-operation run while the map view is stepped, the run's throughput against
   ``engine run-csv``, and the memory of a 10M-operation run against a 1M one.

The machine is noisy, so each figure is also given as a ratio to a baseline measured in
the same run: a full ``layout()`` of the map on screen (step back) and one paint of the
same view with nothing moving (animation).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from explorer.model import MapConfig, Operation, Session


def mixed_operations(count: int, seed: int = 0) -> list[Operation]:
    rng = random.Random(seed)
    ops: list[Operation] = []
    for _ in range(count):
        key = f"k{rng.randrange(5000)}"
        r = rng.random()
        if r < 0.6:
            ops.append(Operation("put", key, str(rng.randrange(1000))))
        elif r < 0.9:
            ops.append(Operation("get", key))
        else:
            ops.append(Operation("del", key))
    return ops


def step_back(backend: str, count: int, repeat: int) -> tuple[float, float, float]:
    """Median and worst step-back time (ms), and the median ``layout()`` time (ms)."""
    session = Session(MapConfig.parse(backend=backend, capacity=16))
    session.add_operations(mixed_operations(count))
    samples: list[float] = []
    layouts: list[float] = []
    for _ in range(repeat):
        session.timeline._frames.clear()  # cold: nothing cached
        session.timeline._layouts.clear()
        session.to_end()
        session.frame()
        session.timeline._frames.clear()
        start = time.perf_counter()
        session.step_back()
        session.frame()
        samples.append(time.perf_counter() - start)
        start = time.perf_counter()
        session.timeline.live.layout()
        layouts.append(time.perf_counter() - start)
    return (
        statistics.median(samples) * 1000,
        max(samples) * 1000,
        statistics.median(layouts) * 1000,
    )


def animation(frames: int, slots: int) -> tuple[float, float, int]:
    """Frames per second while every tile moves as a table grows to ``slots`` slots, and
    for a still frame; and how many tiles moved."""
    from PyQt6.QtWidgets import QApplication

    from explorer.ui.main_window import MainWindow
    from explorer.ui.theme import apply_theme

    app = QApplication.instance() or QApplication([])
    apply_theme(app, "light")  # type: ignore[arg-type]
    half = slots // 2
    session = Session(MapConfig.parse(backend="robinhood", capacity=half, max_load_factor=0.9))
    window = MainWindow(session)
    window.resize(1440, 900)
    window.show()
    session.fill(int(half * 0.9), seed=5)
    session.execute("put one-more 1")
    while session.frame().event is None or session.frame().event.kind != "resize":
        session.step_forward()
    session.step_back()
    window.refresh(animate=False)
    scene, view = window.scene, window.view
    app.processEvents()
    session.step_forward()  # the resize: starts the animation
    moving = len(scene._moves)
    scene.animation.stop()

    def paint_once() -> None:
        view.viewport().grab()

    def timed(step: object) -> float:
        start = time.perf_counter()
        for i in range(frames):
            step(i)  # type: ignore[operator]
            paint_once()
        return frames / (time.perf_counter() - start)

    moving_fps = timed(lambda i: scene._advance((i + 1) / frames))
    scene._finish()
    still_fps = timed(lambda i: None)
    window.close()
    return moving_fps, still_fps, moving


def _window(session: Session, size: tuple[int, int] = (1024, 768)):  # type: ignore[no-untyped-def]
    from PyQt6.QtWidgets import QApplication

    from explorer.ui.main_window import MainWindow
    from explorer.ui.theme import apply_theme

    app = QApplication.instance() or QApplication([])
    apply_theme(app, "light")  # type: ignore[arg-type]
    window = MainWindow(session)
    window.resize(*size)
    window.show()
    app.processEvents()
    return app, window


def micro_steps(slots: int, steps: int) -> tuple[float, float, float]:
    """Median and worst time (ms) of one micro-step, from the step to the changes painted,
    on a Robin Hood table of ``slots`` slots (75% full) at 1024x768; and the baseline,
    one full paint of the window (``grab``) with nothing changed (ms)."""
    session = Session(MapConfig.parse(backend="robinhood", capacity=slots, max_load_factor=0.9))
    for chunk in range(0, int(slots * 0.75), 1500):
        session.fill(min(1500, int(slots * 0.75) - chunk), seed=3 + chunk)
    app, window = _window(session)
    window.animate = False  # a step's own cost, not the animation's frames
    session.add_operations(mixed_operations(steps, seed=9), go_to="first")
    app.processEvents()
    samples: list[float] = []
    for _ in range(steps):
        start = time.perf_counter()
        if not session.step_forward():
            break
        app.processEvents()  # paint what the step changed, as on screen
        samples.append(time.perf_counter() - start)
    paints = []
    for _ in range(10):
        start = time.perf_counter()
        window.grab()
        paints.append(time.perf_counter() - start)
    window.dispose()
    return (
        statistics.median(samples) * 1000,
        max(samples) * 1000,
        statistics.median(paints) * 1000,
    )


def random_fill(count: int, repeat: int) -> tuple[float, float]:
    """Median time (ms) of "random fill ``count``" on an empty map until the window shows
    the result, and the baseline: the same keys put into a bare engine map (ms)."""
    from explorer.model.sources import random_fill as fill_ops

    fills, bare = [], []
    for r in range(repeat):
        session = Session(MapConfig.parse(backend="robinhood", capacity=16))
        _app, window = _window(session)
        start = time.perf_counter()
        window.fill(count)
        window.grab()
        fills.append(time.perf_counter() - start)
        window.dispose()
        ops = fill_ops(count, seed=r)
        mapping = MapConfig.parse(backend="robinhood", capacity=16).build()
        start = time.perf_counter()
        for op in ops:
            mapping[op.key] = op.value
        bare.append(time.perf_counter() - start)
    return statistics.median(fills) * 1000, statistics.median(bare) * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ops", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--frames", type=int, default=60)
    parser.add_argument("--steps", type=int, default=60, help="micro-steps timed")
    parser.add_argument("--fill-repeat", type=int, default=5)
    parser.add_argument("--only", choices=["steps"], help="only the micro-step and fill")
    parser.add_argument("--run-view", action="store_true", help="also bench/run_view.py")
    args = parser.parse_args()
    if args.only is None:
        print(f"Step back at operation {args.ops:,} (median of {args.repeat}, caches cleared)")
        print(f"{'backend':10} {'median ms':>10} {'worst ms':>9} {'layout() ms':>12} "
              f"{'x layout':>9}")
        for backend in ("robinhood", "chaining", "adaptive"):
            median, worst, layout = step_back(backend, args.ops, args.repeat)
            print(f"{backend:10} {median:10.1f} {worst:9.1f} {layout:12.1f} "
                  f"{median / layout:9.2f}")
    print("\nOne micro-step, step to painted window (1024x768, Robin Hood 75% full)")
    print(f"{'slots':>6} {'median ms':>10} {'worst ms':>9} {'paint ms':>9} {'x paint':>8}")
    for slots in (1024, 4096):
        median, worst, paint = micro_steps(slots, args.steps)
        print(f"{slots:6} {median:10.1f} {worst:9.1f} {paint:9.1f} {median / paint:8.2f}")
    print(f"\nRandom fill into an empty map, until shown (median of {args.fill_repeat})")
    print(f"{'keys':>6} {'fill ms':>8} {'bare puts ms':>13} {'x bare':>7}")
    for keys in (2000,):
        fill_ms, bare_ms = random_fill(keys, args.fill_repeat)
        print(f"{keys:6} {fill_ms:8.1f} {bare_ms:13.2f} {fill_ms / bare_ms:7.0f}")
    if args.only is None:
        print(f"\nAnimation of a resize, every tile gliding ({args.frames} frames, 1440x900)")
        print(f"{'slots':>6} {'tiles':>6} {'moving fps':>11} {'still fps':>10} "
              f"{'moving/still':>13}")
        for slots in (64, 256, 1024):
            moving, still, tiles = animation(args.frames, slots)
            print(f"{slots:6} {tiles:6} {moving:11.0f} {still:10.0f} {moving / still:13.2f}")
    if args.run_view:
        import run_view  # beside this file

        sys.argv = sys.argv[:1]
        print()
        return run_view.main()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
