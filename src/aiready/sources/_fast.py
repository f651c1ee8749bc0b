"""Vectorised CSV: split lines, classify them, parse the plain ones with Arrow, hash with DuckDB.

A *plain* line holds no quote, no carriage return inside, no NUL, valid UTF-8 and exactly the
header's number of fields: Python's ``csv`` module would split it on the delimiter and nothing
else, so Arrow (quoting off) gives the same fields. Every other line goes to the reference reader.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

_BIN = pa.large_binary()


@dataclass(frozen=True)
class Lines:
    """A file's physical lines (split on LF, terminator removed)."""

    text: pa.LargeBinaryArray
    terminated: int
    """How many leading lines had an LF (all, or all but the last)."""

    def __len__(self) -> int:
        return len(self.text)

    def raw(self, i: int) -> bytes:
        """Line ``i`` with its LF, as read."""
        line: bytes = self.text[i].as_py()
        return line + b"\n" if i < self.terminated else line


def split_lines(data: bytes) -> Lines:
    """Physical lines of ``data``; a final LF ends the last line, it starts no empty one."""
    if not data:
        return Lines(pa.array([], _BIN), 0)
    pieces = pc.list_flatten(pc.split_pattern(pa.array([data], _BIN), b"\n"))
    if data.endswith(b"\n"):
        pieces = pieces.slice(0, len(pieces) - 1)
        return Lines(pieces, len(pieces))
    return Lines(pieces, len(pieces) - 1)


def content(lines: Lines) -> pa.Array:
    """Lines without one trailing CR (what the csv module treats as part of the line end)."""
    text = lines.text
    cr = pc.ends_with(text, b"\r")
    cut = pc.binary_slice(text, 0, -1)
    return pc.if_else(cr, cut, text)


def plain(body: pa.Array, fields: int, delimiter: str) -> tuple[np.ndarray, np.ndarray]:
    """(plain, blank) masks over the lines' ``body`` (see module docstring)."""
    blank = np.asarray(pc.equal(pc.binary_length(body), 0))
    special = pc.or_(
        pc.or_(pc.match_substring(body, '"'), pc.match_substring(body, "\r")),
        pc.or_(pc.match_substring(body, "\x00"), pc.starts_with(body, "\ufeff")),
    )  # Arrow would drop a BOM that starts its input
    count = pc.count_substring(body, delimiter)
    ok = pc.and_(pc.invert(special), pc.equal(count, fields - 1))
    good = np.asarray(ok) & _valid_utf8(body) & (fields > 0)
    return good | blank, blank


def _valid_utf8(body: pa.Array) -> np.ndarray:
    try:
        body.cast(pa.large_string())
        return np.ones(len(body), bool)
    except pa.ArrowInvalid:  # rare: find the lines, one by one
        return np.array([_decodes(b) for b in body.to_pylist()], bool)


def _decodes(line: bytes) -> bool:
    try:
        line.decode("utf-8")
        return True
    except UnicodeDecodeError:
        return False


def parse(body: pa.Array, names: list[str], delimiter: str) -> pa.Table:
    """Split plain, non-blank lines on the delimiter: every field text, as read."""
    if len(body) == 0:
        return pa.table({n: pa.array([], pa.string()) for n in names})
    buffer = pc.binary_join_element_wise(body, pa.scalar(b"", _BIN), pa.scalar(b"\n", _BIN))
    data = _contiguous(buffer)
    generated = [f"f{i}" for i in range(len(names))]
    longest = pc.max(pc.binary_length(body)).as_py() or 0
    block = max(1 << 24, 2 * longest + 16)  # a line never straddles two blocks
    table = pacsv.read_csv(
        pa.BufferReader(data),
        read_options=pacsv.ReadOptions(column_names=generated, block_size=block),
        parse_options=pacsv.ParseOptions(
            delimiter=delimiter,
            quote_char=False,
            escape_char=False,
            newlines_in_values=False,
            ignore_empty_lines=False,
        ),
        convert_options=pacsv.ConvertOptions(
            column_types=dict.fromkeys(generated, pa.string()),
            strings_can_be_null=False,
            quoted_strings_can_be_null=False,
            null_values=[],
            check_utf8=False,
        ),
    )
    return table.rename_columns(names).combine_chunks()


def _contiguous(values: pa.Array) -> pa.Buffer:
    """The values of a binary array back to back, without a copy."""
    values = pa.concat_arrays([values]) if values.offset else values
    offsets = np.frombuffer(values.buffers()[1], np.int64, len(values) + 1)
    data = values.buffers()[2]
    assert data is not None
    return data.slice(int(offsets[0]), int(offsets[-1] - offsets[0]))


def with_terminators(lines: Lines, mask: np.ndarray) -> pa.Array:
    """The raw text (LF included) of the lines selected by ``mask``."""
    lf = pa.scalar(b"\n", _BIN)
    raw = pc.binary_join_element_wise(lines.text, lf, pa.scalar(b"", _BIN))
    if lines.terminated < len(lines):
        raw = pa.concat_arrays([raw.slice(0, lines.terminated), lines.text.slice(lines.terminated)])
    return raw.filter(pa.array(mask))


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
