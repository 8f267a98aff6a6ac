"""The CSV workload format: reading, validating and streaming operations.

Format (``docs/workload_schema.md``): UTF-8 text, header ``op,key,value`` (any order of
the three names), one operation per row: ``put,KEY,VALUE``, ``get,KEY,`` or ``del,KEY,``.
LF or CRLF line ends; RFC 4180 quoting; blank lines are skipped. Every problem is reported
with the data row (1-based, header excluded), the column and the reason.

Reading streams the file through :mod:`csv`, so memory does not grow with the rows.
The path ``-`` reads standard input, and a FIFO or character device (``<(cmd)``,
``/dev/stdin``) is read as the stream it is: one pass, line by line, with the byte limit
counted as it goes and a bad byte reported at its exact row.
"""

from __future__ import annotations

import csv
import os
import stat
import sys
from collections.abc import Generator, Iterator
from typing import IO, Final

from engine.errors import BadInputError, IOFailureError, PolicyError
from engine.records import FrozenRecord, Record, field

__all__ = [
    "DEFAULT_MAX_BYTES",
    "DEFAULT_MAX_ROWS",
    "HEADER",
    "OPS",
    "CsvLimits",
    "WorkloadError",
    "WorkloadFile",
    "WorkloadSummary",
]

HEADER: Final = ("op", "key", "value")
OPS: Final = ("put", "get", "del")
DEFAULT_MAX_ROWS: Final = 50_000_000
DEFAULT_MAX_BYTES: Final = 2 * 1024**3
#: The path that reads standard input, and how messages name it.
STDIN: Final = "-"
STDIN_NAME: Final = "<stdin>"
MAX_FIELD_BYTES: Final = 1 << 20


class WorkloadError(BadInputError):
    """A malformed workload: names the data row (0 for the header), column and reason."""

    def __init__(self, path: str, row: int, column: str | None, reason: str) -> None:
        where = "header" if row == 0 else f"row {row}"
        if column:
            where += f", column {column!r}"
        super().__init__(
            f"{path}: {where}: {reason}",
            "see docs/workload_schema.md for the op,key,value format",
        )
        self.row = row
        self.column = column
        self.reason = reason


class CsvLimits(FrozenRecord):
    """Guardrails read before and while streaming; 0 disables one."""

    max_rows: int = DEFAULT_MAX_ROWS
    max_bytes: int = DEFAULT_MAX_BYTES


class WorkloadSummary(Record):
    """What a validation pass counted."""

    rows: int = 0
    ops: dict[str, int] = field(default_factory=lambda: dict.fromkeys(OPS, 0))
    blank_lines: int = 0
    bytes: int = 0

    def to_dict(self) -> dict[str, object]:
        return {
            "rows": self.rows,
            "ops": dict(self.ops),
            "blank_lines": self.blank_lines,
            "bytes": self.bytes,
        }


class WorkloadFile:
    """A workload CSV on disk. ``rows()`` streams validated ``(op, key, value)`` tuples;
    ``value`` is None for get and del.

    The hot replay loop in :mod:`engine.workloads.replay` reads ``reader()`` directly and calls
    :meth:`bad_row` only for rows that fail its inline checks, so a valid file pays for
    no extra function call per row.
    """

    def __init__(self, path: str | os.PathLike[str], limits: CsvLimits | None = None) -> None:
        self.path = STDIN_NAME if str(path) == STDIN else str(path)
        self._source = str(path)
        self.limits = limits or CsvLimits()
        #: True for standard input, a FIFO or a device: read once, as a stream
        self.streaming = False
        #: bytes in the file; for a stream, the bytes read so far
        self.size = self._check_file()
        self._handle: IO[str] | None = None
        self._raw: IO[bytes] | None = None
        self.columns: tuple[int, int, int] = (0, 1, 2)
        self.blank_lines = 0

    def _check_file(self) -> int:
        if self._source == STDIN:
            self.streaming = True
            return 0
        try:
            status = os.stat(self._source)
        except FileNotFoundError:
            raise IOFailureError(f"{self.path}: no such file", "check the --csv path") from None
        except OSError as exc:
            raise IOFailureError(f"{self.path}: {exc.strerror or exc}") from None
        if stat.S_ISDIR(status.st_mode):
            raise IOFailureError(f"{self.path}: is a folder, not a CSV file")
        if not stat.S_ISREG(status.st_mode):
            self.streaming = True  # a FIFO, a device: its size says nothing
            return 0
        size = status.st_size
        limit = self.limits.max_bytes
        if limit and size > limit:
            raise PolicyError(
                f"{self.path}: {size} bytes exceeds the limit of {limit} bytes",
                "raise --csv-max-bytes (0 disables the check) if the file is trusted",
            )
        if size == 0:
            raise WorkloadError(self.path, 0, None, "empty file: expected the header op,key,value")
        return size

    def reader(self) -> Iterator[list[str]]:
        """A csv reader positioned after a validated header. Close with :meth:`close`."""
        csv.field_size_limit(MAX_FIELD_BYTES)
        reader: Iterator[list[str]]
        if self.streaming:
            reader = csv.reader(self._stream_lines(), strict=True)
        else:
            try:
                handle = open(self.path, encoding="utf-8-sig", newline="")  # noqa: SIM115
            except OSError as exc:
                raise IOFailureError(f"{self.path}: {exc.strerror or exc}") from None
            self._handle = handle
            reader = csv.reader(handle, strict=True)
        try:
            header = next(reader, None)
        except UnicodeDecodeError as exc:
            self.close()
            raise self.decode_error(0, exc) from None
        except csv.Error as exc:
            self.close()
            raise WorkloadError(self.path, 0, None, f"unreadable CSV ({exc})") from None
        if header is None:
            self.close()
            raise WorkloadError(self.path, 0, None, "no header: expected op,key,value")
        names = [name.strip().lower() for name in header]
        if sorted(names) != sorted(HEADER):
            self.close()
            raise WorkloadError(
                self.path, 0, None, f"bad header {','.join(header)!r}: expected op,key,value"
            )
        self.columns = (names.index("op"), names.index("key"), names.index("value"))
        return reader

    def _stream_lines(self) -> Iterator[str]:
        """The stream's lines, decoded one by one (so a bad byte is found at its own line),
        with the byte limit checked as they arrive. O(1) memory beyond one line."""
        if self._source == STDIN:
            raw: IO[bytes] = sys.stdin.buffer
        else:
            try:
                raw = open(self._source, "rb")  # noqa: SIM115
            except OSError as exc:
                raise IOFailureError(f"{self.path}: {exc.strerror or exc}") from None
            self._raw = raw
        limit = self.limits.max_bytes
        self.size = 0
        first = True
        for line in raw:
            self.size += len(line)
            if limit and self.size > limit:
                raise PolicyError(
                    f"{self.path}: more than {limit} bytes read, past the limit",
                    "raise --csv-max-bytes (0 disables the check) if the input is trusted",
                )
            if first:
                line = line.removeprefix(b"\xef\xbb\xbf")
                first = False
            yield line.decode("utf-8")

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None
        if self._raw is not None:
            self._raw.close()
            self._raw = None

    def bad_row(self, row: list[str], number: int) -> WorkloadError | None:
        """Why ``row`` (data row ``number``) is invalid, or None when it is valid."""
        if len(row) != 3:
            return WorkloadError(
                self.path, number, None, f"wrong column count: expected 3, got {len(row)}"
            )
        op_col, key_col, value_col = self.columns
        op, key, value = row[op_col], row[key_col], row[value_col]
        if op not in OPS:
            shown = op if len(op) <= 20 else op[:20] + "..."
            return WorkloadError(
                self.path, number, "op", f"unknown op {shown!r}: expected put, get or del"
            )
        if not key:
            return WorkloadError(self.path, number, "key", "missing key")
        if "\0" in key:
            return WorkloadError(self.path, number, "key", "NUL byte in key (binary data?)")
        if "\0" in value:
            return WorkloadError(self.path, number, "value", "NUL byte in value (binary data?)")
        if op != "put" and value:
            return WorkloadError(self.path, number, "value", f"{op} takes no value")
        return None

    def decode_error(self, number: int, exc: Exception) -> WorkloadError:
        """The diagnostic for an exception raised while reading data row ``number``.

        Text is decoded in blocks, so a bad byte surfaces at the start of its block; the
        row is then found by a second, line-by-line pass (only on this error path)."""
        if isinstance(exc, UnicodeDecodeError) and self.streaming:
            # decoded line by line: the line that failed is the row being read
            return WorkloadError(self.path, number, None, f"not UTF-8 text ({exc.reason})")
        if isinstance(exc, UnicodeDecodeError):
            row, column = self._first_undecodable_row()
            return WorkloadError(self.path, row, column, f"not UTF-8 text ({exc.reason})")
        return WorkloadError(self.path, number, None, f"unreadable CSV ({exc})")

    def _first_undecodable_row(self) -> tuple[int, str | None]:
        """(data row, column) holding the first byte that is not UTF-8; header is row 0.

        One binary pass finds the physical line; a second pass parses the file as CSV
        (bad bytes replaced) to map that line to its data row, so blank lines and quoted
        multi-line fields are counted as the reader counts them."""
        bad_line, offset_in_line = -1, 0
        with open(self.path, "rb") as raw:
            for line_number, line in enumerate(raw):
                try:
                    line.decode("utf-8")
                except UnicodeDecodeError as exc:
                    bad_line, offset_in_line = line_number, exc.start
                    break
        if bad_line < 0:
            return 0, None
        with open(self.path, encoding="utf-8", errors="replace", newline="") as text:
            reader = csv.reader(text)
            number = -1  # the header is row 0
            start_line = 0
            for row in reader:
                if row or number < 0:
                    number += 1
                if reader.line_num > bad_line:
                    column = (
                        self._column_at(row, offset_in_line) if start_line == bad_line else None
                    )
                    return max(number, 0), column
                start_line = reader.line_num
        return max(number, 0), None

    def _column_at(self, row: list[str], offset: int) -> str | None:
        """The column name of the field that a byte offset in a one-line row falls in."""
        position = 0
        for index, text in enumerate(row):
            position += len(text.encode("utf-8", "replace")) + 1
            if offset < position:
                names_by_position = sorted(range(3), key=self.columns.__getitem__)
                return HEADER[names_by_position[index]] if index < 3 else None
        return None

    def too_many_rows(self, number: int) -> PolicyError:
        return PolicyError(
            f"{self.path}: more than {self.limits.max_rows} rows (stopped at row {number})",
            "raise --csv-max-rows (0 disables the check) if the file is trusted",
        )

    def rows(self) -> Generator[tuple[str, str, str | None], None, None]:
        """Stream validated operations. Raises :class:`WorkloadError` at the first bad row."""
        reader = self.reader()
        op_col, key_col, value_col = self.columns
        max_rows = self.limits.max_rows
        number = 0
        self.blank_lines = 0
        try:
            while True:
                try:
                    row = next(reader)
                except StopIteration:
                    return
                except (UnicodeDecodeError, csv.Error) as exc:
                    raise self.decode_error(number + 1, exc) from None
                if not row:
                    self.blank_lines += 1
                    continue
                number += 1
                if max_rows and number > max_rows:
                    raise self.too_many_rows(number)
                problem = self.bad_row(row, number)
                if problem is not None:
                    raise problem
                op = row[op_col]
                yield op, row[key_col], row[value_col] if op == "put" else None
        finally:
            self.close()

    def validate(self) -> WorkloadSummary:
        """Read the whole file, checking every row (``--dry-run``). O(rows), O(1) memory."""
        summary = WorkloadSummary()
        ops = summary.ops
        for op, _key, _value in self.rows():
            ops[op] += 1
        summary.bytes = self.size
        summary.rows = sum(ops.values())
        summary.blank_lines = self.blank_lines
        return summary
