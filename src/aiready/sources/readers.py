"""Read source files into raw, all-string Arrow tables, keeping every record.

A record that cannot be parsed (ragged CSV row, invalid JSON line, bytes that are not UTF-8) is kept
with its raw text and a ``_malformed`` reason, so that it reaches quarantine instead of vanishing.
Only a file that cannot be read at all (missing, empty CSV without header, corrupt Parquet) raises.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from aiready.config.models import SourceFormat
from aiready.errors import SourceError
from aiready.sources import _fast

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


CHUNK_LINES = 500_000
"""Physical lines parsed per chunk: ingest holds one chunk's table at a time, not the file's."""


@dataclass(frozen=True)
class SourceStream:
    """One source file, parsed chunk by chunk on demand (each call of ``chunks`` starts over).

    Chunks are in source order and share one schema; together they are exactly the table
    ``read_source`` returns. A header that cannot be read raises when the stream is opened.
    """

    path: Path
    columns: list[str]
    _chunks: Callable[[], Iterator[pa.Table]]

    def chunks(self) -> Iterator[pa.Table]:
        """The file's records as tables of at most about ``CHUNK_LINES`` rows each."""
        return self._chunks()


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
    path: Path,
    fmt: SourceFormat,
    delimiter: str = ",",
    data: bytes | None = None,
    chunk_lines: int = CHUNK_LINES,
) -> ParsedFile:
    """Parse one file whole; raises SourceError naming the file when it cannot be read at all."""
    stream = open_source(path, fmt, delimiter, data, chunk_lines)
    chunks = list(stream.chunks())
    if not chunks:
        return _empty(stream.columns, path)
    return ParsedFile(path, stream.columns, pa.concat_tables(chunks))


def _empty(columns: list[str], path: Path) -> ParsedFile:
    return ParsedFile(path, columns, _Builder(columns).table())


def open_source(
    path: Path,
    fmt: SourceFormat,
    delimiter: str = ",",
    data: bytes | None = None,
    chunk_lines: int = CHUNK_LINES,
) -> SourceStream:
    """Open one file for chunked parsing; raises SourceError when it cannot be read at all.

    ``data``: the file's bytes when the caller already read them (ingest hashes them first), so
    the file is read once and what is parsed is exactly what was hashed. CSV is parsed in
    chunks of ``chunk_lines`` physical lines; JSONL and Parquet in one.
    """
    if data is None:
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise SourceError(f"cannot read source file: {exc.strerror}", file=str(path)) from exc
    if fmt == "csv":
        return _csv_stream(path, data, delimiter, chunk_lines)
    parsed = _read_jsonl(path, data) if fmt == "jsonl" else _read_parquet(path, data)
    return SourceStream(path, parsed.columns, lambda: iter([parsed.table]))


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


def _csv_stream(path: Path, data: bytes, delimiter: str, chunk_lines: int) -> SourceStream:
    """Plain lines through Arrow, the rest through the reference reader: the same table, fast."""
    if delimiter in '"\r\n\x00':
        whole = read_csv_reference(path, data, delimiter)
        return SourceStream(path, whole.columns, lambda: iter([whole.table]))
    lines = _fast.split_lines(data.removeprefix(b"\xef\xbb\xbf"))
    cursor = _Cursor(lines, 0)
    header = _header(path, csv.reader(cursor, delimiter=delimiter))

    def chunks() -> Iterator[pa.Table]:
        try:
            yield from _csv_chunks(lines, header, delimiter, max(chunk_lines, 1))
        except _fast.Disagreement:  # never seen; the reference is always right
            yield read_csv_reference(path, data, delimiter).table

    return SourceStream(path, header, chunks)


def _csv_chunks(
    lines: _fast.Lines, header: list[str], delimiter: str, chunk_lines: int
) -> Iterator[pa.Table]:
    """Windows of about ``chunk_lines`` physical lines, each as one bronze-shaped table.

    A record the reference reader starts in one window may run past its end (a quoted line
    break); the next window starts where that record ended, so no record is split or repeated.
    The whole file is classified up front (cheap, vectorised); only parsing is windowed.
    """
    cursor = _Cursor(lines, 0)
    reader = csv.reader(cursor, delimiter=delimiter)
    next(reader)  # the header, checked when the stream was opened
    cursor.take()
    good, blank = _fast.plain(lines, len(header), delimiter)
    bad = np.flatnonzero(~good)
    row, pos = 0, cursor.next
    builder = _Builder(header)
    if not cursor.boundary:  # the header ended inside a physical line (a lone CR)
        row = _reference_records(reader, cursor, header, builder, row, good)
        pos = cursor.next
    while pos < len(lines):
        start, stop = pos, min(pos + chunk_lines, len(lines))
        fast = np.zeros(len(lines), bool)
        rows = np.zeros(len(lines), np.int64)
        while pos < stop:
            k = int(np.searchsorted(bad, pos))
            end = min(int(bad[k]) if k < len(bad) else len(lines), stop)
            rows[pos:end] = np.arange(row + 1, row + 1 + end - pos)
            fast[pos:end] = True
            row, pos = row + end - pos, end
            if pos < stop and not good[pos]:
                cursor = _Cursor(lines, pos)
                row = _reference_records(csv.reader(cursor, delimiter=delimiter), cursor, header,
                                         builder, row, good)  # fmt: skip
                pos = cursor.next
        fast[start:pos] &= ~blank[start:pos]
        table = _fast_table(lines, fast, rows, header, delimiter)
        if builder.count:
            table = pa.concat_tables([table, builder.table()]).sort_by(SOURCE_ROW)
            builder = _Builder(header)
        if table.num_rows:
            yield table
    if builder.count:  # only records that began inside the header's last physical line
        yield builder.table()


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
        if any(not str(k).strip() for k in record):  # no column can be named "" or " "
            builder.add(row, {}, line, "a field has no name (an empty or blank key)")
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
