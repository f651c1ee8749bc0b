"""Hostile contracts and source files: a clear, typed error or quarantine, never a crash or loss.

Contracts: a valid contract with generated parts swapped in (wrong types, unknown keys, bad
regexes, SQL fragments, huge or negative limits) either compiles or raises ContractError naming
the file. Sources: generated CSV and JSONL bytes (quotes, stray delimiters, NUL, invalid UTF-8,
BOMs, ragged rows, nested JSON) are ingested and refined; every record is in bronze once, and
silver + quarantine = bronze, also after a rerun.
"""

from __future__ import annotations

import copy
import tempfile
import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml
from deltalake import DeltaTable
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

import aiready
from aiready import AireadyError, ContractError, compile_contract, load_contract
from tests.conftest import CONTRACT_HEAD

BASE: dict[str, Any] = {
    **yaml.safe_load(CONTRACT_HEAD.format(id="orders")),
    "schema": [
        {
            "name": "orders",
            "properties": [
                {"name": "id", "logicalType": "integer", "primaryKey": True},
                {
                    "name": "amount",
                    "logicalType": "number",
                    "physicalType": "DECIMAL(10,2)",
                    "logicalTypeOptions": {"minimum": 0},
                },
                {
                    "name": "status",
                    "logicalType": "string",
                    "quality": [
                        {
                            "metric": "invalidValues",
                            "arguments": {"validValues": ["new", "paid"]},
                            "mustBe": 0,
                        }
                    ],
                },
                {"name": "at", "logicalType": "timestamp", "required": True},
            ],
            "quality": [{"metric": "rowCount", "mustBeGreaterThan": 0}],
        }
    ],
}

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=12),
    st.sampled_from(
        ["integer", "DECIMAL(99,98)", "DECIMAL(3,5)", "[", "(?P<", "a{2,1}", "SELECT 1;DROP",
         "{object}", "'; --", "timestamp", "object", "x" * 300, "mustBe", "quarantine", "-1"]
    ),
)  # fmt: skip
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
PROPERTY_KEYS = [
    "name", "logicalType", "physicalType", "required", "unique", "primaryKey", "logicalTypeOptions",
    "quality", "classification", "tags", "customProperties", "examples",
]  # fmt: skip
OPTION_KEYS = [
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "pattern",
    "minLength",
    "maxLength",
    "format",
]
QUALITY_KEYS = [
    "metric", "type", "query", "mustBe", "mustBeLessThan", "mustBeGreaterThan", "mustBeBetween",
    "arguments", "unit", "severity", "name", "customProperties",
]  # fmt: skip

edits = st.lists(
    st.one_of(
        st.tuples(st.just("property"), st.integers(0, 3), st.sampled_from(PROPERTY_KEYS), values),
        st.tuples(st.just("option"), st.integers(0, 3), st.sampled_from(OPTION_KEYS), values),
        st.tuples(st.just("quality"), st.integers(0, 3), st.sampled_from(QUALITY_KEYS), values),
        st.tuples(
            st.just("top"), st.just(0), st.sampled_from(["schema", "id", "kind", "team"]), values
        ),
    ),
    min_size=1,
    max_size=4,
)


def apply(edit: tuple[str, int, str, Any]) -> dict[str, Any]:
    doc = copy.deepcopy(BASE)
    where, index, key, value = edit
    props = doc["schema"][0]["properties"]
    if where == "top":
        doc[key] = value
    elif where == "property":
        props[index][key] = value
    elif where == "option":
        props[index].setdefault("logicalTypeOptions", {})[key] = value
    else:
        props[index].setdefault("quality", [{}])[0][key] = value
    return doc


@settings(max_examples=150, deadline=None)
@given(edits)
def test_hostile_contracts_compile_or_name_the_file(
    edit_list: list[tuple[str, int, str, Any]],
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "orders.odcs.yaml"
        doc = copy.deepcopy(BASE)
        for edit in edit_list:
            doc = apply(edit) if doc == BASE else _merge(doc, apply(edit))
        path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
        try:
            compile_contract(load_contract(path), "orders")
        except ContractError as exc:
            assert str(path) in str(exc), exc
            assert exc.message.strip()


def _merge(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    """Apply the differences of ``b`` from BASE on top of ``a`` (several edits at once)."""
    out = copy.deepcopy(a)
    for key, value in b.items():
        if value != BASE.get(key):
            out[key] = value
    return out


def test_unparsable_contract_bytes_name_the_file(tmp_path: Path) -> None:
    for i, raw in enumerate(
        [b"\xff\xfe\x00", b"schema: [", b"- just\n- a list\n", b"{a: !!python/object:os.system x}"]
    ):
        path = tmp_path / f"c{i}.yaml"
        path.write_bytes(raw)
        with pytest.raises(ContractError) as err:
            compile_contract(load_contract(path), "orders")
        assert str(path) in str(err.value)


CONTRACT = """\
schema:
  - name: orders
    properties:
      - {name: id, logicalType: integer, primaryKey: true}
      - name: amount
        logicalType: number
        physicalType: DECIMAL(10,2)
        logicalTypeOptions: {minimum: 0}
      - {name: note, logicalType: string}
"""
cells = st.one_of(
    st.integers(-5, 30).map(str),
    st.sampled_from(["", " ", '"', '""', ",", "\n", "\r\n", "\x00", "1.5", "-2", "é", "\ufeff",
                     '"a,b"', '"multi\nline"', "\\", "NULL", "1e999", "٣"]),
    st.text(max_size=6),
)  # fmt: skip
csv_lines = st.lists(st.lists(cells, min_size=0, max_size=5).map(",".join), max_size=25)
json_lines = st.lists(
    st.one_of(
        st.fixed_dictionaries(
            {
                "id": st.one_of(st.integers(-3, 30), cells),
                "amount": st.one_of(st.floats(allow_nan=False, allow_infinity=False), cells),
                "note": values,
            }
        ).map(lambda d: __import__("json").dumps(d)),
        st.sampled_from(["{", "[]", "null", "1", '{"id": 1', "{'id': 2}", "", "   ", "\x00"]),
        st.text(max_size=20),
    ),
    max_size=25,
)
raw_bytes = st.sampled_from([b"", b"\xef\xbb\xbf", b"\xff\xfe", b"\x80\x81"])


def _workspace(root: Path, source: str) -> aiready.Workspace:
    (root / "contracts").mkdir(parents=True)
    (root / "aiready.yaml").write_text(
        textwrap.dedent(f"""\
        name: fuzz
        datasets:
          orders:
            kind: operational
            source: {source}
            contract: contracts/orders.odcs.yaml
        """)
    )
    (root / "contracts/orders.odcs.yaml").write_text(CONTRACT_HEAD.format(id="orders") + CONTRACT)
    return aiready.Workspace.load(root)


def _count(ws: aiready.Workspace, layer: str) -> int:
    path = ws.paths.table(layer, "orders")
    return DeltaTable(str(path)).count() if (path / "_delta_log").exists() else 0


def _ingest_and_refine(ws: aiready.Workspace) -> int | None:
    """Bronze row count, or None when the file was refused as a whole (with a clear error).

    A batch that fails a batch-level check (say, a required column absent because every line is
    malformed) stays pending in bronze, named in the result; its rows are not lost.
    """
    try:
        ingested = ws.ingest()
        refined = ws.refine()
    except AireadyError as exc:
        assert exc.message.strip()
        event(f"refused: {type(exc).__name__}")
        return None
    for error in (e for r in ingested for e in r.errors):
        assert error.get("file") and error.get("message"), error
    pending = {b for r in refined for b in r.pending}
    for report in (rep for r in refined for rep in r.reports if rep.batch_id in pending):
        assert report.failures, report  # pending only with a reason
    bronze = _count(ws, "bronze")
    held = 0
    if pending and bronze:
        table = DeltaTable(str(ws.paths.table("bronze", "orders"))).to_pyarrow_table(
            columns=["_batch_id"]
        )
        held = sum(b in pending for b in table.column("_batch_id").to_pylist())
    assert _count(ws, "silver") + _count(ws, "quarantine") + held == bronze
    event("batch held pending" if held else "ingested and refined")
    return bronze


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(prefix=raw_bytes, lines=csv_lines, junk=raw_bytes)
def test_fuzzed_csv_is_ingested_whole_or_refused(
    prefix: bytes, lines: list[str], junk: bytes
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        ws = _workspace(Path(tmp), "data/*.csv")
        body = "id,amount,note\n" + "\n".join(lines)
        (Path(tmp) / "data").mkdir()
        (Path(tmp) / "data/a.csv").write_bytes(
            prefix + body.encode("utf-8", "surrogatepass") + junk
        )
        first = _ingest_and_refine(ws)
        if first is None:
            return
        again = _ingest_and_refine(aiready.Workspace.load(Path(tmp)))
        assert again == first  # a rerun adds nothing


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(lines=json_lines, junk=raw_bytes)
@example(lines=['{"id": 1, "amount": 1.0, "note": null}', "\xa0", "\x0c"], junk=b"")  # found
def test_fuzzed_jsonl_keeps_every_line(lines: list[str], junk: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        ws = _workspace(Path(tmp), "data/*.jsonl")
        (Path(tmp) / "data").mkdir()
        data = ("\n".join(lines)).encode("utf-8", "surrogatepass") + junk
        (Path(tmp) / "data/a.jsonl").write_bytes(data)
        bronze = _ingest_and_refine(ws)
        if bronze is None:
            return
        lines_ = data.removeprefix(b"\xef\xbb\xbf").split(b"\n")
        records = [x for x in lines_ if x.strip(b" \t\r")]  # JSON whitespace only is blank
        assert bronze == len(records)
