"""Strip only the libraries that still carry a symbol table.

PyInstaller's ``strip=True`` runs ``strip`` on every collected library. The wheels'
libraries are stripped already, and stripping again the ones that auditwheel patched
(numpy's OpenBLAS) breaks them ("ELF load command address/offset not page-aligned"). The
interpreter's own ``libpython`` and extension modules, built here with debug symbols, are
the ones worth stripping (about 30 MB)."""

from __future__ import annotations

import shutil
import struct
import subprocess
from pathlib import Path

__all__ = ["has_symbol_table", "stripped_copy"]

_SHT_SYMTAB = 2


def has_symbol_table(path: Path) -> bool:
    """True for an ELF64 little-endian file with a ``.symtab`` (or any SHT_SYMTAB) section."""
    with path.open("rb") as handle:
        head = handle.read(64)
        if len(head) < 64 or head[:4] != b"\x7fELF" or head[4] != 2 or head[5] != 1:
            return False
        shoff = struct.unpack_from("<Q", head, 0x28)[0]
        shentsize, shnum = struct.unpack_from("<HH", head, 0x3A)
        handle.seek(shoff)
        table = handle.read(shentsize * shnum)
    return any(
        struct.unpack_from("<I", table, i * shentsize + 4)[0] == _SHT_SYMTAB
        for i in range(len(table) // shentsize)
    )


def stripped_copy(src: Path, dest: Path) -> Path | None:
    """A copy of ``src`` at ``dest`` without its symbol table and debug sections, or None
    when ``src`` has none to drop (or binutils' ``strip`` is missing)."""
    tool = shutil.which("strip")
    if tool is None or not has_symbol_table(src):
        return None
    dest.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run([tool, "--strip-unneeded", "-o", str(dest), str(src)], check=True)
    return dest
