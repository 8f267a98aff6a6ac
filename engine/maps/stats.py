"""Helpers for the count histograms the maps keep (index = length, value = count)."""

from __future__ import annotations

from itertools import zip_longest

__all__ = [
    "hist_add",
    "hist_count",
    "hist_max",
    "hist_merge",
    "hist_merged_pairs",
    "hist_pairs",
    "hist_sum",
]


def hist_add(hist: list[int], index: int, amount: int = 1) -> None:
    """Add ``amount`` at ``index``, growing the list as needed. Amortised O(1)."""
    if index >= len(hist):
        hist.extend([0] * (index - len(hist) + 1))
    hist[index] += amount


def hist_count(hist: list[int]) -> int:
    """Number of samples. O(len(hist))."""
    return sum(hist)


def hist_sum(hist: list[int]) -> int:
    """Sum of the sampled lengths. O(len(hist))."""
    return sum(i * c for i, c in enumerate(hist))


def hist_max(hist: list[int]) -> int:
    """Largest sampled length, 0 when empty. O(len(hist))."""
    for i in range(len(hist) - 1, -1, -1):
        if hist[i]:
            return i
    return 0


def hist_pairs(hist: list[int]) -> list[list[int]]:
    """``[[length, count], ...]`` for the non-zero entries, shortest first."""
    return [[i, c] for i, c in enumerate(hist) if c]


def hist_merge(*hists: list[int]) -> list[int]:
    """Element-wise sum of histograms."""
    out: list[int] = []
    for hist in hists:
        for i, c in enumerate(hist):
            if c:
                hist_add(out, i, c)
    return out


def hist_merged_pairs(hists: list[list[int]]) -> list[list[int]]:
    """``hist_pairs(hist_merge(*hists))``, with the sums taken in C: one pass over the
    longest histogram's length."""
    merged = map(sum, zip_longest(*hists, fillvalue=0))
    return [[i, c] for i, c in enumerate(merged) if c]
