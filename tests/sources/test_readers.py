"""Source readers keep every record; only a file that cannot be read at all raises."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from aiready import SourceError
from aiready.sources import read_source


def csv(tmp_path: Path, data: bytes) -> Path:
    path = tmp_path / "f.csv"
    path.write_bytes(data)
    return path


def test_csv_values_kept_as_read(tmp_path: Path) -> None:
    parsed = read_source(csv(tmp_path, b"a,b\n 1 ,x\n2,\n"), "csv")
    rows = parsed.table.to_pylist()
    assert parsed.columns == ["a", "b"]
    assert [(r["a"], r["b"], r["_source_row"]) for r in rows] == [(" 1 ", "x", 1), ("2", "", 2)]
    assert all(r["_malformed"] is None and r["_raw"] is None for r in rows)


def test_ragged_row_is_kept_with_raw_text(tmp_path: Path) -> None:
    parsed = read_source(csv(tmp_path, b"a,b\n1,2\n3,4,5\n6\n7,8\n"), "csv")
    rows = parsed.table.to_pylist()
    assert [r["_source_row"] for r in rows] == [1, 2, 3, 4]
    assert rows[1]["_raw"] == "3,4,5\n" and "expected 2 fields, found 3" in rows[1]["_malformed"]
    assert rows[2]["_raw"] == "6\n" and rows[2]["_malformed"]
    assert parsed.malformed == 2


def test_non_utf8_bytes_are_a_malformed_record(tmp_path: Path) -> None:
    parsed = read_source(csv(tmp_path, b"a,b\n1,caf\xe9\n2,ok\n"), "csv")
    rows = parsed.table.to_pylist()
    assert rows[0]["_malformed"].startswith("bad encoding")
    assert rows[0]["_raw"] == "1,caf\\xe9\n"
    assert rows[1]["b"] == "ok"


def test_quoted_newline_keeps_record_together(tmp_path: Path) -> None:
    parsed = read_source(csv(tmp_path, b'a,b\n1,"two\nlines"\n2,x\n'), "csv")
    rows = parsed.table.to_pylist()
    assert rows[0]["b"] == "two\nlines"
    assert [r["_source_row"] for r in rows] == [1, 2]


def test_one_megabyte_field(tmp_path: Path) -> None:
    big = "x" * 1_048_576
    parsed = read_source(csv(tmp_path, f'a,b\n1,"{big}"\n'.encode()), "csv")
    assert parsed.table.column("b")[0].as_py() == big


def test_empty_csv_is_an_error_naming_the_file(tmp_path: Path) -> None:
    path = csv(tmp_path, b"")
    with pytest.raises(SourceError, match="no header") as info:
        read_source(path, "csv")
    assert info.value.attrs()["file"] == str(path)


def test_header_only_csv_has_no_rows(tmp_path: Path) -> None:
    parsed = read_source(csv(tmp_path, b"a,b\n"), "csv")
    assert parsed.columns == ["a", "b"] and parsed.table.num_rows == 0


def test_duplicate_and_reserved_header_names(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="appears twice"):
        read_source(csv(tmp_path, b"a,a\n1,2\n"), "csv")
    with pytest.raises(SourceError, match="reserved"):
        read_source(csv(tmp_path, b"a,_batch_id\n1,2\n"), "csv")


def test_jsonl_invalid_line_and_non_object(tmp_path: Path) -> None:
    path = tmp_path / "f.jsonl"
    path.write_text('{"a": 1, "b": true}\n{"a": \n\n[1, 2]\n{"a": "x", "c": {"k": 1}}\n')
    parsed = read_source(path, "jsonl")
    rows = parsed.table.to_pylist()
    assert parsed.columns == ["a", "b", "c"]
    assert (rows[0]["a"], rows[0]["b"]) == ("1", "true")
    assert rows[1]["_malformed"].startswith("invalid JSON") and rows[1]["_raw"] == '{"a": '
    assert rows[2]["_source_row"] == 4 and "must be an object" in rows[2]["_malformed"]
    assert json.loads(rows[3]["c"]) == {"k": 1} and rows[3]["b"] is None


def test_parquet_values_as_text(tmp_path: Path) -> None:
    path = tmp_path / "f.parquet"
    pq.write_table(pa.table({"i": [1, None], "f": [1.5, 2.0], "s": ["x", "y"]}), path)
    rows = read_source(path, "parquet").table.to_pylist()
    assert [(r["i"], r["f"], r["s"]) for r in rows] == [("1", "1.5", "x"), (None, "2.0", "y")]


def test_corrupt_parquet_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "f.parquet"
    path.write_bytes(b"PAR1 not really")
    with pytest.raises(SourceError, match="Parquet"):
        read_source(path, "parquet")
