"""Read source files into raw, all-string Arrow tables, keeping every record.

A record that cannot be parsed (ragged CSV row, invalid JSON line, bytes that are not UTF-8) is kept
with its raw text and a ``_malformed`` reason, so that it reaches quarantine instead of vanishing.
Only a file that cannot be read at all (missing, empty CSV without header, corrupt Parquet) raises.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from aiready.errors import SourceError
from aiready.sources import _fast
from aiready.workspace.config import SourceFormat

csv.field_size_limit(2**31 - 1)  # a 1 MB free-text field is data, not an error

SOURCE_ROW = "_source_row"
MALFORMED = "_malformed"
RAW = "_raw"
RECORD_HASH = "_record_hash"
RESERVED = frozenset(
    {
        SOURCE_ROW,
        MALFORMED,
        RAW,
        RECORD_HASH,
        "_batch_id",
        "_source_file",
        "_source_sha256",
        "_ingested_at",
    }
)


@dataclass(frozen=True)
class ParsedFile:
    """One source file as raw strings plus per-record provenance."""

    path: Path
    columns: list[str]
    """Data columns in file order (CSV header, union of JSON keys, Parquet schema)."""
    table: pa.Table
    """Data columns as strings, plus _source_row, _malformed, _raw, _record_hash."""

    @property
    def malformed(self) -> int:
        """Records kept with their raw text because they could not be parsed."""
        return int(self.table.num_rows - self.table.column(MALFORMED).null_count)


class _Builder:
    """Collects records column-wise; unknown columns are back-filled with nulls."""

    def __init__(self, columns: list[str]) -> None:
        self.columns: dict[str, list[str | None]] = {c: [] for c in columns}
        self.meta: dict[str, list[Any]] = {SOURCE_ROW: [], MALFORMED: [], RAW: [], RECORD_HASH: []}
        """RECORD_HASH collects the hashed bytes; they are hashed together in ``table()``."""
        self.count = 0

    def add(self, row: int, values: dict[str, str | None], raw: str, bad: str | None) -> None:
        for name in values:
            if name not in self.columns:
                self.columns[name] = [None] * self.count
        for name, col in self.columns.items():
            col.append(values.get(name))
        self.meta[SOURCE_ROW].append(row)
        self.meta[MALFORMED].append(bad)
        self.meta[RAW].append(raw if bad else None)
        self.meta[RECORD_HASH].append(raw.encode("utf-8", "backslashreplace"))
        self.count += 1

    def table(self) -> pa.Table:
        arrays: dict[str, pa.Array] = {c: pa.array(v, pa.string()) for c, v in self.columns.items()}
        arrays[SOURCE_ROW] = pa.array(self.meta[SOURCE_ROW], pa.int64())
        for name in (MALFORMED, RAW):
            arrays[name] = pa.array(self.meta[name], pa.string())
        hashed = pa.array(self.meta[RECORD_HASH], pa.large_binary())
        arrays[RECORD_HASH] = _fast.sha256(hashed) if self.count else pa.array([], pa.string())
        return pa.table(arrays)


def read_source(
    path: Path, fmt: SourceFormat, delimiter: str = ",", data: bytes | None = None
) -> ParsedFile:
    """Parse one file; raises SourceError naming the file when it cannot be read at all.

    ``data``: the file's bytes when the caller already read them (ingest hashes them first), so
    the file is read once and what is parsed is exactly what was hashed.
    """
    if data is None:
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise SourceError(f"cannot read source file: {exc.strerror}", file=str(path)) from exc
    if fmt == "csv":
        try:
            return _read_csv(path, data, delimiter)
        except _fast.Disagreement:  # never seen; the reference is always right
            return read_csv_reference(path, data, delimiter)
    if fmt == "jsonl":
        return _read_jsonl(path, data)
    return _read_parquet(path, data)


def _text(raw: str) -> str:
    """Undo surrogateescape so raw text with bad bytes can be stored and shown."""
    return raw.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def _has_bad_bytes(value: str) -> bool:
    return any("\udc80" <= ch <= "\udcff" for ch in value)


def _check_columns(path: Path, columns: list[str]) -> None:
    seen: set[str] = set()
    for position, name in enumerate(columns, start=1):
        if not name.strip():
            raise SourceError(f"header column {position} has no name", file=str(path))
        if name in RESERVED:
            raise SourceError(f"column name {name!r} is reserved by aiready", file=str(path))
        if name in seen:
            raise SourceError(f"column {name!r} appears twice in the header", file=str(path))
        seen.add(name)


class _Cursor:
    """Feeds physical lines to ``csv.reader`` as ``newline=""`` would, tracking where it stands."""

    def __init__(self, lines: _fast.Lines, start: int) -> None:
        self.lines = lines
        self.next = start
        """The next physical line to be read."""
        self.boundary = True
        """The last line handed out ended a physical line."""
        self.consumed: list[str] = []

    def __iter__(self) -> Iterator[str]:
        while self.next < len(self.lines):
            text = self.lines.line(self.next).decode("utf-8", "surrogateescape")
            parts = list(io.StringIO(text, newline=""))
            self.next += 1
            for k, part in enumerate(parts):
                self.boundary = k == len(parts) - 1
                self.consumed.append(part)
                yield part

    def take(self) -> str:
        raw = "".join(self.consumed)
        self.consumed.clear()
        return raw


def _header(path: Path, reader: Iterator[list[str]]) -> list[str]:
    """The CSV header, trimmed and checked: both readers start the same way."""
    header = next(reader, None)
    if header is None:
        raise SourceError("CSV file is empty: it has no header row", file=str(path))
    if _has_bad_bytes("".join(header)):
        raise SourceError("CSV header is not valid UTF-8", file=str(path))
    header = [h.strip() for h in header]
    _check_columns(path, header)
    return header


def _read_csv(path: Path, data: bytes, delimiter: str) -> ParsedFile:
    """Plain lines through Arrow, the rest through the reference reader: the same table, fast."""
    if delimiter in '"\r\n\x00':
        return read_csv_reference(path, data, delimiter)
    lines = _fast.split_lines(data.removeprefix(b"\xef\xbb\xbf"))
    cursor = _Cursor(lines, 0)
    reader = csv.reader(cursor, delimiter=delimiter)
    header = _header(path, reader)
    cursor.take()
    good, blank = _fast.plain(lines, len(header), delimiter)
    builder = _Builder(header)
    rows = np.zeros(len(lines), np.int64)
    fast = np.zeros(len(lines), bool)
    row = 0
    if not cursor.boundary:  # the header ended inside a physical line (a lone CR)
        row = _reference_records(reader, cursor, header, builder, row, good)
    pos, bad = cursor.next, np.flatnonzero(~good)
    while pos < len(lines):
        k = int(np.searchsorted(bad, pos))
        end = int(bad[k]) if k < len(bad) else len(lines)
        rows[pos:end] = np.arange(row + 1, row + 1 + end - pos)
        fast[pos:end] = True
        row, pos = row + end - pos, end
        if pos < len(lines):
            cursor = _Cursor(lines, pos)
            row = _reference_records(csv.reader(cursor, delimiter=delimiter), cursor, header,
                                     builder, row, good)  # fmt: skip
            pos = cursor.next
    fast &= ~blank
    table = _fast_table(lines, fast, rows, header, delimiter)
    if builder.count:
        table = pa.concat_tables([table, builder.table()]).sort_by(SOURCE_ROW)
    return ParsedFile(path, header, table)


def _reference_records(
    reader: Iterator[list[str]],
    cursor: _Cursor,
    header: list[str],
    builder: _Builder,
    row: int,
    good: np.ndarray,
) -> int:
    """Parse records until one ends where a plain line begins; returns the last row number."""
    while True:
        try:
            fields = next(reader, None)
        except csv.Error as exc:
            row += 1
            builder.add(row, {}, _text(cursor.take()), f"unparsable CSV record: {exc}")
        else:
            if fields is None:
                return row
            row += 1
            raw = cursor.take()
            if fields:
                builder.add(row, *_csv_record(header, fields, raw))
        if cursor.boundary and (cursor.next >= len(good) or good[cursor.next]):
            return row


def _fast_table(
    lines: _fast.Lines, mask: np.ndarray, rows: np.ndarray, header: list[str], delimiter: str
) -> pa.Table:
    """The plain lines selected by ``mask`` as a bronze-shaped table."""
    table = _fast.parse(lines, mask, header, delimiter)
    n = table.num_rows
    nulls = pa.nulls(n, pa.string())
    table = table.append_column(SOURCE_ROW, pa.array(rows[mask], pa.int64()))
    table = table.append_column(MALFORMED, nulls).append_column(RAW, nulls)
    return table.append_column(RECORD_HASH, _fast.sha256(_fast.select(lines, mask)))


def read_csv_reference(path: Path, data: bytes, delimiter: str) -> ParsedFile:
    """The reference CSV reader (Python ``csv``, record by record): the fast path must agree."""
    text = data.decode("utf-8", "surrogateescape").removeprefix("\ufeff")
    consumed: list[str] = []

    def lines() -> Iterator[str]:
        for line in io.StringIO(text, newline=""):
            consumed.append(line)
            yield line

    reader = csv.reader(lines(), delimiter=delimiter)
    header = _header(path, reader)
    consumed.clear()
    builder = _Builder(header)
    row = 0
    while True:
        try:
            fields = next(reader, None)
        except csv.Error as exc:
            row += 1
            raw = "".join(consumed)
            consumed.clear()
            builder.add(row, {}, _text(raw), f"unparsable CSV record: {exc}")
            continue
        if fields is None:
            break
        row += 1
        raw = "".join(consumed)
        consumed.clear()
        if not fields:
            continue  # a blank line: counted for row numbers, holds no record
        builder.add(row, *_csv_record(header, fields, raw))
    return ParsedFile(path, header, builder.table())


def _csv_record(
    header: list[str], fields: list[str], raw: str
) -> tuple[dict[str, str | None], str, str | None]:
    if len(fields) != len(header):
        return {}, _text(raw), f"ragged row: expected {len(header)} fields, found {len(fields)}"
    if any(_has_bad_bytes(f) for f in fields):
        return {}, _text(raw), "bad encoding: bytes that are not UTF-8"
    return dict(zip(header, fields, strict=True)), raw, None


def _json_value(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


_JSON_WHITESPACE = " \t\r\n"  # RFC 8259 section 2


def _read_jsonl(path: Path, data: bytes) -> ParsedFile:
    text = data.decode("utf-8", "surrogateescape").removeprefix("\ufeff")
    builder = _Builder([])
    for row, line in enumerate(text.split("\n"), start=1):
        line = line.rstrip("\r")
        if not line.strip(_JSON_WHITESPACE):  # only JSON's own whitespace makes a line blank:
            continue  # a line of, say, no-break spaces is kept as an invalid record, not dropped
        if _has_bad_bytes(line):
            builder.add(row, {}, _text(line), "bad encoding: bytes that are not UTF-8")
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            builder.add(row, {}, line, f"invalid JSON: {exc.msg} at column {exc.colno}")
            continue
        if not isinstance(record, dict):
            builder.add(
                row, {}, line, f"a JSON line must be an object, found {type(record).__name__}"
            )
            continue
        reserved = RESERVED.intersection(record)
        if reserved:
            builder.add(row, {}, line, f"reserved field names {sorted(reserved)}")
            continue
        builder.add(row, {str(k): _json_value(v) for k, v in record.items()}, line, None)
    return ParsedFile(path, list(builder.columns), builder.table())


def _read_parquet(path: Path, data: bytes) -> ParsedFile:
    try:
        source = pq.read_table(pa.BufferReader(data))
    except (pa.ArrowInvalid, OSError) as exc:
        raise SourceError(f"not a readable Parquet file: {exc}", file=str(path)) from exc
    _check_columns(path, source.column_names)
    builder = _Builder(source.column_names)
    for row, record in enumerate(source.to_pylist(), start=1):
        values = {k: _parquet_value(v) for k, v in record.items()}
        builder.add(row, values, json.dumps(values, ensure_ascii=False, sort_keys=True), None)
    return ParsedFile(path, source.column_names, builder.table())


def _parquet_value(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool | dict | list):
        return json.dumps(value, ensure_ascii=False, default=str, separators=(",", ":"))
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    return str(value)
