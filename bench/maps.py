"""Mixed-operation throughput of each map against a plain dict, measured in the same run.

    python bench/maps.py [--ops 200000] [--keys 50000] [--repeat 3] [--seed 1] [--int-keys]
                         [--python PY]

Every contender replays the same pre-generated list of operations (50% get, 40% put,
10% delete over str keys, or int keys with ``--int-keys``); the best of ``--repeat`` runs
counts. Ratios are against the dict measured here, so a noisy machine affects both sides.
``--python PY`` reruns this script with another interpreter and the engine installed there
(the compiled build's venv, say) instead of this tree's source.
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import time
from collections.abc import Callable, MutableMapping
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if os.environ.get("BENCH_INSTALLED_ENGINE") != "1":
    sys.path.insert(0, str(ROOT))  # this tree's source, not an installed engine

import engine  # noqa: E402
from engine.build import build_name  # noqa: E402

Op = tuple[int, Any]  # 0 get, 1 put, 2 delete


def make_ops(count: int, key_space: int, seed: int, int_keys: bool) -> list[Op]:
    rng = random.Random(seed)
    keys: list[Any] = (
        list(range(key_space)) if int_keys else [f"key{i:07d}" for i in range(key_space)]
    )
    ops: list[Op] = []
    for _ in range(count):
        r = rng.random()
        kind = 0 if r < 0.5 else 1 if r < 0.9 else 2
        ops.append((kind, keys[rng.randrange(key_space)]))
    return ops


def replay(m: MutableMapping[Any, Any], ops: list[Op]) -> float:
    get, pop = m.get, m.pop
    start = time.perf_counter()
    for kind, key in ops:
        if kind == 0:
            get(key)
        elif kind == 1:
            m[key] = kind
        else:
            pop(key, None)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--ops", type=int, default=200_000)
    parser.add_argument("--keys", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--int-keys", action="store_true")
    parser.add_argument("--python", help="rerun with this interpreter's installed engine")
    args = parser.parse_args(argv)
    if args.python:
        rest = [a for a in (argv if argv is not None else sys.argv[1:])]
        i = rest.index("--python")
        del rest[i : i + 2]
        env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        env["BENCH_INSTALLED_ENGINE"] = "1"
        return subprocess.run([args.python, __file__, *rest], env=env, check=False).returncode

    ops = make_ops(args.ops, args.keys, args.seed, args.int_keys)
    contenders: dict[str, Callable[[], MutableMapping[Any, Any]]] = {
        "dict": dict,
        "chaining": lambda: engine.create_map("chaining"),
        "robinhood": lambda: engine.create_map("robinhood"),
        "robinhood (tombstone)": lambda: engine.create_map("robinhood", deletion="tombstone"),
        "adaptive": lambda: engine.create_map("adaptive"),
        "robinhood (keyed hash)": lambda: engine.create_map("robinhood", hash="keyed", seed=7),
    }
    best: dict[str, float] = {}
    for _ in range(args.repeat):
        for name, factory in contenders.items():
            elapsed = replay(factory(), ops)
            best[name] = min(best.get(name, float("inf")), elapsed)
    base = best["dict"]
    kind = "int" if args.int_keys else "str"
    print(
        f"{args.ops} mixed ops (50% get, 40% put, 10% del) over {args.keys} {kind} keys, "
        f"{build_name()} build"
    )
    print(f"{'map':24} {'ops/s':>12} {'x dict time':>12}")
    for name, elapsed in best.items():
        print(f"{name:24} {args.ops / elapsed:12,.0f} {elapsed / base:12.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
