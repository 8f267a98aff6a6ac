"""A smaller ICU data library for the binary.

PyQt6's Qt links ICU, whose data library (``libicudata.so.NN``, 32 MB) holds one ICU
"common data" package: the locale data of some 800 locales, collation tailorings, currency,
unit, language, region and time-zone display names, spelled-out number rules, dictionaries
for Thai/CJK/Khmer/Lao/Burmese word breaking, and multi-byte legacy code pages. Qt uses ICU
only for collation (``QCollator``), legacy text codecs (``QStringConverter``) and a few
locale look-ups; its text layout, number and date formatting use Qt's own tables.

:func:`build_lean_icudata` writes a library with the same soname and symbol that keeps the
root and English data, every structural table (normalisation, character names, break
rules, likely subtags, time zones, plural rules, ...), the root collation and the
single-byte code pages, and drops the rest (about 26 MB). Another locale's collation falls
back to the root order, and a multi-byte legacy code page (GB 18030, Shift-JIS, EBCDIC
DBCS) is not available to Qt; Python's own codecs, which the app uses to read files, are
not affected.

The package format (``CmnD``): a data header, then a table of contents of
``(name offset, data offset)`` pairs sorted by name, the names, and the items, each
16-byte aligned; offsets count from the start of the table of contents. The library is
assembled with binutils (``as`` and ``ld``), which PyInstaller needs on Linux anyway.
"""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

__all__ = [
    "build_lean_icudata",
    "keep_item",
    "list_items",
    "read_symbol",
    "repack",
]

#: folders of display names, transliterators and spelled-out number rules: only their
#: root, English and index bundles are kept
_NAME_FOLDERS = frozenset({"curr", "lang", "region", "unit", "zone", "translit", "rbnf"})
_LOCALE_BUNDLE = re.compile(r"^[a-z]{2,3}(_[A-Za-z0-9]+)*\.res$")
#: single-byte code-page tables are a few kB; the multi-byte ones run to hundreds
_MAX_CODEPAGE = 32 * 1024


def keep_item(name: str, size: int) -> bool:
    """Whether the lean package keeps the item ``name`` (``icudt73l/coll/de.res``)."""
    parts = name.split("/")[1:]
    base = parts[-1]
    english = base in {"root.res", "pool.res", "res_index.res", "en.res"} or base.startswith(
        "en_"
    )
    if len(parts) == 2 and parts[0] in _NAME_FOLDERS:
        return english
    if len(parts) == 2 and parts[0] == "coll":
        return english or base.endswith(".icu")  # ucadata: the root collation
    if len(parts) == 2 and parts[0] == "brkitr":
        return not base.endswith(".dict")  # word-break dictionaries
    if len(parts) == 1 and _LOCALE_BUNDLE.match(base):
        return english
    if len(parts) == 1 and base.endswith(".cnv"):
        return size <= _MAX_CODEPAGE
    return True


def _toc(data: bytes) -> tuple[int, list[tuple[str, int, int]]]:
    """The header size and ``(name, start, end)`` of every item of a package."""
    header_size, magic1, magic2 = struct.unpack_from("<HBB", data, 0)
    if (magic1, magic2) != (0xDA, 0x27) or data[12:16] != b"CmnD":
        raise ValueError("not an ICU common data package")
    if data[8] != 0:
        raise ValueError("a big-endian ICU data package")
    count = struct.unpack_from("<I", data, header_size)[0]
    pairs = [struct.unpack_from("<II", data, header_size + 4 + 8 * i) for i in range(count)]
    items = []
    for index, (name_offset, data_offset) in enumerate(pairs):
        name_start = header_size + name_offset
        name = data[name_start : data.index(b"\0", name_start)].decode("ascii")
        start = header_size + data_offset
        end = header_size + pairs[index + 1][1] if index + 1 < count else len(data)
        items.append((name, start, end))
    return header_size, items


def list_items(data: bytes) -> list[tuple[str, int]]:
    """``(name, size)`` of every item of an ICU common data package."""
    return [(name, end - start) for name, start, end in _toc(data)[1]]


def _align(n: int, to: int = 16) -> int:
    return (n + to - 1) // to * to


def repack(data: bytes, keep: Callable[[str, int], bool] = keep_item) -> bytes:
    """The package with only the items ``keep(name, size)`` accepts, in the same order."""
    header_size, items = _toc(data)
    kept = [(name, data[start:end]) for name, start, end in items if keep(name, end - start)]
    names = b"".join(name.encode("ascii") + b"\0" for name, _ in kept)
    toc_size = 4 + 8 * len(kept)
    # the table of contents starts at header_size (a multiple of 16); items 16-aligned
    data_start = _align(header_size + toc_size + len(names)) - header_size
    toc = bytearray(struct.pack("<I", len(kept)))
    name_offset, data_offset = toc_size, data_start
    body = bytearray()
    for name, item in kept:
        toc += struct.pack("<II", name_offset, data_offset)
        name_offset += len(name) + 1
        padded = item + b"\0" * (_align(len(item)) - len(item))
        body += padded
        data_offset += len(padded)
    out = bytearray(data[:header_size]) + toc + names
    out += b"\0" * (header_size + data_start - len(out))
    return bytes(out + body)


def read_symbol(library: Path) -> tuple[str, bytes]:
    """The name and bytes of the ``icudtNN_dat`` symbol of an ELF64 little-endian ICU data
    library."""
    elf = library.read_bytes()
    if elf[:4] != b"\x7fELF" or elf[4] != 2 or elf[5] != 1:
        raise ValueError(f"{library} is not a little-endian ELF64 file")
    shoff = struct.unpack_from("<Q", elf, 0x28)[0]
    shentsize, shnum = struct.unpack_from("<HH", elf, 0x3A)
    sections = [
        struct.unpack_from("<IIQQQQIIQQ", elf, shoff + i * shentsize) for i in range(shnum)
    ]
    SHT_DYNSYM = 11
    for _name, kind, _flags, _addr, offset, size, link, _info, _align, entsize in sections:
        if kind != SHT_DYNSYM:
            continue
        strtab_offset = sections[link][4]
        for pos in range(offset, offset + size, entsize):
            st_name, _st_info, _other, shndx, value, st_size = struct.unpack_from(
                "<IBBHQQ", elf, pos
            )
            end = elf.index(b"\0", strtab_offset + st_name)
            symbol = elf[strtab_offset + st_name : end].decode("ascii")
            if re.fullmatch(r"icudt\d+_dat", symbol) and shndx != 0:
                home = sections[shndx]
                file_offset = home[4] + (value - home[3])
                return symbol, elf[file_offset : file_offset + st_size]
    raise ValueError(f"{library} defines no icudtNN_dat symbol")


_ASSEMBLY = """\
    .section .rodata
    .balign 16
    .globl {symbol}
    .type {symbol}, @object
    .size {symbol}, {size}
{symbol}:
    .incbin "{blob}"
    .section .note.GNU-stack,"",@progbits
"""


def build_lean_icudata(library: Path, out_dir: Path) -> Path:
    """Write the lean copy of ``library`` (same file name, soname and symbol) into
    ``out_dir`` and return its path. Raises ``RuntimeError`` without ``as`` or ``ld``."""
    assembler, linker = shutil.which("as"), shutil.which("ld")
    if not (assembler and linker):
        raise RuntimeError("binutils (as, ld) are needed to build the lean ICU data library")
    symbol, data = read_symbol(library)
    lean = repack(data)
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / library.name
    with tempfile.TemporaryDirectory(dir=out_dir) as work:
        blob = Path(work) / "icudata.dat"
        blob.write_bytes(lean)
        source = Path(work) / "icudata.s"
        source.write_text(_ASSEMBLY.format(symbol=symbol, size=len(lean), blob=blob))
        obj = Path(work) / "icudata.o"
        subprocess.run([assembler, "-o", str(obj), str(source)], check=True)
        subprocess.run(
            [linker, "-shared", "-soname", library.name, "-z", "noexecstack",
             "-o", str(target), str(obj)],
            check=True,
        )
    return target
