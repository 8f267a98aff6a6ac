"""The latency reservoir's kept sorted copy against sorting its values afresh: the same
percentiles (to the bit, NaN and -0.0 included) and the same sample as the plain
algorithm R, whatever the order of offers and asks."""

from __future__ import annotations

import random
import struct

from hypothesis import given, settings
from hypothesis import strategies as st

from engine.workloads.latency import PERCENTILES, Reservoir


def reference_percentiles(values: list[float], scale: float) -> dict[str, float]:
    """The straightforward computation: sort the sample at every ask."""
    if not values:
        return {f"p{round(p * 100)}": 0.0 for p in PERCENTILES}
    data = sorted(values)
    last = len(data) - 1
    return {
        f"p{round(p * 100)}": data[min(last, max(0, round(p * last)))] * scale for p in PERCENTILES
    }


class ReferenceReservoir:
    """Algorithm R as the reservoir draws it, with no sorted copy."""

    def __init__(self, k: int, seed: int) -> None:
        self.k, self.values, self.seen = k, [], 0
        self.rng = random.Random(seed)

    def offer(self, value: float) -> None:
        self.seen += 1
        if len(self.values) < self.k:
            self.values.append(value)
            return
        slot = self.rng.randrange(self.seen)
        if slot < self.k:
            self.values[slot] = value


def bits(values: list[float] | dict[str, float]) -> list[bytes]:
    """Each float's bytes: tells -0.0 from 0.0, and a NaN equals itself."""
    items = values.values() if isinstance(values, dict) else values
    return [struct.pack("<d", v) for v in items]


#: Few distinct values (so equal ones meet), the awkward floats, and any float.
floats = st.one_of(
    st.sampled_from([0.0, -0.0, 1.0, 2.0, 2.5e-6, float("inf"), float("-inf"), float("nan")]),
    st.integers(0, 6).map(float),
    st.floats(allow_nan=True, allow_infinity=True),
)
#: ("offer", value) or ("ask", scale); asks are frequent, as the producer's ticks are.
actions = st.lists(
    st.one_of(
        st.tuples(st.just("offer"), floats),
        st.tuples(st.just("ask"), st.sampled_from([1.0, 1e9, 1000.0])),
    ),
    max_size=120,
)


@settings(max_examples=400, deadline=None)
@given(st.integers(1, 12), st.integers(0, 3), actions)
def test_percentiles_equal_sorting_afresh(
    k: int, seed: int, steps: list[tuple[str, float]]
) -> None:
    res, ref = Reservoir(k, seed=seed), ReferenceReservoir(k, seed)
    for action, value in steps:
        if action == "offer":
            res.offer(value)
            ref.offer(value)
        else:
            assert bits(res.percentiles(scale=value)) == bits(
                reference_percentiles(ref.values, value)
            )
            assert bits(res.sorted_values()) == bits(sorted(ref.values))
    assert bits(res.values) == bits(ref.values) and res.seen == ref.seen
    assert bits(res.percentiles()) == bits(reference_percentiles(ref.values, 1.0))


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 400), st.integers(1, 3000), st.integers(1, 200), st.integers(0, 9))
def test_a_long_run_asked_every_so_often(k: int, offers: int, every: int, seed: int) -> None:
    """Latency-like values, with many replacements between asks (past k/4 of them too)."""
    draw = random.Random(seed)
    res, ref = Reservoir(k, seed=seed), ReferenceReservoir(k, seed)
    for i in range(offers):
        value = draw.lognormvariate(-12, 1) if draw.random() < 0.9 else draw.choice([1e-6, 0.0])
        res.offer(value)
        ref.offer(value)
        if i % every == 0:
            assert res.percentiles(scale=1e9) == reference_percentiles(ref.values, 1e9)
    assert res.sorted_values() == sorted(ref.values)
    assert res.values == ref.values


def test_the_kept_copy_stays_bounded_when_nobody_asks() -> None:
    res = Reservoir(10, seed=1)
    for i in range(10):
        res.offer(float(i))
    res.percentiles()
    for i in range(10_000):
        res.offer(float(i % 97))
    assert len(res._added) <= 2 * res.k and len(res._removed) <= res.k
    assert res.sorted_values() == sorted(res.values)


def test_empty_and_unchanged() -> None:
    res = Reservoir(3)
    assert res.percentiles() == {"p50": 0.0, "p90": 0.0, "p99": 0.0}
    for v in (3.0, 1.0, 2.0):
        res.offer(v)
    first = res.sorted_values()
    assert first == [1.0, 2.0, 3.0] and res.sorted_values() is first  # no change, no work
    assert res.percentiles(scale=10.0) == {"p50": 20.0, "p90": 30.0, "p99": 30.0}


def test_nan_and_negative_zero_replacing_values_in_any_slot() -> None:
    """Where a NaN or a -0.0 lands among equal or unordered values depends on its slot;
    every seed and size here puts them in other slots, asked after every offer."""
    pool = [0.0, -0.0, float("nan"), 1.0, 0.0, 2.0, -0.0, 1.0]
    for k in (4, 5, 8, 9):
        for seed in range(40):
            draw = random.Random(seed)
            res, ref = Reservoir(k, seed=seed), ReferenceReservoir(k, seed)
            for _ in range(60):
                value = draw.choice(pool)
                res.offer(value)
                ref.offer(value)
                assert bits(res.sorted_values()) == bits(sorted(ref.values))
                assert bits(res.percentiles()) == bits(reference_percentiles(ref.values, 1.0))
