"""The deterministic hash functions and the crafted-key attack on the unseeded ones."""

from __future__ import annotations

import itertools
import math
import random
import zlib

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

import engine
from engine import (
    HashSpec,
    RobinHoodMap,
    UnsupportedKeyError,
    crc32_hash,
    fast_hash,
    keyed_hash,
)
from engine.maps import hashing as H
from engine.maps.adversarial import colliding_keys

MASK64 = (1 << 64) - 1
SEED_A = bytes(range(16))
SEED_B = bytes(range(1, 17))

# --------------------------------------------------------------------------- independent models


def _scramble32(crc: int) -> int:
    """The documented 32-bit bijection: odd multiply, then xor the high half into the low."""
    x = (crc * H._MIX32) & 0xFFFFFFFF
    return x ^ (x >> 16)


def _model_str_hash(s: str) -> int:
    data = s.encode("utf-8", "surrogatepass")
    return (_scramble32(zlib.crc32(data)) * H._SPREAD) % 2**64


def _model_bytes_hash(b: bytes) -> int:
    return (_scramble32(zlib.crc32(b, H._BYTES_TAG)) * H._SPREAD) % 2**64


def _murmur_fmix64(x: int) -> int:
    """MurmurHash3's fmix64 written out from its reference constants."""
    x ^= x >> 33
    x = (x * 0xFF51AFD7ED558CCD) % 2**64
    x ^= x >> 33
    x = (x * 0xC4CEB9FE1A85EC53) % 2**64
    return x ^ (x >> 33)


def _bitwise_crc32(data: bytes) -> int:
    """CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320) one bit at a time."""
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0xEDB88320 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


def _expected_distinct(balls: int, bins: int) -> tuple[float, float]:
    """Mean and standard deviation of the number of occupied bins (uniform throws)."""
    q1 = (1 - 1 / bins) ** balls
    q2 = (1 - 2 / bins) ** balls
    mean = bins * (1 - q1)
    var = bins * q1 + bins * (bins - 1) * q2 - (bins * q1) ** 2
    return mean, math.sqrt(var)


# --------------------------------------------------------------------------- crc32 hash (default)


@given(st.text(max_size=40))
def test_crc32_hash_of_str_is_the_crc_of_its_utf8(s: str) -> None:
    assert crc32_hash(s) == zlib.crc32(s.encode("utf-8", "surrogatepass"))
    assert 0 <= crc32_hash(s) < 2**32


@given(st.binary(max_size=40))
def test_crc32_hash_of_bytes_starts_from_the_bytes_tag(b: bytes) -> None:
    assert crc32_hash(b) == zlib.crc32(b, H._BYTES_TAG)


@given(st.integers(min_value=0, max_value=MASK64))
def test_crc32_hash_of_64_bit_ints_is_the_low_half_of_fmix64(i: int) -> None:
    assert crc32_hash(i) == _murmur_fmix64(i) % 2**32


_CARRY_EDGES = [
    0,
    1,
    2**16 - 1,
    2**16,
    2**32 - 1,
    2**32,
    2**33 - 1,
    2**48 - 1,
    2**63,
    MASK64,
    0xFFFFFFFF00000000,
    0x00000000FFFF0000,
    0x5555555555555555,
    0xAAAAAAAAAAAAAAAA,
]


@given(st.integers(min_value=0, max_value=MASK64))
@example(0)
@example(MASK64)
def test_fmix64_low32_is_the_low_half_of_fmix64(x: int) -> None:
    """The halves formulation (what the compiled build's default hash runs) against the
    64-bit one and the reference constants, in whichever build runs the tests."""
    assert H.fmix64_low32(x) == H.fmix64(x) % 2**32 == _murmur_fmix64(x) % 2**32


@pytest.mark.parametrize("x", _CARRY_EDGES)
def test_fmix64_low32_at_the_carries(x: int) -> None:
    for y in (x, x ^ 1, MASK64 - x):
        assert H.fmix64_low32(y) == _murmur_fmix64(y) % 2**32


def test_the_default_hash_takes_the_halves_path_exactly_when_compiled() -> None:
    from engine.build import build_info

    compiled = build_info()["modules"]["engine.maps.hashing"] == "compiled"  # type: ignore[index]
    assert H._COMPILED is compiled


@pytest.mark.parametrize("key", [-1, -(2**63), -(2**64), 2**64, 2**64 + 1, 2**200 + 12345, True])
def test_crc32_hash_of_any_int_is_the_low_half_of_fmix64_of_its_fold(key: int) -> None:
    assert crc32_hash(key) == _murmur_fmix64(H._fold_int(int(key))) % 2**32


def test_crc32_hash_of_everyday_strings_can_be_checked_by_hand() -> None:
    assert crc32_hash("apple") == _bitwise_crc32(b"apple")  # the textbook CRC-32
    for s in ["", "a", "key0000001", "ünïcödé", "日本語", "\U0001f600", "\ud800"]:
        assert crc32_hash(s) == zlib.crc32(s.encode("utf-8", "surrogatepass"))
    assert crc32_hash("\ud800") != crc32_hash("\udc00")
    assert crc32_hash("a") != crc32_hash(b"a")
    assert crc32_hash(True) == crc32_hash(1)


@pytest.mark.parametrize("family", ["key{:07d}", "K{}", "{}", "user:{}", "{:08x}"])
def test_crc32_hash_spreads_everyday_key_families_like_random(family: str) -> None:
    """Keys that differ in a few characters spread over the low bits at least as well
    as random values would (CRC-32's linearity spreads such families evenly)."""
    hashes = [crc32_hash(family.format(i)) for i in range(1024)]
    distinct_low = len({h & 1023 for h in hashes})
    mean, sd = _expected_distinct(1024, 1024)
    assert distinct_low >= mean - 5 * sd, (distinct_low, mean, sd)
    # and neighbouring keys do not become neighbouring slots (no runs to probe through)
    steps = [abs((a & 1023) - (b & 1023)) for a, b in itertools.pairwise(hashes)]
    assert sum(step <= 1 for step in steps) <= 16, steps


@pytest.mark.parametrize("key", [1.5, None, (1, 2), bytearray(b"x"), object()])
def test_crc32_hash_rejects_unsupported_keys(key: object) -> None:
    with pytest.raises(UnsupportedKeyError):
        crc32_hash(key)


# --------------------------------------------------------------------------- fast hash (v1)


@given(st.text(max_size=40))
def test_fast_hash_of_str_matches_the_documented_construction(s: str) -> None:
    assert fast_hash(s) == fast_hash(s) == _model_str_hash(s)
    assert 0 <= fast_hash(s) <= MASK64


@given(st.binary(max_size=40))
def test_fast_hash_of_bytes_matches_the_documented_construction(b: bytes) -> None:
    assert fast_hash(b) == _model_bytes_hash(b)


@given(st.integers(min_value=0, max_value=MASK64))
def test_fast_hash_of_64_bit_ints_is_fmix64(i: int) -> None:
    assert fast_hash(i) == _murmur_fmix64(i) == H.fmix64(i)


def test_fast_hash_of_everyday_strings() -> None:
    for s in ["", "a", "apple", "key0000001", "ünïcödé", "日本語", "\U0001f600"]:
        assert fast_hash(s) == _model_str_hash(s)


def test_scramble_inverse_undoes_the_scramble() -> None:
    rng = random.Random(7)
    for _ in range(1000):
        crc = rng.getrandbits(32)
        assert H.scramble32_inverse(_scramble32(crc)) == crc


def test_fast_hash_mixes_sequential_ints() -> None:
    hashes = [fast_hash(i) for i in range(1024)]
    # fmix64 fixes 0 (0 -> 0); every other small int must move.
    assert all(h != i for i, h in enumerate(hashes) if i)
    assert all(h > 2**32 for h in hashes[1:])  # and lands far away, not near itself
    assert len(set(hashes)) == 1024  # a bijection on 64-bit ints
    distinct_low = len({h & 1023 for h in hashes})
    mean, sd = _expected_distinct(1024, 1024)  # about 647 +- 12 for random values
    assert distinct_low >= 600
    assert abs(distinct_low - mean) <= 5 * sd, (distinct_low, mean, sd)


def test_fast_hash_spreads_sequential_strings() -> None:
    hashes = [fast_hash(f"key{i:07d}") for i in range(1024)]
    distinct_low = len({h & 1023 for h in hashes})
    mean, sd = _expected_distinct(1024, 1024)
    assert abs(distinct_low - mean) <= 5 * sd, (distinct_low, mean, sd)


@given(st.integers(min_value=0, max_value=MASK64))
def test_fmix64_inverse_inverts(x: int) -> None:
    assert H.fmix64_inverse(H.fmix64(x)) == x
    assert H.fmix64(H.fmix64_inverse(x)) == x
    assert fast_hash(H.fmix64_inverse(x)) == x  # ints with any chosen hash are easy to find


@pytest.mark.parametrize(
    "key",
    [-1, -(2**63), -(2**64), 2**64, 2**64 + 1, 2**200 + 12345, -(2**300) - 7, 10**100],
)
def test_big_and_negative_ints_hash(key: int) -> None:
    h = fast_hash(key)
    assert 0 <= h <= MASK64
    assert fast_hash(key) == h
    assert h != fast_hash(-key)
    keyed = keyed_hash(SEED_A)
    assert 0 <= keyed(key) <= MASK64
    m = RobinHoodMap()
    m[key] = "v"
    assert m[key] == "v"


def test_big_ints_spread_among_themselves() -> None:
    keys = [2**64 + k for k in range(256)]
    keys += [-k for k in range(1, 257)]
    keys += [3**k for k in range(41, 297)]
    assert len({fast_hash(k) for k in keys}) == len(keys)


def test_str_and_bytes_of_the_same_text_differ() -> None:
    for text in ["a", "", "apple", "key0001"]:
        assert fast_hash(text) != fast_hash(text.encode())
        assert keyed_hash(SEED_A)(text) != keyed_hash(SEED_A)(text.encode())


def test_bool_hashes_like_the_equal_int() -> None:
    # True == 1 in every mapping, so they must hash alike.
    assert fast_hash(True) == fast_hash(1)
    assert keyed_hash(SEED_A)(False) == keyed_hash(SEED_A)(0)


def test_lone_surrogates_hash() -> None:
    for s in ["\ud800", "a\udfffb", "\udc80\ud800"]:
        assert fast_hash(s) == _model_str_hash(s)
        assert 0 <= keyed_hash(SEED_A)(s) <= MASK64
    assert fast_hash("\ud800") != fast_hash("\udc00")
    m = RobinHoodMap()
    m["\ud800"] = 1
    assert m["\ud800"] == 1


@pytest.mark.parametrize("key", [1.5, None, (1, 2), frozenset(), bytearray(b"x"), 2j, object()])
def test_unsupported_keys_raise(key: object) -> None:
    with pytest.raises(UnsupportedKeyError) as info:
        fast_hash(key)
    assert isinstance(info.value, TypeError)
    assert isinstance(info.value, engine.EngineError)
    with pytest.raises(TypeError):
        keyed_hash(SEED_A)(key)
    for m in (engine.ChainingMap(), engine.RobinHoodMap(), engine.AdaptiveMap()):
        with pytest.raises(UnsupportedKeyError):
            m[key] = 1
        assert len(m) == 0


# --------------------------------------------------------------------------- keyed hash


SAMPLE_KEYS: list[object] = [
    *(f"k{i}" for i in range(100)),
    *(f"b{i}".encode() for i in range(100)),
    *range(-50, 50),
    2**80,
]


def test_keyed_hash_is_a_function_of_the_seed() -> None:
    a1, a2, b = keyed_hash(SEED_A), keyed_hash(SEED_A), keyed_hash(SEED_B)
    assert [a1(k) for k in SAMPLE_KEYS] == [a2(k) for k in SAMPLE_KEYS]
    differ = sum(a1(k) != b(k) for k in SAMPLE_KEYS)
    assert differ == len(SAMPLE_KEYS)
    assert len({a1(k) for k in SAMPLE_KEYS}) == len(SAMPLE_KEYS)


def test_keyed_maps_with_the_same_seed_have_the_same_layout() -> None:
    maps = [RobinHoodMap(hash="keyed", seed=SEED_A.hex()) for _ in range(2)]
    other = RobinHoodMap(hash="keyed", seed=SEED_B.hex())
    for m in [*maps, other]:
        for i, k in enumerate(SAMPLE_KEYS):
            m[k] = i
    assert maps[0].layout() == maps[1].layout()
    assert maps[0].layout()["slots"] != other.layout()["slots"]


def test_hashspec_keyed_without_seed_draws_a_random_seed() -> None:
    seeds = {HashSpec.create("keyed").seed for _ in range(5)}
    assert len(seeds) == 5
    for seed in seeds:
        assert seed is not None and len(bytes.fromhex(seed)) == 16
    maps = [RobinHoodMap(hash="keyed") for _ in range(2)]
    assert maps[0].hash_spec.seed != maps[1].hash_spec.seed


def test_hashspec_seed_forms_normalise() -> None:
    raw = bytes(range(100, 116))
    from_bytes = HashSpec.create("keyed", raw)
    from_hex = HashSpec.create("keyed", raw.hex())
    from_upper = HashSpec.create("keyed", raw.hex().upper())
    assert from_bytes == from_hex == from_upper
    assert from_bytes.seed == raw.hex()
    assert from_bytes.function()("x") == keyed_hash(raw)("x")
    as_int = HashSpec.create("keyed", 12345)
    assert as_int == HashSpec.create("keyed", 12345)
    assert as_int != HashSpec.create("keyed", 12346)
    assert as_int.seed is not None and len(bytes.fromhex(as_int.seed)) == 16
    assert HashSpec.create("keyed", 0).seed != HashSpec.create("keyed", 1).seed
    assert HashSpec.create() == HashSpec("crc32", None) == HashSpec()
    assert HashSpec.create("crc32").function() is crc32_hash
    assert HashSpec.create("fast").function() is fast_hash
    assert (HashSpec().bits, HashSpec("fast").bits, as_int.bits) == (32, 64, 64)
    assert as_int.to_dict() == {"name": "keyed", "seed": as_int.seed}


@pytest.mark.parametrize(
    ("name", "seed"),
    [
        ("keyed", "not hex at all"),
        ("keyed", "00" * 15),
        ("keyed", "00" * 17),
        ("keyed", b"\x00" * 15),
        ("keyed", b""),
        ("keyed", -1),
        ("fast", "00" * 16),
        ("fast", 3),
        ("crc32", "00" * 16),
        ("crc32", 3),
        ("sha1", None),
    ],
)
def test_bad_hash_specs_raise_value_error(name: str, seed: object) -> None:
    with pytest.raises(ValueError):
        HashSpec.create(name, seed)  # type: ignore[arg-type]


def test_keyed_hash_needs_a_16_byte_seed() -> None:
    for seed in (b"", b"short", bytes(17)):
        with pytest.raises(ValueError):
            keyed_hash(seed)


@pytest.mark.parametrize("seed", [2**256 - 1, 2**256, 2**1000], ids=["2^256-1", "2^256", "2^1000"])
def test_large_int_seeds_are_accepted_or_rejected_with_value_error(seed: int) -> None:
    """The config documents a seed as "32 hex digits or a non-negative int": any
    non-negative int must give a 16-byte seed, or at worst a ValueError (never another
    exception type)."""
    try:
        spec = HashSpec.create("keyed", seed)
    except ValueError:
        return
    assert spec.seed is not None and len(bytes.fromhex(spec.seed)) == 16


# --------------------------------------------------------------------------- crafted keys


UNSEEDED = {"crc32": (crc32_hash, 32), "fast": (fast_hash, 64)}


@pytest.mark.parametrize("name", sorted(UNSEEDED))
@pytest.mark.parametrize(("count", "bits"), [(600, 20), (200, 8), (64, 32), (100, 1)])
def test_colliding_keys_share_low_bits_under_the_unseeded_hashes(
    name: str, count: int, bits: int
) -> None:
    hashfn, width = UNSEEDED[name]
    keys = colliding_keys(count, bits, hash=name)
    assert len(keys) == count == len(set(keys))
    assert all(isinstance(k, str) and k.isascii() and k.isprintable() for k in keys)
    low = {hashfn(k) & ((1 << bits) - 1) for k in keys}
    assert len(low) == 1
    if bits <= 24:  # the top bits (the chaining groups) still vary
        assert len({hashfn(k) >> (width - 2) for k in keys}) == 4


def test_colliding_keys_default_to_the_default_hash() -> None:
    assert engine.DEFAULT_HASH == "crc32"
    assert colliding_keys(20, 12, seed=5) == colliding_keys(20, 12, seed=5, hash="crc32")
    with pytest.raises(ValueError, match="unseeded"):
        colliding_keys(5, 8, hash="keyed")


def test_colliding_keys_are_deterministic_per_seed() -> None:
    assert colliding_keys(50, 16, seed=3) == colliding_keys(50, 16, seed=3)
    assert set(colliding_keys(50, 16, seed=3)).isdisjoint(colliding_keys(50, 16, seed=4))


@pytest.mark.parametrize(("count", "bits"), [(5, 0), (5, 33), (-1, 8)])
def test_colliding_keys_validates_arguments(count: int, bits: int) -> None:
    with pytest.raises(ValueError):
        colliding_keys(count, bits)


def test_colliding_keys_spread_like_random_under_the_keyed_hash() -> None:
    keys = colliding_keys(600, 20)
    keyed = keyed_hash(SEED_A)
    for window in (8, 10):
        bins = 1 << window
        distinct = len({keyed(k) & (bins - 1) for k in keys})
        mean, sd = _expected_distinct(len(keys), bins)
        assert abs(distinct - mean) <= 5 * sd, (window, distinct, mean, sd)
        assert len({crc32_hash(k) & (bins - 1) for k in keys}) == 1


def test_crafted_keys_flood_robinhood_with_the_default_hash_only() -> None:
    keys = colliding_keys(300, 20)
    fast = RobinHoodMap()
    keyed = RobinHoodMap(hash="keyed", seed=SEED_A.hex())
    for i, k in enumerate(keys):
        fast[k] = i
        keyed[k] = i
    assert fast.capacity == keyed.capacity <= 1 << 20
    # Every key has one home, so the run is as long as the map.
    assert fast.max_probe == len(keys)
    assert keyed.max_probe * 10 < fast.max_probe, (keyed.max_probe, fast.max_probe)
    for m in (fast, keyed):
        m.check_invariants()
        assert all(m[k] == i for i, k in enumerate(keys))


@pytest.mark.parametrize("kind", ["chaining", "robinhood", "adaptive"])
def test_maps_take_a_keyed_seed_as_bytes_hex_or_int(kind: str) -> None:
    """The seed forms HashSpec accepts reach it through every map's options."""
    raw = bytes(range(16))
    by_bytes = engine.create_map(kind, hash="keyed", seed=raw)
    by_hex = engine.create_map(kind, hash="keyed", seed=raw.hex())
    assert by_bytes.hash_spec == by_hex.hash_spec == HashSpec.create("keyed", raw)
    by_int = engine.create_map(kind, hash="keyed", seed=7)
    assert by_int.hash_spec == HashSpec.create("keyed", 7)
    with pytest.raises(ValueError, match="16 bytes"):
        engine.create_map(kind, hash="keyed", seed=bytes(15))


@given(st.lists(st.text(max_size=12), min_size=1, max_size=40, unique=True))
def test_every_inlined_copy_of_the_str_hash_agrees_with_crc32_hash(keys: list[str]) -> None:
    """The str branch of crc32_hash is inlined in the maps' ``get`` and in the batch
    kernels for speed. Keys stored through the traced path (which calls crc32_hash) must
    be found by the inlined lookups and by a kernel replay; in a 65,536-slot table a copy
    that hashed differently would look in the wrong place and miss."""
    import engine
    from engine.tracing.collect import trace

    for backend in ("robinhood", "chaining"):
        m = engine.create_map(backend, capacity=1 << 16)
        with trace(m):
            for i, key in enumerate(keys):
                m[key] = i
        for i, key in enumerate(keys):  # untraced: the inlined get
            assert m.get(key) == i, (backend, key)
        assert all(m[key] == i for i, key in enumerate(keys))
