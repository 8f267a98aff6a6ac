"""Deterministic hash functions for the maps.

Python's own ``hash()`` is unusable here: string hashes change with ``PYTHONHASHSEED`` and
``hash(i) == i`` for small ints, so the physical layout would differ between processes and
sequential int keys would never collide in an instructive way. The engine therefore hashes
keys itself. Three functions are provided; :data:`DEFAULT_HASH` names the default.

``"crc32"`` (the default, unseeded, 32 bits)
    str: the CRC-32 of the key's UTF-8 bytes, ``zlib.crc32(key.encode())``, and nothing
    else, so anyone can check a home slot by hand: ``crc32(b"apple") % capacity``. bytes:
    the CRC-32 started from a tag value, so ``b"a"`` and ``"a"`` differ. int: the low 32
    bits of the murmur3 64-bit finaliser (``fmix64``) of the value folded to 64 bits, so
    ``1, 2, 3`` land far apart. Cost: two C calls for a str, O(len(key)); no big-int
    arithmetic, which is what makes it the cheapest of the three in pure Python. (The
    compiled build computes an int's hash in 32-bit halves instead,
    :func:`fmix64_low32`: the same values, in machine ints.)
    Everyday keys spread well: CRC-32 is linear over GF(2), and keys that differ in a few
    characters (``key0000001``, ``key0000002``, ...) get hashes that differ by XORs of
    fixed, well-mixed masks. Numbered keys collide in the low bits less often than random
    hashes would, random ones (UUIDs) as often; every short string over a small alphabet
    (all three-letter words) collides somewhat more (``docs/engine.md`` has the
    measurements). Chaining takes its group from the top bits of these 32.
    **Attackable.** The same linearity lets anyone solve a small linear system for
    printable keys with any chosen CRC (:mod:`engine.maps.adversarial` does this), so keys
    that share a home at every table size are easy to make.

``"fast"`` (unseeded, 64 bits; the default of snapshot format v1)
    str and bytes: CRC-32 as above, scrambled by a 32-bit bijection (multiply by an odd
    constant, xor the high half into the low half), then multiplied by an odd 64-bit
    constant to fill the top bits. int: ``fmix64`` of the folded value. Kept so that
    maps saved with it load and behave exactly as before. A call costs about 2.5-3x a
    crc32 call (big-int multiplications), and only crc32 is inlined in the maps' hot
    paths, so a replay takes about 1.4x as long. Attackable the same way: every
    step after CRC-32 is a public bijection, so the crafted CRC only needs the scramble
    undone first; ``fmix64`` is a public bijection too.

``"keyed"`` (seeded, 64 bits)
    BLAKE2b with a 16-byte secret key (the seed) and an 8-byte digest, personalised by key
    type. Without the seed, crafting colliding keys is as hard as breaking keyed BLAKE2b, so
    low-bit flooding attacks are defeated. Cost: about 5-10x a crc32 call, about 2x per
    replayed row. The seed is part of the map's state (``HashSpec``) so layouts stay
    reproducible when the seed is known.

Every function returns an int in ``[0, 2**bits)`` (:data:`HASH_BITS`). Maps take the low
bits as the home index and the top bits as secondary hash (chaining groups).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final
from zlib import crc32

from engine.errors import UnsupportedKeyError
from engine.records import FrozenRecord, interpreted

if TYPE_CHECKING:
    from mypy_extensions import i64  # an int at run time; a machine int when compiled

__all__ = [
    "DEFAULT_HASH",
    "HASH_BITS",
    "HASH_FUNCTIONS",
    "MASK64",
    "UNSEEDED",
    "HashFunction",
    "HashSpec",
    "crc32_hash",
    "fast_hash",
    "fmix64",
    "fmix64_inverse",
    "fmix64_low32",
    "keyed_hash",
    "make_hash_function",
    "scramble32_inverse",
]

MASK64 = (1 << 64) - 1
_BYTES_TAG = 0x5EED_B17E  # initial CRC value for bytes keys, so b"a" and "a" differ
_SPREAD = 0x9E3779B97F4A7C15  # odd: a bijection on every low-bit window, mixes upward
_MIX32 = 0x9E3779B1  # odd: with the xor-shift below, a bijection of the 32-bit CRC
_MIX32_INV = pow(_MIX32, -1, 1 << 32)
_FMIX_C1: Final = 0xFF51AFD7ED558CCD
_FMIX_C2: Final = 0xC4CEB9FE1A85EC53
# Their 32-bit halves, as literals: compiled, a Final literal is a constant in the code
_FMIX_C1_HI: Final = 0xFF51AFD7
_FMIX_C1_LO: Final = 0xED558CCD
_FMIX_C2_HI: Final = 0xC4CEB9FE
_FMIX_C2_LO: Final = 0x1A85EC53
_FMIX_C1_INV = pow(_FMIX_C1, -1, 1 << 64)
_FMIX_C2_INV = pow(_FMIX_C2, -1, 1 << 64)

HashFunction = Callable[[Any], int]


def fmix64(x: int) -> int:
    """The murmur3 64-bit finaliser: a bijection on 64-bit ints with full avalanche. O(1)."""
    x ^= x >> 33
    x = (x * _FMIX_C1) & MASK64
    x ^= x >> 33
    x = (x * _FMIX_C2) & MASK64
    return x ^ (x >> 33)


_LOW32: Final = 0xFFFFFFFF
_LOW16: Final = 0xFFFF


#: Whether this module runs compiled (mypyc): a compiled function has no ``__code__``.
_COMPILED: Final = not hasattr(fmix64, "__code__")


def _times_mod32(a: i64, c: i64) -> i64:
    """``(a * c) mod 2**32`` for ``a, c < 2**32``, no product reaching 2**48. O(1)."""
    return ((a & _LOW16) * c + (((a >> 16) * c & _LOW16) << 16)) & _LOW32


def _times_mod64(hi: i64, lo: i64, c_hi: i64, c_lo: i64) -> tuple[i64, i64]:
    """``(x * c) mod 2**64`` in 32-bit halves, ``x = hi:lo`` and ``c = c_hi:c_lo``, with no
    intermediate value reaching 2**50 (``lo`` is split in 16-bit parts). O(1)."""
    lo0 = lo & _LOW16
    mid = (lo >> 16) * c_lo
    low = lo0 * c_lo + ((mid & _LOW16) << 16)  # lo * c_lo, but for mid's top bits
    high = (low >> 32) + (mid >> 16) + _times_mod32(hi, c_lo) + _times_mod32(lo, c_hi)
    return high & _LOW32, low & _LOW32


def fmix64_low32(x: int) -> int:
    """``fmix64(x) & 0xFFFFFFFF`` for ``0 <= x < 2**64``, the int branch of the default hash,
    computed in 32-bit halves so that every value stays below 2**50. In the pure build that
    is about three times the work of :func:`fmix64` and the default hash uses
    :func:`fmix64`; compiled, the halves are machine ints (``i64``) and this runs about six
    times faster than :func:`fmix64`, whose 64-bit products leave mypyc's machine ints for
    Python's big ints. Tests hold the two equal in both builds. O(1)."""
    hi: i64 = x >> 32
    lo: i64 = x & _LOW32
    lo ^= hi >> 1  # x ^= x >> 33: only the low half changes
    hi, lo = _times_mod64(hi, lo, _FMIX_C1_HI, _FMIX_C1_LO)
    lo ^= hi >> 1
    hi, lo = _times_mod64(hi, lo, _FMIX_C2_HI, _FMIX_C2_LO)
    return lo ^ (hi >> 1)


def _unshift_xor(x: int, shift: int) -> int:
    result = x
    for _ in range(64 // shift + 1):
        result = x ^ (result >> shift)
    return result & MASK64


def scramble32_inverse(x: int) -> int:
    """The CRC-32 value whose 32-bit scrambling (inside :func:`fast_hash`) is ``x``."""
    x &= 0xFFFFFFFF
    x ^= x >> 16  # xor-shift by half the width is its own inverse
    return (x * _MIX32_INV) & 0xFFFFFFFF


def fmix64_inverse(h: int) -> int:
    """Invert :func:`fmix64`: the int whose fast hash is ``h``. Shows why it is attackable."""
    x = _unshift_xor(h & MASK64, 33)
    x = (x * _FMIX_C2_INV) & MASK64
    x = _unshift_xor(x, 33)
    x = (x * _FMIX_C1_INV) & MASK64
    return _unshift_xor(x, 33)


def _fold_int(key: int) -> int:
    """Fold an int of any size (negative too) into 64 bits, deterministically."""
    if key >= 0 and key >> 64 == 0:  # compiled, 0 <= key <= MASK64 compares big ints
        return key
    folded = 0
    value = key & ((1 << max(64, key.bit_length() + 1)) - 1)  # two's complement
    while value:
        folded ^= value & MASK64
        value >>= 64
    return folded ^ (0x9E3779B97F4A7C15 if key < 0 else 0)


def fast_hash(key: Any) -> int:
    """Unseeded deterministic hash (see module docstring). O(len(key))."""
    if type(key) is str:
        try:
            data = key.encode()
        except UnicodeEncodeError:  # lone surrogates
            data = key.encode("utf-8", "surrogatepass")
        x = (crc32(data) * _MIX32) & 0xFFFFFFFF
        return ((x ^ (x >> 16)) * _SPREAD) & MASK64
    if type(key) is bytes:
        x = (crc32(key, _BYTES_TAG) * _MIX32) & 0xFFFFFFFF
        return ((x ^ (x >> 16)) * _SPREAD) & MASK64
    if isinstance(key, int):
        x = _fold_int(int(key))
        x ^= x >> 33
        x = (x * _FMIX_C1) & MASK64
        x ^= x >> 33
        x = (x * _FMIX_C2) & MASK64
        return x ^ (x >> 33)
    raise UnsupportedKeyError(key)


def crc32_hash(key: Any) -> int:
    """The default hash: CRC-32 of a str's UTF-8 bytes (see the module docstring), 32
    bits. O(len(key))."""
    if type(key) is str:
        try:
            return crc32(key.encode())
        except UnicodeEncodeError:  # lone surrogates
            return crc32(key.encode("utf-8", "surrogatepass"))
    if type(key) is bytes:
        return crc32(key, _BYTES_TAG)
    if isinstance(key, int):
        if _COMPILED:
            return fmix64_low32(_fold_int(int(key)))
        return fmix64(_fold_int(int(key))) & _LOW32
    raise UnsupportedKeyError(key)


def _key_bytes(key: Any) -> tuple[bytes, bytes]:
    """The bytes a keyed hash digests and the personalisation naming the key type."""
    if type(key) is str:
        return key.encode("utf-8", "surrogatepass"), b"str"
    if type(key) is bytes:
        return key, b"bytes"
    if isinstance(key, int):
        value = int(key)
        length = (value.bit_length() + 8) // 8
        return value.to_bytes(length, "little", signed=True), b"int"
    raise UnsupportedKeyError(key)


def keyed_hash(seed: bytes) -> HashFunction:
    """A BLAKE2b hash keyed with ``seed`` (16 bytes). O(len(key)) per call."""
    if len(seed) != 16:
        raise ValueError("a keyed hash seed must be 16 bytes")
    from hashlib import blake2b  # OpenSSL loads with hashlib: only for keyed maps

    from_bytes = int.from_bytes

    def keyed(key: Any) -> int:
        data, person = _key_bytes(key)
        return from_bytes(blake2b(data, digest_size=8, key=seed, person=person).digest(), "little")

    return keyed


@interpreted
class HashSpec(FrozenRecord):
    """Which hash function a map uses, and its seed: part of the map's state.

    ``seed`` is a hex string of 16 bytes for ``"keyed"`` and ``None`` for the unseeded
    ``"crc32"`` and ``"fast"``.
    """

    name: str = "crc32"
    seed: str | None = None

    @classmethod
    def create(cls, name: str = "crc32", seed: str | bytes | int | None = None) -> HashSpec:
        """Validate a name and normalise a seed; ``keyed`` without a seed draws a random one."""
        if name not in HASH_FUNCTIONS:
            known = ", ".join(sorted(HASH_FUNCTIONS))
            raise ValueError(f"unknown hash function {name!r} (known: {known})")
        if name in UNSEEDED:
            if seed is not None:
                raise ValueError(f"the {name!r} hash function takes no seed")
            return cls(name, None)
        return cls(name, _normalise_seed(seed))

    @property
    def bits(self) -> int:
        """How many bits the function's values have: 32 for crc32, 64 for the others."""
        return HASH_BITS[self.name]

    def function(self) -> HashFunction:
        """The callable this spec names."""
        return make_hash_function(self.name, self.seed)

    def to_dict(self) -> dict[str, str | None]:
        return {"name": self.name, "seed": self.seed}


def _normalise_seed(seed: str | bytes | int | None) -> str:
    if seed is None:
        return os.urandom(16).hex()  # what secrets.token_bytes does
    if isinstance(seed, bytes):
        raw = seed
    elif isinstance(seed, int):
        if seed < 0:
            raise ValueError("an int seed must not be negative")
        from hashlib import blake2b

        raw = blake2b(
            seed.to_bytes(max(1, (seed.bit_length() + 7) // 8), "little"), digest_size=16
        ).digest()
    else:
        try:
            raw = bytes.fromhex(seed)
        except ValueError:
            raise ValueError("a keyed hash seed string must be 32 hex digits") from None
    if len(raw) != 16:
        raise ValueError("a keyed hash seed must be 16 bytes (32 hex digits)")
    return raw.hex()


def make_hash_function(name: str, seed: str | None = None) -> HashFunction:
    """Build the hash callable for a spec's ``name`` and hex ``seed``."""
    if name == "crc32":
        return crc32_hash
    if name == "fast":
        return fast_hash
    if name == "keyed":
        if seed is None:
            raise ValueError("the 'keyed' hash function needs a seed")
        return keyed_hash(bytes.fromhex(seed))
    raise ValueError(f"unknown hash function {name!r}")


HASH_FUNCTIONS: dict[str, str] = {
    "crc32": "CRC-32 of the UTF-8 bytes, unseeded, deterministic; attackable by crafted keys",
    "fast": "scrambled CRC-32 / fmix64, 64 bits, unseeded (snapshot v1 default); attackable",
    "keyed": "BLAKE2b keyed with a 16-byte seed; resists crafted-key flooding",
}
#: The hash a map uses unless told otherwise.
DEFAULT_HASH = "crc32"
#: The functions that take no seed.
UNSEEDED = frozenset({"crc32", "fast"})
#: The width of each function's values, in bits.
HASH_BITS: dict[str, int] = {"crc32": 32, "fast": 64, "keyed": 64}
