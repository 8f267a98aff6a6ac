"""Check that two trees' maps behave identically: every observable, operation by operation.

    python bench/same_behaviour.py OTHER_TREE [--seeds 40]

For a change that must not change behaviour (a new storage layout, a faster kernel), run
the same random operations through this tree's engine and another tree's (an exported
copy of an earlier commit, e.g. ``git archive main | tar -x -C /tmp/before``), each in its
own process, and compare what they leave: ``layout()``, ``stats()``, ``history()``, the
items in order, the snapshot bytes, the trace events of a sample of operations and the
counts of a replay batch (the kernel). Chaining maps (1 to 8 groups, several load
limits, the ``crc32`` and ``fast`` hashes) and adaptive maps (which migrate), with str,
bytes and int keys. Exit status 0 when everything matches.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

DUMP = r"""
import json, random, sys
import engine
from engine.maps.batch import RowBatch
from engine.store.snapshot import snapshot_bytes

out = []
for seed in range(int(sys.argv[1])):
    rng = random.Random(seed)
    kind = rng.choice(["chaining", "chaining", "adaptive"])
    opts = {"capacity": rng.choice([1, 2, 8])}
    if kind == "chaining":
        opts.update(
            groups=rng.choice([1, 2, 4, 8]),
            max_load_factor=rng.choice([0.5, 0.75, 2.0, 4.0]),
            hash=rng.choice(["crc32", "crc32", "fast"]),
        )
    m = engine.create_map(kind, **opts)
    space = rng.choice([20, 200, 2000])
    events = []
    for step in range(rng.randrange(200, 3000)):
        key = rng.choice(
            [f"k{rng.randrange(space)}", rng.randrange(space), b"b%d" % rng.randrange(space)]
        )
        r = rng.random()
        op = (
            (lambda: m.put(key, step)) if r < 0.45
            else (lambda: m.get(key)) if r < 0.8
            else (lambda: m.discard(key))
        )
        if rng.random() < 0.05:
            with engine.trace(m) as tr:
                op()
            events.append([e.to_dict() for e in tr])
        else:
            op()
    rows = []
    for _ in range(2000):
        op = rng.choice(["get", "put", "del"])
        rows.append([op, f"s{rng.randrange(space)}", "v" if op == "put" else ""])
    batch = RowBatch(iter(rows), (0, 1, 2), stop=10**9)
    m.apply_rows(batch)
    m.check_invariants()
    out.append({
        "seed": seed, "kind": kind, "options": opts, "events": events,
        "layout": m.layout(), "stats": m.stats(), "history": m.history(),
        "items": [[repr(k), repr(v)] for k, v in m.items()],
        "snapshot": snapshot_bytes(m).hex(),
        "batch": [batch.gets, batch.puts, batch.dels, batch.get_misses, batch.del_misses],
    })
json.dump(out, sys.stdout, sort_keys=True, default=repr)
"""


def dump(tree: Path, seeds: int) -> list[dict[str, object]]:
    env = dict(os.environ, PYTHONPATH=str(tree), PYTHONHASHSEED="0")
    proc = subprocess.run(
        [sys.executable, "-c", DUMP, str(seeds)], capture_output=True, text=True, env=env
    )
    if proc.returncode:
        raise SystemExit(f"{tree}: {proc.stderr}")
    result: list[dict[str, object]] = json.loads(proc.stdout)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("other", type=Path, help="the tree to compare with")
    parser.add_argument("--seeds", type=int, default=40)
    args = parser.parse_args(argv)
    mine, theirs = dump(ROOT, args.seeds), dump(args.other.resolve(), args.seeds)
    differ = 0
    for a, b in zip(mine, theirs, strict=True):
        fields = [name for name in a if a[name] != b.get(name)]
        if fields:
            differ += 1
            print(f"seed {a['seed']} ({a['kind']} {a['options']}): differs in {', '.join(fields)}")
    events = sum(len(run["events"]) for run in mine)  # type: ignore[arg-type]
    print(
        f"{len(mine) - differ} of {len(mine)} runs identical ({events} traced operations, "
        f"{sum(len(run['history']) for run in mine)} history entries)"  # type: ignore[arg-type]
    )
    return 1 if differ else 0


if __name__ == "__main__":
    raise SystemExit(main())
