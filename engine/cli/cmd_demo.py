"""``engine demo``: a short headless tour of the three maps.

Inserts a handful of fruit into each map, prints the physical layout, traces one lookup
and one Robin Hood insertion step by step, and shows the adaptive map migrating.
"""

from __future__ import annotations

import io
from typing import TextIO

from engine.cli.context import Context, SubParsers
from engine.maps.adaptive import AdaptiveMap
from engine.maps.base import BaseMap
from engine.maps.chaining import ChainingMap
from engine.maps.robinhood import RobinHoodMap
from engine.tracing.collect import trace

__all__ = ["add_parser", "run", "run_demo"]

FRUIT = ["apple", "banana", "cherry", "date", "elder", "fig", "grape", "kiwi", "lemon"]
CANDIDATES = [
    "mango",
    "nectarine",
    "orange",
    "papaya",
    "quince",
    "raspberry",
    "satsuma",
    "tangerine",
    "ugli",
    "vanilla",
    "watermelon",
    "yuzu",
    "zucchini",
    "apricot",
    "blueberry",
    "coconut",
    "damson",
    "elderberry",
    "feijoa",
    "guava",
    "honeydew",
]


def _show_robinhood(m: RobinHoodMap, out: TextIO) -> None:
    for i, slot in enumerate(m.layout()["slots"]):
        if slot["state"] == "occupied":
            out.write(f"  [{i:2}] {slot['key']!s:8} home {slot['home']:2}  DIB {slot['dib']}\n")
        else:
            out.write(f"  [{i:2}] {slot['state']}\n")


def _show_chaining(m: ChainingMap, out: TextIO) -> None:
    for b, bucket in enumerate(m.layout()["buckets"]):
        groups = " | ".join(",".join(str(e["key"]) for e in g) or "." for g in bucket)
        out.write(f"  bucket {b:2}: {groups}\n")


def _displacing_key(m: RobinHoodMap) -> str:
    """The first candidate whose insertion makes a Robin Hood swap (tried on copies)."""
    for candidate in CANDIDATES:
        trial = m.copy()
        with trace(trial) as events:
            trial[candidate] = 0
        if any(e.kind == "displace" for e in events):
            return candidate
    return CANDIDATES[0]


def _narrate(m: BaseMap, action: str, out: TextIO) -> None:
    with trace(m) as events:
        op, key = action.split(" ", 1)
        if op == "get":
            m.get(key)
        else:
            m[key] = len(key)
    out.write(f"\n{action} on {m.kind}:\n")
    for event in events:
        out.write(f"  {event.kind:9} {event.describe()}\n")


def run_demo(out: TextIO) -> None:
    """Write the tour to ``out``."""
    rh = RobinHoodMap(capacity=16)
    ch = ChainingMap(capacity=4, groups=2)
    for i, fruit in enumerate(FRUIT):
        rh[fruit] = i
        ch[fruit] = i
    out.write("Robin Hood table (16 slots):\n")
    _show_robinhood(rh, out)
    out.write("\nTwo-level chaining (buckets | groups):\n")
    _show_chaining(ch, out)
    _narrate(rh, f"put {_displacing_key(rh)}", out)
    _narrate(rh, "get plum", out)
    _narrate(ch, "get cherry", out)

    from engine.maps.option_models import GuardrailConfig

    guard = GuardrailConfig(min_entries=8, cooldown_ops=64)
    adaptive = AdaptiveMap(capacity=4, migration_batch=4, guardrails=guard)
    out.write("\nAdaptive map, inserting 40 keys:\n")
    with trace(adaptive) as events:
        for i in range(40):
            adaptive[f"key{i}"] = i
    for event in events:
        if event.kind in ("guardrail", "migrate", "resize"):
            out.write(f"  {event.describe()}\n")
    stats = adaptive.stats()
    out.write(
        f"  now on {stats['active_backend']}: {stats['size']} entries, "
        f"load factor {stats['load_factor']:.2f}, {stats['migrations']} migration(s)\n"
    )
    adaptive.check_invariants()


def add_parser(sub: SubParsers) -> None:
    demo = sub.add_parser("demo")
    demo.set_defaults(handler=run)


def run(ctx: Context) -> int:
    buffer = io.StringIO()
    run_demo(buffer)
    ctx.out.result({"text": buffer.getvalue()}, buffer.getvalue())
    return 0
