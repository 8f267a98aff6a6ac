"""Maps to plain data and back, for snapshots: the full physical state, the options and
the counters. Derived counters (sizes, DIB sums, chain lengths) are recomputed on load
rather than trusted, and :meth:`check_invariants` then vets what the file claimed.

Keys and values are typed ``[tag, data]`` pairs so nothing is ambiguous: ``s`` str,
``i`` int, ``t`` bool, ``n`` None, ``f`` float, ``b`` bytes (hex), ``l`` list, ``u`` tuple,
``d`` dict with str keys. Other value types cannot be saved (:class:`PolicyError`).
"""

from __future__ import annotations

import re
from collections import deque
from typing import Any

from engine.errors import BadInputError, InvariantError, PolicyError
from engine.maps.adaptive import AdaptiveMap, Migration
from engine.maps.base import HISTORY_LIMIT, BaseMap
from engine.maps.chaining import ChainingMap
from engine.maps.options import spec_dict
from engine.maps.robinhood import EMPTY, TOMBSTONE, RobinHoodMap
from engine.maps.stats import hist_add

__all__ = ["map_from_state", "map_to_state"]

_MAX_DEPTH = 64
_SURROGATE = re.compile("[\ud800-\udfff]")
DEFAULT_CELL_BUDGET = 1 << 20


def encode(value: Any, depth: int = 0) -> list[Any]:
    """A typed, JSON-ready form of a key or value."""
    if depth > _MAX_DEPTH:
        raise PolicyError("a value nests too deeply to save", "save flatter values")
    kind = type(value)
    if value is None:
        return ["n", None]
    if kind is bool:
        return ["t", value]
    if kind is int:
        return ["i", value]
    if kind is str:
        if _SURROGATE.search(value):
            # JSON would re-join an escaped surrogate pair into one character on reading
            return ["z", value.encode("utf-8", "surrogatepass").hex()]
        return ["s", value]
    if kind is float:
        return ["f", value]
    if kind is bytes:
        return ["b", value.hex()]
    if kind is list:
        return ["l", [encode(v, depth + 1) for v in value]]
    if kind is tuple:
        return ["u", [encode(v, depth + 1) for v in value]]
    if kind is dict and all(type(k) is str for k in value):
        return ["d", [[k, encode(v, depth + 1)] for k, v in value.items()]]
    raise PolicyError(
        f"a value of type {kind.__name__} cannot be saved in a snapshot",
        "snapshots hold str, bytes, int, float, bool, None, lists, tuples and str-keyed dicts",
    )


def decode(data: Any, depth: int = 0) -> Any:
    """Invert :func:`encode`; raises ``ValueError`` on anything malformed."""
    if depth > _MAX_DEPTH or not isinstance(data, list) or len(data) != 2:
        raise ValueError("malformed typed value")
    tag, body = data
    if tag == "n" and body is None:
        return None
    if tag == "t" and type(body) is bool:
        return body
    if tag == "i" and type(body) is int:
        return body
    if tag == "s" and type(body) is str:
        return body
    if tag == "z" and type(body) is str:
        return bytes.fromhex(body).decode("utf-8", "surrogatepass")
    if tag == "f" and type(body) in (float, int):
        return float(body)
    if tag == "b" and type(body) is str:
        return bytes.fromhex(body)
    if tag in ("l", "u") and type(body) is list:
        items = [decode(v, depth + 1) for v in body]
        return items if tag == "l" else tuple(items)
    if tag == "d" and type(body) is list:
        out = {}
        for pair in body:
            if not isinstance(pair, list) or len(pair) != 2 or type(pair[0]) is not str:
                raise ValueError("malformed dict entry")
            out[pair[0]] = decode(pair[1], depth + 1)
        return out
    raise ValueError(f"unknown value tag {tag!r}")


def _decode_key(data: Any) -> Any:
    key = decode(data)
    if type(key) not in (str, bytes, int, bool):
        raise ValueError("a key must be str, bytes or int")
    return key


# ---------------------------------------------------------------------- counters
def _counters(m: BaseMap) -> dict[str, Any]:
    return {
        "hist_get": list(m._hist_get),
        "hist_put": list(m._hist_put),
        "hist_del": list(m._hist_del),
        "get_misses": m._get_misses,
        "del_misses": m._del_misses,
        "updates": m._updates,
        "resizes": m._resizes,
        "compactions": m._compactions,
        "history": list(m._history),
    }


def _int(data: dict[str, Any], name: str, low: int = 0) -> int:
    value = data[name]
    if type(value) is not int or value < low:
        raise ValueError(f"{name} must be an int >= {low}")
    return value


def _restore_counters(m: BaseMap, data: dict[str, Any]) -> None:
    for name in ("hist_get", "hist_put", "hist_del"):
        hist = data[name]
        if not isinstance(hist, list) or not hist or len(hist) > 1 << 24:
            raise ValueError(f"{name} must be a non-empty list")
        if any(type(c) is not int or c < 0 for c in hist):
            raise ValueError(f"{name} must hold counts")
        setattr(m, "_" + name, list(hist))
    for name in ("get_misses", "del_misses", "updates", "resizes", "compactions"):
        setattr(m, "_" + name, _int(data, name))
    history = data["history"]
    if not isinstance(history, list) or not all(isinstance(e, dict) for e in history):
        raise ValueError("history must be a list of objects")
    m._history = deque(history, maxlen=HISTORY_LIMIT)


# ---------------------------------------------------------------------- Robin Hood
def _robinhood_state(m: RobinHoodMap) -> dict[str, Any]:
    slots: list[Any] = []
    for i in range(m._mask + 1):
        dib = m._dibs[i]
        if dib == EMPTY:
            slots.append(None)
        elif m._keys[i] is TOMBSTONE:
            slots.append([dib, m._hashes[i]])
        else:
            slots.append([dib, m._hashes[i], encode(m._keys[i]), encode(m._vals[i])])
    return {
        "options": {
            "capacity": m._mask + 1,
            "max_load_factor": m._max_load,
            "deletion": m._deletion,
            "hash": m._hash_spec.name,
            "seed": m._hash_spec.seed,
        },
        "tombstone_deletes": m._tombstone_deletes,
        "slots": slots,
        "counters": _counters(m),
    }


def _map_options(data: dict[str, Any]) -> dict[str, Any]:
    """A state's options; a state that names no hash was written when ``fast`` was the
    default, so it means ``fast``. O(options)."""
    options = data["options"]
    if not isinstance(options, dict):
        raise ValueError("options must be an object")
    return {"hash": "fast", **options}


def _check_budget(options: dict[str, Any], budget: int, grouped: bool = False) -> None:
    """Refuse a table of more positions than ``budget`` before allocating it (``options``
    from :func:`_map_options`, so a dict)."""
    if type(options.get("capacity")) is not int:
        raise ValueError("options must name an int capacity")
    groups = options.get("groups", 4) if grouped else 1
    if type(groups) is not int or groups < 1:
        raise ValueError("groups must be a positive int")
    if options["capacity"] * groups > budget:
        raise PolicyError(
            f"the snapshot asks for a table of {options['capacity'] * groups} positions, far "
            "more than its size justifies",
            "compact the map before saving it, or sign the snapshot (--sign-key-file) so "
            "that it loads at any size",
        )


def _robinhood_from(data: dict[str, Any], budget: int) -> RobinHoodMap:
    options = _map_options(data)
    _check_budget(options, budget)  # before allocating; slots are checked below
    m = RobinHoodMap(**options)
    slots = data["slots"]
    if not isinstance(slots, list) or len(slots) != m.capacity:
        raise ValueError("slots must list every slot of the capacity")
    if type(data["tombstone_deletes"]) is not bool:
        raise ValueError("tombstone_deletes must be a bool")
    m._tombstone_deletes = data["tombstone_deletes"]
    for i, slot in enumerate(slots):
        if slot is None:
            continue
        if not isinstance(slot, list) or len(slot) not in (2, 4):
            raise ValueError(f"slot {i} is malformed")
        dib, h = slot[0], slot[1]
        if type(dib) is not int or dib < 0 or type(h) is not int or not 0 <= h < 1 << 64:
            raise ValueError(f"slot {i} has a bad DIB or hash")
        m._dibs[i] = dib
        m._hashes[i] = h
        if len(slot) == 2:
            m._keys[i] = TOMBSTONE
            m._tombstones += 1
        else:
            m._keys[i] = _decode_key(slot[2])
            m._vals[i] = decode(slot[3])
            m._size += 1
            m._dib_sum += dib
    m._rescan_dib_max()
    _restore_counters(m, data["counters"])
    return m


# ---------------------------------------------------------------------- chaining
def _chaining_state(m: ChainingMap) -> dict[str, Any]:
    cells: list[list[Any]] = []
    hashfn, gbits = m._hashfn, m._gbits
    for b, chain in enumerate(m._buckets):
        if chain is None:
            continue
        group = -1
        entries: list[list[Any]] = []
        for i in range(0, len(chain), 3):  # the bucket's cells in order, each in chain order
            key = chain[i]
            if chain[i + 2] != group:
                group = chain[i + 2]
                entries = []
                cells.append([(b << gbits) | group, entries])
            entries.append([encode(key), hashfn(key), encode(chain[i + 1])])
    return {
        "options": {
            "capacity": m._mask + 1,
            "max_load_factor": m._max_load,
            "groups": m._groups,
            "hash": m._hash_spec.name,
            "seed": m._hash_spec.seed,
        },
        "cells": cells,
        "counters": _counters(m),
    }


def _chaining_from(data: dict[str, Any], budget: int) -> ChainingMap:
    """The map a chaining state describes. Each entry goes where the state says (its
    cell), so a misplaced one is left for ``check_invariants`` to name; the map keeps only
    the group of each hash, so a stored hash must be the key's own
    (:class:`InvariantError` ``hash-matches-key`` otherwise). O(n + capacity)."""
    options = _map_options(data)
    _check_budget(options, budget, grouped=True)
    m = ChainingMap(**options)
    total = m.capacity * m.groups
    cells = data["cells"]
    if not isinstance(cells, list):
        raise ValueError("cells must be a list")
    seen: set[int] = set()
    for cell in cells:
        if not isinstance(cell, list) or len(cell) != 2 or type(cell[0]) is not int:
            raise ValueError("a cell is malformed")
        c, entries = cell
        if not 0 <= c < total or c in seen or not isinstance(entries, list) or not entries:
            raise ValueError(f"cell {c} is out of range, repeated or empty")
        seen.add(c)
    buckets, hashfn, gbits = m._buckets, m._hashfn, m._gbits
    group_mask = m.groups - 1
    parts: dict[int, list[Any]] = {}  # each bucket's entries, made a tuple at the end
    for c, entries in sorted(cells):  # cell order: each bucket's groups in order
        b, group = c >> gbits, c & group_mask
        chain = parts.setdefault(b, [])
        for j, entry in enumerate(entries):
            if not isinstance(entry, list) or len(entry) != 3:
                raise ValueError(f"an entry of cell {c} is malformed")
            h = entry[1]
            if type(h) is not int or not 0 <= h < 1 << 64:
                raise ValueError(f"an entry of cell {c} has a bad hash")
            key = _decode_key(entry[0])
            if hashfn(key) != h:
                raise InvariantError("hash-matches-key", f"cell {c}[{j}]: stale hash for {key!r}")
            chain.extend((key, decode(entry[2]), group))
        length = len(entries)
        hist_add(m._chain_hist, length)
        m._compare_sum += length * (length + 1) // 2
        m._chain_max = max(m._chain_max, length)
        m._size += length
    for b, part in parts.items():
        buckets[b] = tuple(part)
    _restore_counters(m, data["counters"])
    return m


# ---------------------------------------------------------------------- adaptive
def _adaptive_state(m: AdaptiveMap) -> dict[str, Any]:
    mig = m._migration
    return {
        "options": spec_dict(m._opts),
        "active": map_to_state(m._active),
        "migration": None
        if mig is None
        else {
            "target": map_to_state(mig.target),
            "reason": mig.reason,
            "started_op": mig.started_op,
            "total": mig.total,
            "cursor": mig.cursor,
            "moved": mig.moved,
            "batches": mig.batches,
        },
        "migration_log": [dict(e) for e in m._migration_log],
        "completed": m._completed,
        "writes": m._writes,
        "quiet_until": m._quiet_until,
        "counters": _counters(m),
    }


def _adaptive_from(data: dict[str, Any], budget: int) -> AdaptiveMap:
    from engine.maps.option_models import AdaptiveOptions  # pydantic: only when loading

    opts = AdaptiveOptions.model_validate(_map_options(data))
    m = AdaptiveMap(**opts.model_dump(exclude={"guardrails"}), guardrails=opts.guardrails)
    m._active = _adopt(m, map_from_state(data["active"], budget))
    log = data["migration_log"]
    if not isinstance(log, list) or not all(isinstance(e, dict) for e in log):
        raise ValueError("migration_log must be a list of objects")
    m._migration_log = [dict(e) for e in log]
    mig = data["migration"]
    if mig is not None:
        if not isinstance(mig, dict) or not m._migration_log:
            raise ValueError("a migration needs its log entry")
        target = _adopt(m, map_from_state(mig["target"], budget))
        if not isinstance(mig["reason"], str):
            raise ValueError("migration reason must be text")
        m._migration = Migration(
            source=m._active,
            target=target,
            reason=mig["reason"],
            started_op=_int(mig, "started_op"),
            total=_int(mig, "total"),
            cursor=_int(mig, "cursor"),
            moved=_int(mig, "moved"),
            batches=_int(mig, "batches"),
            history_entry=m._migration_log[-1],
        )
    m._completed = _int(data, "completed")
    m._writes = _int(data, "writes")
    m._quiet_until = _int(data, "quiet_until")
    _restore_counters(m, data["counters"])
    return m


def _adopt(owner: AdaptiveMap, table: BaseMap) -> BaseMap:
    if isinstance(table, AdaptiveMap) or table.hash_spec != owner.hash_spec:
        raise ValueError("an adaptive map's tables must be plain maps with its hash")
    table._owner = owner
    table._hashfn = owner._hashfn
    return table


# ---------------------------------------------------------------------- entry points
_WRITERS = {"robinhood": _robinhood_state, "chaining": _chaining_state, "adaptive": _adaptive_state}
_READERS = {"robinhood": _robinhood_from, "chaining": _chaining_from, "adaptive": _adaptive_from}


def map_to_state(m: BaseMap) -> dict[str, Any]:
    """``{"kind": ..., **state}``: everything needed to rebuild ``m`` exactly. O(n)."""
    writer = _WRITERS.get(m.kind)
    if writer is None:
        raise PolicyError(f"a {type(m).__name__} cannot be saved")
    return {"kind": m.kind, **writer(m)}  # type: ignore[operator]


def map_from_state(data: Any, cell_budget: int = DEFAULT_CELL_BUDGET) -> BaseMap:
    """Rebuild a map from :func:`map_to_state` data. Raises :class:`BadInputError` for
    anything malformed; the caller runs ``check_invariants`` on the result."""
    try:
        if not isinstance(data, dict):
            raise ValueError("the map state must be an object")
        reader = _READERS.get(data.get("kind"))  # type: ignore[arg-type]
        if reader is None:
            raise ValueError(f"unknown map kind {data.get('kind')!r}")
        return reader(data, cell_budget)
    except (BadInputError, PolicyError):
        raise
    except (ValueError, TypeError, KeyError, IndexError, OverflowError, RecursionError) as exc:
        raise BadInputError(
            f"bad snapshot payload: {exc}", "the file is damaged or was not written by engine"
        ) from None
