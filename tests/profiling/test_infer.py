"""`infer` drafts contracts that aiready itself accepts: applied to their own data, 0 quarantined.

Every round trip is real: the draft is written into a workspace, the file is ingested into a
real bronze Delta table and refined through the DuckDB gate.
"""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import aiready
from aiready.contracts import compile_contract, load_contract, load_yaml
from aiready.contracts.lint import lint_contract
from aiready.errors import SourceError
from aiready.profiling import Draft, infer_bronze, infer_file
from aiready.profiling.yamltext import Flow, Note, dump, plain
from aiready.storage import delta

DATA = Path(__file__).parents[1] / "data" / "nycflights13"


def refine_with(
    root: Path, draft: Draft, files: dict[str, Path], kind: str = "operational"
) -> aiready.Workspace:
    """A workspace holding ``files`` under data/ and the draft as its contract; ingest + refine."""
    (root / "data").mkdir(parents=True, exist_ok=True)
    (root / "contracts").mkdir(exist_ok=True)
    for name, path in files.items():
        shutil.copy(path, root / "data" / name)
    suffix = Path(next(iter(files))).suffix
    (root / f"contracts/{draft.name}.odcs.yaml").write_text(draft.text, encoding="utf-8")
    (root / "aiready.yaml").write_text(
        f"name: inferred\ndatasets:\n  {draft.name}:\n    kind: {kind}\n"
        f"    source: data/*{suffix}\n    contract: contracts/{draft.name}.odcs.yaml\n"
    )
    ws = aiready.Workspace.load(root)
    ws.ingest()
    results = ws.refine()
    assert all(r.passed for r in results), [r.asdict() for r in results]
    return ws


def assert_nothing_quarantined(ws: aiready.Workspace, dataset: str, rows: int) -> None:
    """Silver holds every row and the quarantine table none, read back from Delta."""
    quarantine = delta.dataset(ws.paths.table("quarantine", dataset))
    held = [] if quarantine is None else quarantine.to_table().to_pylist()
    assert held == [], [(r["_source_row"], r["_reasons"]) for r in held]
    silver = delta.dataset(ws.paths.table("silver", dataset))
    assert silver is not None and silver.count_rows() == rows


def props(draft: Draft) -> dict[str, dict[str, Any]]:
    return {p["name"]: p for p in draft.contract["schema"][0]["properties"]}


# -- the real files shipped with the tests ----------------------------------------------------


@pytest.mark.parametrize(
    "name", ["flights_pandas.csv", "flights_r.csv", "flights_excel.csv", "planes.csv"]
)
def test_real_exports_refine_with_nothing_quarantined(tmp_path: Path, name: str) -> None:
    draft = infer_file(DATA / name)
    rows = sum(1 for _ in csv.reader(io.StringIO((DATA / name).read_text("utf-8-sig")))) - 1
    assert draft.rows == rows
    linted = tmp_path / "draft.odcs.yaml"
    linted.write_text(draft.text, encoding="utf-8")
    errors = [p for p in lint_contract(linted) if p.severity == "error"]
    assert errors == []  # infer → lint: a draft has no errors
    assert_nothing_quarantined(refine_with(tmp_path, draft, {name: DATA / name}), draft.name, rows)


def test_pandas_integral_floats_are_integers_and_r_na_is_a_declared_token() -> None:
    pandas = props(infer_file(DATA / "flights_pandas.csv"))
    r = props(infer_file(DATA / "flights_r.csv"))
    rows = list(csv.DictReader(io.StringIO((DATA / "flights_pandas.csv").read_text())))
    assert any(row["arr_time"].endswith(".0") for row in rows)  # pandas wrote 830.0
    assert pandas["arr_time"]["logicalType"] == r["arr_time"]["logicalType"] == "integer"
    integral = re.compile(r"-?[0-9]+(\.0*)?")
    fractional = any(not integral.fullmatch(r["dep_time"]) for r in rows if r["dep_time"])
    assert pandas["dep_time"]["logicalType"] == ("number" if fractional else "integer")
    assert r["arr_time"]["quality"][0]["arguments"]["missingValues"] == ["NA"]
    assert r["tailnum"]["quality"][0]["arguments"]["missingValues"] == ["NA"]
    origins = sorted({r["origin"] for r in rows})
    assert pandas["origin"]["quality"][0]["arguments"]["validValues"] == origins


def test_each_inference_carries_its_evidence_in_a_comment() -> None:
    path = DATA / "planes.csv"
    draft = infer_file(path)
    table = list(csv.DictReader(io.StringIO(path.read_text())))
    speeds = [row["speed"] for row in table]
    nulls = sum(1 for s in speeds if s in ("", "NA"))
    distinct = len({s for s in speeds if s not in ("", "NA")})
    assert f"# speed: {len(table)} rows, {nulls} nulls, {distinct} distinct" in draft.text
    assert f"'NA' x{speeds.count('NA')}" in draft.text
    key = draft.primary_key
    assert key == "tailnum" and len({row["tailnum"] for row in table}) == len(table)
    line = next(x for x in draft.text.splitlines() if "primaryKey: true" in x)
    assert f"unique and non-null in all {len(table)} rows" in line


def test_strategic_draft_has_a_key_and_an_owner_and_merges(tmp_path: Path) -> None:
    path = DATA / "planes.csv"
    draft = infer_file(path, kind="strategic")
    compiled = compile_contract(load_contract(_write(tmp_path / "c.yaml", draft.text)), "planes")
    assert compiled.primary_key == ("tailnum",) and compiled.owners
    rows = len(path.read_text().splitlines()) - 1
    ws = refine_with(tmp_path / "ws", draft, {"planes.csv": path}, kind="strategic")
    assert_nothing_quarantined(ws, "planes", rows)


# -- generated CSVs: whatever the mix, the draft accepts its own data --------------------------

_TOKENS = st.sampled_from(["", "NA", "N/A", "NULL", " ", "-"])


def _column(kind: str) -> st.SearchStrategy[list[str]]:
    values: dict[str, st.SearchStrategy[str]] = {
        "int": st.integers(-(2**62), 2**62).map(str),
        "pandas_int": st.integers(-(10**6), 10**6).map(lambda i: f"{i}.0"),
        "decimal": st.decimals(-(10**6), 10**6, places=2, allow_nan=False).map(str),
        "float": st.floats(allow_nan=False, allow_infinity=False, width=64).map(repr),
        "bool": st.sampled_from(["true", "false", "True", "FALSE", "1", "0"]),
        "date": st.dates().map(lambda d: d.isoformat()),
        "timestamp": st.datetimes(timezones=st.just(UTC)).map(lambda d: d.isoformat()),
        "zip": st.integers(0, 99999).map(lambda i: f"{i:05d}"),
        "text": st.text(
            st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=12
        ),
        "category": st.sampled_from(["red", "green", "blue, sky", 'say "hi"', "ünï"]),
        "email": st.from_regex(r"[a-z]{1,8}@[a-z]{1,8}\.(com|org)", fullmatch=True),
        "int_forms": st.sampled_from(["1", "1.0", "2", "2.00", "1e0", "+3", " 4 "]),
        "mixed": st.one_of(st.integers(0, 9).map(str), st.just("abc"), st.just("2.5")),
    }
    cell = st.one_of(values[kind], _TOKENS) if kind != "category" else values[kind]
    return st.lists(cell, min_size=6, max_size=6)


@st.composite
def generated_csv(draw: st.DrawFn) -> str:
    kinds = draw(st.lists(st.sampled_from(sorted(_KINDS)), min_size=1, max_size=6))
    columns = [draw(_column(k)) for k in kinds]
    if draw(st.booleans()):  # else a generated column may be chosen as the key
        kinds, columns = ["id", *kinds], [[str(n + 1) for n in range(6)], *columns]
    header = [f"c{i} {k}" if k != "id" else k for i, k in enumerate(kinds)]
    out = io.StringIO()
    end = draw(st.sampled_from(["\n", "\r\n"]))
    # with a bare "\n" ending, csv leaves a lone "\r" unquoted: quote every field then
    writer = csv.writer(
        out, lineterminator=end, quoting=csv.QUOTE_ALL if end == "\n" else csv.QUOTE_MINIMAL
    )
    writer.writerow(header)
    for n in range(6):
        writer.writerow([c[n] for c in columns])
    return out.getvalue()


_KINDS = {
    "int", "pandas_int", "decimal", "float", "bool", "date", "timestamp", "zip", "text",
    "category", "email", "mixed", "int_forms",
}  # fmt: skip


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(text=generated_csv())
def test_generated_csv_round_trips_with_nothing_quarantined(tmp_path: Path, text: str) -> None:
    root = tmp_path / uuid.uuid4().hex
    root.mkdir()
    source = root / "gen.csv"
    source.write_text(text, encoding="utf-8", newline="")
    draft = infer_file(source)
    assert_nothing_quarantined(refine_with(root / "ws", draft, {"gen.csv": source}), "gen", 6)


def test_leading_zeros_stay_text_and_integers_do_not() -> None:
    draft = _infer_text("zip,n,code\n01234,1,NA\n12345,2,US\n00501,3,DE\n")
    p = props(draft)
    assert p["zip"]["logicalType"] == "string"
    assert p["zip"]["logicalTypeOptions"]["pattern"] == "^[0-9]+$"
    assert p["n"]["logicalType"] == "integer"
    assert p["code"].get("quality") is None  # 'NA' among two-letter codes is a code


def test_one_integer_written_two_ways_is_not_a_key() -> None:
    draft = _infer_text("n,s\n1,a\n1.0,b\n2,c\n")
    assert draft.primary_key == "s"
    assert next(p for p in draft.profiles if p.name == "n").distinct == 2


def test_mixed_values_fall_back_to_string_and_exponents_to_number() -> None:
    p = props(_infer_text("a,b,c,d\n1,1e3,1.5,true\nabc,2,1e-1,0\n2.5,3,2,false\n"))
    assert [p[c]["logicalType"] for c in "abcd"] == ["string", "integer", "number", "boolean"]


def test_patterns_are_anchored_and_hold_for_every_value() -> None:
    ids = [str(uuid.UUID(int=i + 1)) for i in range(4)]
    text = "u,e\n" + "".join(f"{u},x{i}@example.org\n" for i, u in enumerate(ids))
    p = props(_infer_text(text))
    for name, fmt in (("u", "uuid"), ("e", "email")):
        opts = p[name]["logicalTypeOptions"]
        assert opts["pattern"].startswith("^") and opts["pattern"].endswith("$")
        assert opts["format"] == fmt
    assert p["e"]["tags"] == ["pii", "pii:email"]


# -- JSONL, Parquet and bronze --------------------------------------------------------------


def test_jsonl_round_trip(tmp_path: Path) -> None:
    records = [
        {"id": i, "score": i / 4, "ok": i % 2 == 0, "tags": ["a", "b"][: i % 3], "meta": {"k": i}}
        for i in range(1, 9)
    ]
    records[3]["score"] = None
    del records[5]["ok"]
    path = tmp_path / "events.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in records) + "\n")
    draft = infer_file(path)
    p = props(draft)
    assert p["meta"]["logicalType"] == "object" and p["tags"]["logicalType"] == "array"
    assert p["ok"]["logicalType"] == "boolean" and "required" not in p["ok"]
    ws = refine_with(tmp_path / "ws", draft, {"events.jsonl": path})
    assert_nothing_quarantined(ws, "events", 8)


def test_parquet_round_trip(tmp_path: Path) -> None:
    table = pa.table(
        {
            "id": pa.array([1, 2, 3, 4], pa.int64()),
            "amount": pa.array([1.0, None, 2.5, float("nan")], pa.float64()),
            "at": pa.array([datetime(2024, 1, d, 5, tzinfo=UTC) for d in range(1, 5)]),
            "day": pa.array([datetime(2024, 2, d).date() for d in range(1, 5)]),
            "name": pa.array(["ann", "bob", None, "dé"]),
        }
    )
    path = tmp_path / "t.parquet"
    pq.write_table(table, path)
    draft = infer_file(path)
    p = props(draft)
    assert p["at"]["logicalType"] == "timestamp" and p["day"]["logicalType"] == "date"
    assert p["amount"]["quality"][0]["arguments"]["missingValues"] == ["nan"]
    assert_nothing_quarantined(refine_with(tmp_path / "ws", draft, {"t.parquet": path}), "t", 4)


def test_bronze_of_a_dataset_is_profiled_through_its_snapshot(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    (root / "data").mkdir(parents=True)
    (root / "contracts").mkdir()
    (root / "contracts/orders.odcs.yaml").write_text(
        "apiVersion: v3.1.0\nkind: DataContract\nid: orders\nversion: 0.0.1\nstatus: draft\n"
        "schema:\n  - name: orders\n    properties:\n      - {name: id, logicalType: string}\n"
    )
    (root / "aiready.yaml").write_text(
        "name: w\ndatasets:\n  orders:\n    source: data/*.csv\n"
        "    contract: contracts/orders.odcs.yaml\n    null_values: ['?']\n"
    )
    (root / "data/a.csv").write_text("id,qty\n1,5\n2,?\n")
    ws = aiready.Workspace.load(root)
    ws.ingest()
    (root / "data/b.csv").write_text("id,qty\n3,7.0\n4,8\n")
    ws.ingest()
    draft = infer_bronze(ws.paths.table("bronze", "orders"), ws.dataset("orders"))
    assert draft.rows == 4 and draft.source == "bronze.orders"
    p = props(draft)
    assert p["qty"]["logicalType"] == "integer"  # '?' is the dataset's token: not a value
    assert p["qty"]["logicalTypeOptions"] == {"minimum": 5, "maximum": 8}
    (root / "contracts/orders.odcs.yaml").write_text(draft.text)
    ws = aiready.Workspace.load(root)
    assert all(r.passed for r in ws.refine())
    assert_nothing_quarantined(ws, "orders", 4)


# -- bad input: clear errors naming the file ------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content", "says"),
    [
        ("empty.csv", b"", "empty"),
        ("header.csv", b"a,b\n", "no rows"),
        ("image.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe", "not valid UTF-8"),
        ("ragged.csv", b"a,b\n1,2,3\n4\n", "none of its 2 records"),
        ("broken.parquet", b"PAR1 not really", "not a readable Parquet"),
        ("notes.txt", b"a,b\n1,2\n", "cannot tell the format"),
        ("lines.jsonl", b"[1]\nnot json\n", "none of its 2 records"),
    ],
)
def test_unusable_files_are_refused_naming_the_file(
    tmp_path: Path, name: str, content: bytes, says: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(SourceError, match=says) as info:
        infer_file(path)
    assert info.value.attrs()["file"] == str(path)


def test_a_missing_file_and_a_keyless_strategic_draft_are_refused(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="no such file"):
        infer_file(tmp_path / "nope.csv")
    (tmp_path / "folder.csv").mkdir()
    with pytest.raises(SourceError, match="a folder, not a file"):
        infer_file(tmp_path / "folder.csv")
    path = _write(tmp_path / "dup.csv", "a,b\n1,x\n1,x\n")
    with pytest.raises(SourceError, match="strategic dataset needs a primary key"):
        infer_file(path, kind="strategic")


def test_unparsable_records_are_left_out_and_said_so(tmp_path: Path) -> None:
    path = _write(tmp_path / "some.csv", "a,b\n1,x\n2,y,extra\n3,z\n")
    draft = infer_file(path)
    assert (draft.rows, draft.malformed) == (2, 1)
    assert "1 unparsable records left out (refine quarantines them)" in draft.text


def test_a_dataset_not_yet_ingested_is_named(make_workspace: Any) -> None:
    ws = make_workspace()
    with pytest.raises(SourceError, match="no bronze table yet: run `aiready ingest payments`"):
        infer_bronze(ws.paths.table("bronze", "payments"), ws.dataset("payments"))


# -- the YAML writer --------------------------------------------------------------------------

_AWKWARD = st.text(st.characters(blacklist_categories=("Cs",)), max_size=20)


@settings(max_examples=200, deadline=None)
@given(key=_AWKWARD, value=_AWKWARD, items=st.lists(_AWKWARD, max_size=4), note=_AWKWARD)
def test_yaml_writer_reads_back_as_written(
    tmp_path_factory: pytest.TempPathFactory, key: str, value: str, items: list[str], note: str
) -> None:
    doc = {"top": Note({key: value, "list": Flow(items), "seq": [Note({"k": value}, note)]}, note)}
    path = tmp_path_factory.mktemp("y") / "doc.yaml"
    path.write_text(dump(doc, [note]), encoding="utf-8")
    assert load_yaml(path) == plain(doc)


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def _infer_text(text: str) -> Draft:
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        return infer_file(_write(Path(folder) / "t.csv", text))


def test_the_readme_example_is_what_infer_writes() -> None:
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    section = readme[readme.index("**Starting a contract from data") :]
    block = section[section.index("```console") : section.index("```", section.index("$ sed"))]
    shown = block.split("\n")[3:-1]  # after the two commands
    assert shown and "\n".join(shown) in infer_file(DATA / "planes.csv").text


def test_a_column_named_v_next_to_another_is_profiled(tmp_path: Path) -> None:
    """Found by an adversarial run: the profiler's own alias `v` captured a data column `v`."""
    path = tmp_path / "kv.csv"
    path.write_text("k,v\n1,NA\n2,a\n3,b\n4,a\n")
    draft = infer_file(path)
    assert props(draft)["v"]["logicalType"] == "string"
    assert props(draft)["k"]["logicalType"] == "integer"


def test_columns_that_differ_only_in_case_are_refused_as_ingest_refuses_them(
    tmp_path: Path,
) -> None:
    path = tmp_path / "twins.csv"
    path.write_text("id,a,A\n1,1,x\n2,2,y\n")
    with pytest.raises(SourceError, match="differ only in case") as err:
        infer_file(path)
    assert err.value.attrs()["file"] == str(path)


def test_a_json_field_with_no_name_is_a_malformed_record(tmp_path: Path) -> None:
    """Found by an adversarial run: an empty JSON key reached the profiler's SQL (exit 3)."""
    path = tmp_path / "keys.jsonl"
    path.write_text('{"": 1, "x": 2}\n{"x": 3}\n{" ": 4, "x": 5}\n{"x": 6}\n')
    draft = infer_file(path)
    assert list(props(draft)) == ["x"] and "2 unparsable records" in draft.text
    ws = refine_with(tmp_path / "ws", draft, {"keys.jsonl": path})
    assert sorted(
        r["x"] for r in delta.dataset(ws.paths.table("silver", "keys")).to_table().to_pylist()
    ) == [3, 6]
    held = {r["_source_row"]: r["_reasons"][0]["message"] for r in ws.quarantine("keys")}
    assert set(held) == {1, 3} and all("no name" in m for m in held.values())


def test_nanosecond_timestamps_stay_text(tmp_path: Path) -> None:
    """Silver keeps microseconds: a draft must not promise timestamps that would be cut."""
    path = tmp_path / "ns.csv"
    path.write_text(
        "id,at,us\n1,2024-01-01T00:00:00.123456789Z,2024-01-01T00:00:00.5Z\n"
        "2,2024-01-02T00:00:00.000000001Z,2024-01-02T00:00:00.123456Z\n"
    )
    p = props(infer_file(path))
    assert p["at"]["logicalType"] == "string" and p["us"]["logicalType"] == "timestamp"
    ws = refine_with(tmp_path / "ws", infer_file(path), {"ns.csv": path})
    assert_nothing_quarantined(ws, "ns", 2)
