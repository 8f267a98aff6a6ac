"""Craft keys that collide in the low bits of the unseeded hashes (``"crc32"``, the
default, and ``"fast"``).

The crc32 hash of a string is its CRC-32, so the low ``b`` bits of the hash are the low
``b`` bits of the CRC. The fast hash is ``scramble(crc32(utf8)) * K mod 2**64`` where
``scramble`` is a public 32-bit bijection and K is odd, so its low ``b`` bits are fixed by
the low ``b`` bits of ``scramble(crc)``. To craft a key:

1. pick a hash value (crc32) or scrambled value (fast) with the wanted low bits and random
   high bits, so the keys still differ in their top bits (the chaining groups);
2. for fast, undo the scramble to get the CRC-32 the key must have;
3. CRC-32 is affine over GF(2): for messages of one length, ``crc(m ^ e) = crc(m) ^ crc(e) ^
   crc(0)``. The key is a printable template in which some letters are flipped between
   lower and upper case (one bit, 0x20); each flip changes the CRC by a known mask, so the
   flips that give the wanted CRC solve a 32-equation linear system.

Every such key lands on the same home slot at every table size up to ``2**b``. The keyed
hash has none of this structure, which is why it defeats these keys (``docs/engine.md``).
"""

from __future__ import annotations

import random
from zlib import crc32

from engine.maps.hashing import DEFAULT_HASH, scramble32_inverse

__all__ = ["MAX_COLLISION_BITS", "colliding_keys"]

MAX_COLLISION_BITS = 32
_TOGGLES = 40  # letters that may flip case: 32 equations leave about 8 free choices
_PER_TEMPLATE = 64  # keys drawn from one template before a fresh one is made


def _same(value: int) -> int:
    return value


# The CRC-32 a key needs for the hash's low 32 bits (crc32) or its scrambled value (fast).
_CRC_FOR = {"crc32": _same, "fast": scramble32_inverse}


class _CrcSolver:
    """Gaussian elimination over GF(2) for one template: which case flips give a CRC."""

    def __init__(self, template: bytes, start: int) -> None:
        self.template = template
        self.start = start
        self.base = crc32(template)
        zero = crc32(bytes(len(template)))
        self.pivots: dict[int, tuple[int, int]] = {}  # pivot bit -> (value, flip combination)
        self.null_basis: list[int] = []
        for j in range(len(template) - start):
            flip = bytearray(len(template))
            flip[start + j] = 0x20
            value, combo = crc32(bytes(flip)) ^ zero, 1 << j
            value, combo = self._reduce(value, combo)
            if value:
                self.pivots[value.bit_length() - 1] = (value, combo)
            else:
                self.null_basis.append(combo)

    def _reduce(self, value: int, combo: int) -> tuple[int, int]:
        for bit in sorted(self.pivots, reverse=True):
            if value >> bit & 1:
                pivot_value, pivot_combo = self.pivots[bit]
                value ^= pivot_value
                combo ^= pivot_combo
        return value, combo

    @property
    def full_rank(self) -> bool:
        return len(self.pivots) == 32

    def key_with_crc(self, crc: int, extra: int) -> str:
        """The template with case flips giving CRC ``crc``; ``extra`` picks a null-space mix."""
        left, combo = self._reduce(crc ^ self.base, 0)
        assert left == 0, "full-rank solver must reach every CRC"
        for i, vector in enumerate(self.null_basis):
            if extra >> i & 1:
                combo ^= vector
        raw = bytearray(self.template)
        for j in range(len(raw) - self.start):
            if combo >> j & 1:
                raw[self.start + j] ^= 0x20
        return raw.decode()


def colliding_keys(
    count: int, bits: int, *, seed: int = 0, prefix: str = "adv-", hash: str = DEFAULT_HASH
) -> list[str]:
    """``count`` distinct printable keys whose ``hash`` values (``"crc32"`` or ``"fast"``)
    agree in the low ``bits`` bits.

    Deterministic for a ``seed``; the top bits of the hashes still differ (unless
    ``bits == 32``, when the keys collide completely). O(count) solver steps.
    """
    if hash not in _CRC_FOR:
        raise ValueError(f"keys can only be crafted for the unseeded hashes, not {hash!r}")
    crc_for = _CRC_FOR[hash]
    if not 1 <= bits <= MAX_COLLISION_BITS:
        raise ValueError(f"bits must be between 1 and {MAX_COLLISION_BITS}")
    if count < 0:
        raise ValueError("count must not be negative")
    rng = random.Random(seed)
    low = rng.getrandbits(bits)
    keys: list[str] = []
    seen: set[str] = set()
    while len(keys) < count:
        letters = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(_TOGGLES))
        template = f"{prefix}{letters}".encode()
        solver = _CrcSolver(template, len(template) - _TOGGLES)
        if not solver.full_rank:
            continue
        for _ in range(_PER_TEMPLATE):
            wanted = (rng.getrandbits(32 - bits) << bits | low) if bits < 32 else low
            key = solver.key_with_crc(crc_for(wanted), rng.getrandbits(len(solver.null_basis)))
            if key not in seen:
                seen.add(key)
                keys.append(key)
                if len(keys) == count:
                    break
    return keys
