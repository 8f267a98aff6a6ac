"""The binary's build helpers (freeze/): the lean ICU data library and selective strip."""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from freeze.icu_data import build_lean_icudata, keep_item, list_items, read_symbol, repack
from freeze.strip import has_symbol_table


def _package(items: list[tuple[str, bytes]]) -> bytes:
    """A small ICU common data package, laid out as ICU's own tools write one."""
    header = bytearray(32)
    struct.pack_into("<HBB", header, 0, len(header), 0xDA, 0x27)
    header[12:16] = b"CmnD"
    names = b"".join(name.encode() + b"\0" for name, _ in items)
    toc_size = 4 + 8 * len(items)
    start = (len(header) + toc_size + len(names) + 15) // 16 * 16 - len(header)
    toc, body, offset, name_at = bytearray(struct.pack("<I", len(items))), b"", start, toc_size
    for name, data in items:
        toc += struct.pack("<II", name_at, offset)
        name_at += len(name) + 1
        padded = data + b"\0" * (-len(data) % 16)
        body += padded
        offset += len(padded)
    out = bytes(header) + bytes(toc) + names
    return out + b"\0" * (len(header) + start - len(out)) + body


def test_repack_keeps_the_chosen_items_byte_for_byte() -> None:
    items = [(f"icudt73l/{name}", bytes([i]) * (5 + 7 * i)) for i, name in enumerate(
        ["af.res", "coll/de.res", "coll/root.res", "en.res", "nfkc.nrm", "root.res"]
    )]  # fmt: skip
    package = _package(items)
    assert [name for name, _ in list_items(package)] == [name for name, _ in items]
    lean = repack(package, lambda name, size: "coll/" not in name)
    kept = dict(list_items(lean))
    assert list(kept) == ["icudt73l/af.res", "icudt73l/en.res", "icudt73l/nfkc.nrm",
                          "icudt73l/root.res"]  # fmt: skip
    # every item starts 16-aligned and holds the same bytes (then padding)
    header = struct.unpack_from("<H", lean, 0)[0]
    offsets = [struct.unpack_from("<II", lean, header + 4 + 8 * i)[1] for i in range(4)]
    assert all((header + o) % 16 == 0 for o in offsets)
    for (name, data), offset in zip([i for i in items if "coll/" not in i[0]], offsets,
                                    strict=True):  # fmt: skip
        assert lean[header + offset : header + offset + len(data)] == data, name


@pytest.mark.parametrize(
    ("name", "size", "kept"),
    [
        ("icudt73l/root.res", 100_000, True),
        ("icudt73l/en_GB.res", 5_000, True),
        ("icudt73l/de.res", 5_000, False),
        ("icudt73l/zh_Hant_TW.res", 5_000, False),
        ("icudt73l/supplementalData.res", 240_000, True),
        ("icudt73l/unames.icu", 300_000, True),
        ("icudt73l/uts46.nrm", 60_000, True),
        ("icudt73l/coll/ucadata.icu", 200_000, True),
        ("icudt73l/coll/sv.res", 9_000, False),
        ("icudt73l/brkitr/cjdict.dict", 2_000_000, False),
        ("icudt73l/brkitr/line.brk", 60_000, True),
        ("icudt73l/curr/fr.res", 9_000, False),
        ("icudt73l/zone/root.res", 9_000, True),
        ("icudt73l/ibm-5348_P100-1997.cnv", 1_500, True),
        ("icudt73l/gb18030.cnv", 232_000, False),
    ],
)
def test_which_icu_items_stay(name: str, size: int, kept: bool) -> None:
    assert keep_item(name, size) is kept


def _qt_icudata() -> Path:
    pyqt = pytest.importorskip("PyQt6")
    libs = sorted((Path(pyqt.__file__).parent / "Qt6" / "lib").glob("libicudata.so.*"))
    if not libs:
        pytest.skip("this PyQt6 has no ICU data library")
    return libs[0]


def test_the_lean_library_serves_qt(tmp_path: Path) -> None:
    """Qt in a source process with the lean library preloaded: single-byte code pages and
    root collation work, the multi-byte code pages are gone."""
    full = _qt_icudata()
    if not (shutil.which("as") and shutil.which("ld")):
        pytest.skip("binutils (as, ld) are not installed")
    lean = build_lean_icudata(full, tmp_path)
    symbol, data = read_symbol(lean)
    assert symbol == read_symbol(full)[0]
    assert len(data) < 8_000_000 < full.stat().st_size
    script = (
        "from PyQt6.QtCore import QCollator, QLocale, QStringDecoder\n"
        "c = QCollator(QLocale('en_US'))\n"
        "print(sorted(['b', 'a', 'C'], key=c.sortKey))\n"
        "print(QStringDecoder('windows-1252').decode(b'caf\\xe9'))\n"
        "print(QStringDecoder('Shift_JIS').isValid())\n"
    )
    env = dict(os.environ, LD_PRELOAD=str(lean), QT_QPA_PLATFORM="offscreen")
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                          text=True, timeout=60, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["['a', 'b', 'C']", "café", "False"]


def test_only_libraries_with_symbols_are_stripped(tmp_path: Path) -> None:
    from freeze.strip import stripped_copy

    if not all(shutil.which(tool) for tool in ("as", "ld", "strip")):
        pytest.skip("binutils are not installed")
    (tmp_path / "x.s").write_text(".globl f\n.text\nf:\n  ret\nlocal_label:\n  ret\n")
    subprocess.run(["as", "-o", str(tmp_path / "x.o"), str(tmp_path / "x.s")], check=True)
    subprocess.run(["ld", "-shared", "-o", str(tmp_path / "libx.so"), str(tmp_path / "x.o")],
                   check=True)  # fmt: skip
    assert has_symbol_table(tmp_path / "libx.so")
    copy = stripped_copy(tmp_path / "libx.so", tmp_path / "out" / "libx.so")
    assert copy is not None and not has_symbol_table(copy)
    assert stripped_copy(copy, tmp_path / "again" / "libx.so") is None  # nothing to strip
    assert not has_symbol_table(Path(__file__))  # not an ELF file
