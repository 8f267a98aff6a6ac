"""Craft keys that collide in the low bits of the default ``"fast"`` hash.

The fast hash of a string is ``crc32(utf8) * K mod 2**64`` with K odd, so its low ``b`` bits
are a bijection of CRC-32's low ``b`` bits. CRC-32 is affine over GF(2): for messages of one
length, ``crc(m ^ e) = crc(m) ^ crc(e) ^ crc(0)``. Each key here is a fixed printable
template in which some letters are flipped between lower and upper case (one bit, 0x20);
each flip changes the CRC by a known mask, so choosing which letters to flip is a linear
system with ``b`` equations. Every solution is a key whose table index is the same at every
table size up to ``2**b``. The keyed hash has no such structure, which is why it defeats
these keys (see ``docs/engine.md``).
"""

from __future__ import annotations

import random
from zlib import crc32

__all__ = ["MAX_COLLISION_BITS", "colliding_keys"]

MAX_COLLISION_BITS = 32
_FREE = 24  # extra toggles beyond the equations: up to 2**24 keys per template


def _solve(columns: list[int], target: int, bits: int) -> tuple[int, list[int]] | None:
    """Solve ``XOR of columns[j] for chosen j == target`` over the low ``bits`` bits.

    Returns one solution (a bit mask over columns) and a basis of the null space.
    """
    mask = (1 << bits) - 1
    pivots: dict[int, tuple[int, int]] = {}
    null_basis: list[int] = []
    for j, col in enumerate(columns):
        value, combo = col & mask, 1 << j
        for bit in sorted(pivots, reverse=True):
            if value >> bit & 1:
                pv, pc = pivots[bit]
                value ^= pv
                combo ^= pc
        if value:
            pivots[value.bit_length() - 1] = (value, combo)
        else:
            null_basis.append(combo)
    value, combo = target & mask, 0
    for bit in sorted(pivots, reverse=True):
        if value >> bit & 1:
            pv, pc = pivots[bit]
            value ^= pv
            combo ^= pc
    if value:
        return None
    return combo, null_basis


def colliding_keys(count: int, bits: int, *, seed: int = 0, prefix: str = "adv-") -> list[str]:
    """``count`` distinct printable keys whose fast hashes agree in the low ``bits`` bits.

    Deterministic for a ``seed``. O(count * (bits + 24)).
    """
    if not 1 <= bits <= MAX_COLLISION_BITS:
        raise ValueError(f"bits must be between 1 and {MAX_COLLISION_BITS}")
    if count < 0:
        raise ValueError("count must not be negative")
    rng = random.Random(seed)
    toggles = bits + _FREE
    keys: list[str] = []
    target: int | None = None
    while len(keys) < count:
        letters = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(toggles))
        template = f"{prefix}{letters}".encode()
        start = len(template) - toggles
        zero = crc32(bytes(len(template)))
        base = crc32(template)
        columns = []
        for j in range(toggles):
            flip = bytearray(len(template))
            flip[start + j] = 0x20
            columns.append(crc32(bytes(flip)) ^ zero)
        if target is None:
            target = base  # the first template's own low bits: every later key matches it
        solved = _solve(columns, target ^ base, bits)
        if solved is None:
            continue
        particular, null_basis = solved
        for n in range(1 << len(null_basis)):
            choice = particular
            for i, vector in enumerate(null_basis):
                if n >> i & 1:
                    choice ^= vector
            raw = bytearray(template)
            for j in range(toggles):
                if choice >> j & 1:
                    raw[start + j] ^= 0x20
            keys.append(raw.decode())
            if len(keys) == count:
                break
    return keys
