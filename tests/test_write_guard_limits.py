"""The integer forms of the adaptive map's guardrail limits (:mod:`engine.maps.batch`):
the kernels and the tripwire compare ints with them, never an int with a float product,
and must never miss a crossing the float comparison of the full check would see."""

from __future__ import annotations

import math
from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st

from engine.maps.batch import (
    MEAN_SCALE,
    NO_LIMIT,
    WriteGuard,
    floor_limit,
    mean_ratio,
    reach_limit,
    scaled_mean_limit,
)

counts = st.integers(min_value=-(2**40), max_value=2**40)
limits = st.one_of(
    st.floats(min_value=-1e6, max_value=1e6, allow_nan=False),
    st.integers(min_value=-(2**40), max_value=2**40),
    st.sampled_from([math.inf, 2.0**62, 2.0**63, 0.5, 1.0, 127.99999999999999]),
)


@given(counts, limits)
def test_floor_limit_is_the_strict_comparison_in_ints(count: int, limit: float) -> None:
    assert (count > limit) == (count > floor_limit(limit))


@given(counts, limits)
def test_reach_limit_is_the_inclusive_comparison_in_ints(count: int, limit: float) -> None:
    assert (count >= limit) == (count > reach_limit(limit))


def test_switched_off_limits_are_never_reached_by_a_real_counter() -> None:
    assert floor_limit(math.inf) == reach_limit(math.inf) == NO_LIMIT
    assert floor_limit(3) == 3 and reach_limit(3) == 2 and reach_limit(2.5) == 2


means = st.one_of(
    st.floats(min_value=-1.0, max_value=1e12, allow_nan=False),
    st.sampled_from([0.0, 1.0 / 3.0, 2.0, 7.0, 2.0**32, 2.0**33, math.inf]),
)


@given(
    st.integers(min_value=0, max_value=2**31),
    st.integers(min_value=0, max_value=2**31 - 1),
    means,
    st.integers(min_value=-3, max_value=3),
)
def test_the_scaled_mean_never_misses_a_crossing(
    size: int, base: int, mean: float, nudge: int
) -> None:
    """Totals at and around ``mean * size`` (where rounding bites): a total past the
    float product is past the integer form too."""
    scaled = scaled_mean_limit(mean)
    product = mean * size
    around = int(min(product, 2.0**62)) if math.isfinite(product) else base
    for total in {base, max(0, around + nudge)}:
        if total > product:
            assert total * MEAN_SCALE > scaled * size, (total, size, mean)


@given(
    st.integers(min_value=1, max_value=2**31),
    st.integers(min_value=0, max_value=2**40),
    st.floats(min_value=0.0, max_value=2.0**32, allow_nan=False),
)
def test_the_scaled_mean_crosses_at_most_a_hair_early(size: int, total: int, mean: float) -> None:
    """Where the integer form says crossed and the float one does not, the total is
    within two scaled units a entry of the limit: the full check runs, says no, and
    nothing else changes."""
    if total * MEAN_SCALE > scaled_mean_limit(mean) * size:
        assert Fraction(total) > Fraction(mean) * size - Fraction(2 * size, MEAN_SCALE)


def test_a_guard_works_out_its_slot_limit_from_the_same_float_product() -> None:
    guard = WriteGuard(lambda: False, 1, 5, 2.0, 0.8)
    for capacity in (8, 1024, 1 << 20, 3):
        product = 0.8 * capacity
        assert all(
            (count > product) == (count > guard.slot_limit(capacity))
            for count in range(int(product) - 2, int(product) + 3)
        )
    assert (guard.mean_num, guard.mean_den) == (2, 1) and guard.most == 5


@given(
    st.integers(min_value=0, max_value=2**32 - 1),
    st.integers(min_value=0, max_value=2**40),
    means,
    st.integers(min_value=-3, max_value=3),
)
def test_the_mean_ratio_never_misses_a_crossing(
    size: int, base: int, mean: float, nudge: int
) -> None:
    num, den = mean_ratio(mean)
    product = mean * size
    around = int(min(product, 2.0**62)) if math.isfinite(product) else base
    for total in {base, max(0, around + nudge)}:
        if total > product:
            assert total * den > num * size, (total, size, mean)


@given(st.integers(min_value=-(2**20), max_value=2**20), st.integers(min_value=0, max_value=20))
def test_a_small_mean_is_compared_exactly(num: int, shift: int) -> None:
    """Means with a small ratio (the defaults, 7.0 and 3.0, and any n / 2**k) are compared
    exactly: the integer form crosses exactly where the float comparison does."""
    mean = num / 2**shift
    got_num, got_den = mean_ratio(mean)
    assert got_num / got_den == mean and got_den <= 2**20
    for size in (0, 1, 3, 1000, 123_457, 2**31 - 1):
        limit = mean * size
        for total in (math.floor(limit) - 1, math.floor(limit), math.floor(limit) + 1):
            assert (total > limit) == (total * got_den > got_num * size)


def test_other_means_fall_back_to_the_scaled_form() -> None:
    assert mean_ratio(0.1) == (scaled_mean_limit(0.1), MEAN_SCALE)
    assert mean_ratio(math.inf) == (scaled_mean_limit(math.inf), MEAN_SCALE)
    assert mean_ratio(7.0) == (7, 1) and mean_ratio(1.5) == (3, 2)
