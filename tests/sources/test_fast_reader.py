"""The fast CSV path gives exactly the reference reader's table: same values, rows, raw and hashes.

Generated files mix plain lines (Arrow's path) with everything the reference must handle:
quotes, quoted newlines, ragged rows, CR, CRLF, lone CRs, NUL, BOMs, bytes that are not UTF-8
and blank lines, with ``,`` and ``;`` delimiters.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from aiready import SourceError
from aiready.sources import read_source
from aiready.sources.readers import read_csv_reference

cells = st.one_of(
    st.integers(-5, 999).map(str),
    st.sampled_from(["", " ", "517.0", "NA", "x y", '"q"', '"a,b"', '"a;b"', '"two\nlines"',
                     '""', 'a"b', "\r", "\r\n", "\x00", "\ufeff", "é", "\\", ",", ";"]),
    st.text(max_size=4),
)  # fmt: skip
raw_bytes = st.sampled_from([b"", b"\xef\xbb\xbf", b"\xff", b"\x80\x81", b"\r", b"\n"])


def _file(header: str, rows: list[list[str]], sep: str, ends: list[str]) -> bytes:
    lines = [header] + [sep.join(r) for r in rows]
    return "".join(line + ends[i % len(ends)] for i, line in enumerate(lines)).encode(
        "utf-8", "surrogatepass"
    )


def _same(data: bytes, sep: str, chunk_lines: int = 500_000) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "f.csv"
        path.write_bytes(data)
        try:
            expected = read_csv_reference(path, data, sep)
        except SourceError as exc:
            with pytest.raises(SourceError) as info:
                read_source(path, "csv", sep, chunk_lines=chunk_lines)
            assert info.value.message == exc.message
            return
        got = read_source(path, "csv", sep, chunk_lines=chunk_lines)
        assert got.columns == expected.columns
        assert got.table.schema == expected.table.schema
        assert got.table.to_pylist() == expected.table.to_pylist()


@settings(max_examples=300, deadline=None)
@given(
    sep=st.sampled_from([",", ";"]),
    width=st.integers(1, 4),
    rows=st.lists(st.lists(cells, min_size=0, max_size=5), max_size=20),
    ends=st.lists(st.sampled_from(["\n", "\r\n", "", "\r"]), min_size=1, max_size=3),
    prefix=raw_bytes,
    junk=raw_bytes,
    chunk=st.sampled_from([1, 2, 3, 7, 500_000]),
)
@example(sep=",", width=2, rows=[["1", '"a\nb"'], ["2", "3"]], ends=["\n"], prefix=b"", junk=b"",
         chunk=1)  # fmt: skip
@example(sep=";", width=2, rows=[["1", "2"], [], ["3"]], ends=["\r\n"], prefix=b"\xef\xbb\xbf",
         junk=b"\xff", chunk=500_000)  # fmt: skip
def test_fast_reader_equals_reference(
    sep: str,
    width: int,
    rows: list[list[str]],
    ends: list[str],
    prefix: bytes,
    junk: bytes,
    chunk: int,
) -> None:
    """Whatever the chunk size: ingest parses in windows, a record never splits across two."""
    header = sep.join(f"c{i}" for i in range(width))
    _same(prefix + _file(header, rows, sep, ends) + junk, sep, chunk)


@settings(max_examples=100, deadline=None)
@given(rows=st.lists(st.lists(st.integers(0, 99).map(str), min_size=3, max_size=3), max_size=30),
       bad=st.lists(st.integers(0, 29), max_size=4), chunk=st.integers(1, 12))  # fmt: skip
def test_mostly_plain_file_with_a_few_hard_lines(
    rows: list[list[str]], bad: list[int], chunk: int
) -> None:
    """The common shape: long runs of Arrow lines around a few reference records."""
    for i in bad:
        if i < len(rows):
            rows[i][1] = ['"x\ny"', "a,b", "\udcff", '"q""q"'][i % 4]
    _same(_file("a,b,c", rows, ",", ["\n"]), ",", chunk)


def test_r_style_quoted_text_equals_reference() -> None:
    """R's write.csv quotes every string: such lines stay on the fast path and read the same."""
    _same(b'"a","b","c"\n1,"UA","x, ""y"""\n2,"",NA\n3,"a"b,"c"\n4,"z\n5",6\n', ",")


def test_row_numbers_and_hashes_follow_the_file(tmp_path: Path) -> None:
    import hashlib

    data = b'a,b\n1,2\n\n3,"x\ny"\n4,5,6\r\n7,8'
    path = tmp_path / "f.csv"
    path.write_bytes(data)
    rows = read_source(path, "csv").table.to_pylist()
    assert [r["_source_row"] for r in rows] == [1, 3, 4, 5]
    assert rows[0]["_record_hash"] == hashlib.sha256(b"1,2\n").hexdigest()
    assert rows[3]["_record_hash"] == hashlib.sha256(b"7,8").hexdigest()
    assert rows[2]["_raw"] == "4,5,6\r\n" and rows[2]["_malformed"].startswith("ragged")


def test_jsonl_and_parquet_hashes_are_sha256_of_the_record_text(tmp_path: Path) -> None:
    import hashlib
    import json

    import pyarrow as pa
    import pyarrow.parquet as pq

    lines = [b'{"a": 1, "b": "\xc3\xa9"}', b"{bad", b'{"a": "caf\xe9"}']
    path = tmp_path / "f.jsonl"
    path.write_bytes(b"\r\n".join(lines) + b"\n")
    rows = read_source(path, "jsonl").table.to_pylist()
    assert [r["_record_hash"] for r in rows] == [
        hashlib.sha256(line).hexdigest() for line in (lines[0], lines[1], b'{"a": "caf\\xe9"}')
    ]
    path = tmp_path / "f.parquet"
    pq.write_table(pa.table({"i": [1, None], "s": ["x", "é"]}), path)
    rows = read_source(path, "parquet").table.to_pylist()
    texts = [
        json.dumps({"i": "1", "s": "x"}),
        json.dumps({"i": None, "s": "é"}, ensure_ascii=False),
    ]
    assert [r["_record_hash"] for r in rows] == [
        hashlib.sha256(t.encode()).hexdigest() for t in texts
    ]
