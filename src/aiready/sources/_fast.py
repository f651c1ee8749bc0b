"""Vectorised CSV: split lines, classify them, parse the plain ones with Arrow, hash with DuckDB.

A *plain* line holds no carriage return but its line end, no NUL, no leading BOM, valid UTF-8 and
exactly the header's number of fields, each either free of quotes or wholly quoted (inner quotes
doubled, no line break inside): Python's ``csv`` module and Arrow read such a line alike. Every
other line goes to the reference reader. Lines are views into the file's bytes (no copy); a check
is skipped when the byte it looks for is nowhere in the file.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

_BIN = pa.large_binary()
_CHUNK = 1 << 26


class Disagreement(Exception):
    """Arrow did not split the plain lines as the reference would: use the reference."""


@dataclass(frozen=True)
class Lines:
    """A file's physical lines, each with its LF, as views into the file's bytes."""

    data: bytes
    raw: pa.LargeBinaryArray
    offsets: np.ndarray
    """Start of each line in ``data``, plus the end of the last."""

    def __len__(self) -> int:
        return len(self.raw)

    def line(self, i: int) -> bytes:
        """Line ``i`` with its LF, as read."""
        return self.data[int(self.offsets[i]) : int(self.offsets[i + 1])]


def split_lines(data: bytes) -> Lines:
    """Physical lines of ``data``; a final LF ends the last line, it starts no empty one."""
    view = np.frombuffer(data, np.uint8)
    ends = [np.flatnonzero(view[i : i + _CHUNK] == 10) + i + 1 for i in range(0, len(data), _CHUNK)]
    offsets = np.concatenate([np.zeros(1, np.int64), *ends]).astype(np.int64)
    if offsets[-1] != len(data):
        offsets = np.append(offsets, len(data))
    raw = pa.LargeBinaryArray.from_buffers(
        _BIN, len(offsets) - 1, [None, pa.py_buffer(offsets), pa.py_buffer(data)]
    )
    return Lines(data, raw, offsets)


def _has(data: bytes, raw: pa.Array, needle: str) -> np.ndarray:
    if needle.encode() not in data:
        return np.zeros(len(raw), bool)
    return np.asarray(pc.match_substring(raw, needle))


def plain(lines: Lines, fields: int, delimiter: str) -> tuple[np.ndarray, np.ndarray]:
    """(plain, blank) masks over the lines (see module docstring); a blank line is plain."""
    raw, data = lines.raw, lines.data
    lengths = np.diff(lines.offsets)
    ends = np.ones(len(raw), np.int64)  # the LF
    if data and not data.endswith(b"\n"):
        ends[-1] = 0
    special = _has(data, raw, "\x00")
    if b"\r" in data:
        crlf = np.asarray(pc.ends_with(raw, "\r\n")) | np.asarray(pc.ends_with(raw, "\r"))
        ends += crlf
        special |= np.asarray(pc.count_substring(raw, "\r")) > crlf
    blank = lengths == ends
    if "\ufeff".encode() in data:
        special |= np.asarray(pc.starts_with(raw, "\ufeff"))  # Arrow would drop it
    count = (
        np.asarray(pc.count_substring(raw, delimiter))
        if delimiter.encode() in data
        else np.zeros(len(raw), np.int64)
    )
    shape = count == fields - 1
    if b'"' in data:  # R and Excel quote text: keep such lines fast when the quoting is clean
        quoted = np.asarray(pc.match_substring(raw, '"'))
        clean = np.asarray(pc.match_substring_regex(raw, _quoted_line(fields, delimiter)))
        shape = np.where(quoted, clean, shape)
    good = ~special & shape & (fields > 0) & _valid_utf8(lines)
    return good | blank, blank


def _quoted_line(fields: int, delimiter: str) -> str:
    """RE2 pattern of a line of ``fields`` fields, each unquoted or wholly (and cleanly) quoted."""
    d = f"\\x{{{ord(delimiter):02X}}}"
    field = f'(?:"(?:[^"\\r\\n]|"")*"|[^"{d}\\r\\n]*)'
    return f"^{field}(?:{d}{field}){{{max(fields - 1, 0)}}}(?:\\r?\\n|\\r)?$"


def _valid_utf8(lines: Lines) -> np.ndarray:
    try:
        lines.raw.cast(pa.large_string())
        return np.ones(len(lines), bool)
    except pa.ArrowInvalid:  # rare: find the lines, one by one
        return np.array([_decodes(lines.line(i)) for i in range(len(lines))], bool)


def _decodes(line: bytes) -> bool:
    try:
        line.decode("utf-8")
        return True
    except UnicodeDecodeError:
        return False


def select(lines: Lines, mask: np.ndarray) -> pa.Array:
    """The lines picked by ``mask``; a single run is a slice of the file (no copy)."""
    picked = np.flatnonzero(mask)
    if len(picked) and int(picked[-1]) - int(picked[0]) + 1 == len(picked):
        return lines.raw.slice(int(picked[0]), len(picked))
    return lines.raw.filter(pa.array(mask))


def parse(lines: Lines, mask: np.ndarray, names: list[str], delimiter: str) -> pa.Table:
    """Split the non-blank plain lines picked by ``mask`` on the delimiter: field texts as read."""
    picked = int(mask.sum())
    if picked == 0:
        return pa.table({n: pa.array([], pa.string()) for n in names})
    source = _contiguous(select(lines, mask))
    generated = [f"f{i}" for i in range(len(names))]
    longest = int(np.diff(lines.offsets).max())
    try:
        table = _read(source, generated, delimiter, longest)
    except pa.ArrowInvalid as exc:
        raise Disagreement(str(exc)) from exc
    if table.num_rows != picked:
        raise Disagreement(f"Arrow read {table.num_rows} plain lines of {picked}")
    return table.rename_columns(names).combine_chunks()


def _read(source: pa.Buffer, generated: list[str], delimiter: str, longest: int) -> pa.Table:
    return pacsv.read_csv(
        pa.BufferReader(source),
        read_options=pacsv.ReadOptions(
            column_names=generated, block_size=max(1 << 24, 2 * longest + 16)
        ),  # a line never straddles two blocks
        parse_options=pacsv.ParseOptions(
            delimiter=delimiter,
            quote_char='"',
            double_quote=True,
            escape_char=False,
            newlines_in_values=False,
            ignore_empty_lines=True,
        ),
        convert_options=pacsv.ConvertOptions(
            column_types=dict.fromkeys(generated, pa.string()),
            strings_can_be_null=False,
            quoted_strings_can_be_null=False,
            null_values=[],
            check_utf8=False,
        ),
    )


def _contiguous(values: pa.Array) -> pa.Buffer:
    """The values of a binary array (or a slice of one) back to back, without a copy."""
    offsets = np.frombuffer(values.buffers()[1], np.int64, len(values) + 1, values.offset * 8)
    data = values.buffers()[2]
    if data is None:
        return pa.py_buffer(b"")
    return data.slice(int(offsets[0]), int(offsets[-1] - offsets[0]))


def sha256(raw: pa.Array) -> pa.Array:
    """Hex sha256 of each value: DuckDB's vectorised hash on a connection that sees nothing else."""
    con = duckdb.connect(
        config={
            "autoinstall_known_extensions": False,
            "autoload_known_extensions": False,
            "enable_external_access": False,
        }
    )
    try:
        con.register("raw", pa.table({"r": raw}))
        out = con.sql("SELECT sha256(r) AS h FROM raw").to_arrow_table()
        return out.column(0).combine_chunks().cast(pa.string())
    finally:
        con.close()
