"""A JSON column accepts exactly what a strict RFC 8259 parser accepts.

DuckDB's own ``json_valid`` also takes trailing commas and NaN/Infinity; the gate refuses them so a
consumer that parses silver with a strict parser (Python's ``json`` without constants, Spark,
JavaScript) never meets a value it cannot read.
"""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aiready import CompiledContract, compile_contract, load_contract
from aiready.engines.duckdb import DuckDBGate

CONTRACT = """\
apiVersion: v3.1.0
kind: DataContract
id: j
version: 1.0.0
status: active
schema:
  - name: j
    properties:
      - {name: id, logicalType: integer, primaryKey: true}
      - {name: doc, logicalType: object}
"""
SAMPLES = [
    '{"a": 1}', "[1, 2]", "{", "1", '"x"', "null", "{a: 1}", "[1,]", "NaN", "-Infinity",
    '{"a": 1, "a": 2}', '{"a": 1,}', '["a,]", "b\\"c"]', "[1e-5, -0.5E+3]", '{"k": [true, false]}',
    "[01]", "'x'", '{"a" 1}', "[1 2]", "tru", '{"nan": "NaN"}', '"Infinity"', "[-]",
]  # fmt: skip


def _refuse(name: str) -> None:
    raise ValueError(name)


def strict(text: str) -> bool:
    try:
        json.loads(text, parse_constant=_refuse)
    except ValueError:
        return False
    return True


@pytest.fixture(scope="module")
def contract(tmp_path_factory: pytest.TempPathFactory) -> CompiledContract:
    path: Path = tmp_path_factory.mktemp("c") / "j.yaml"
    path.write_text(CONTRACT)
    return compile_contract(load_contract(path), "j")


def gate(contract: CompiledContract, docs: list[str]) -> set[int]:
    """The source rows whose doc the gate accepted."""
    n = len(docs)
    table = pa.table(
        {
            "id": pa.array([str(i) for i in range(n)], pa.string()),
            "doc": pa.array(docs, pa.string()),
            "_batch_id": pa.array(["b"] * n, pa.string()),
            "_source_file": pa.array(["f.jsonl"] * n, pa.string()),
            "_source_row": pa.array(range(n), pa.int64()),
            "_ingested_at": pa.nulls(n, pa.timestamp("us", tz="UTC")),
            "_record_hash": pa.array(["h"] * n, pa.string()),
            "_malformed": pa.nulls(n, pa.string()),
            "_raw": pa.nulls(n, pa.string()),
        }
    )
    with DuckDBGate().check(
        contract, table, "b", ["id", "doc"], None, "append", "j", "f.jsonl"
    ) as outcome:
        return set(outcome.silver_table().column("_source_row").to_pylist())


def test_samples_match_a_strict_parser(contract: CompiledContract) -> None:
    accepted = gate(contract, SAMPLES)
    assert {SAMPLES[i] for i in accepted} == {s for s in SAMPLES if strict(s.strip(" "))}


json_text = st.recursive(
    st.none() | st.booleans() | st.floats() | st.integers() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
).map(json.dumps)
mangled = st.tuples(json_text, st.sampled_from(["", ",", "]", "}", "x", " ,]", "[", "\\"])).map(
    lambda t: t[0][:-1] + t[1] + t[0][-1:] if t[0] else t[1]
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(json_text | mangled, min_size=1, max_size=20))
def test_generated_documents_match_a_strict_parser(
    contract: CompiledContract, docs: list[str]
) -> None:
    accepted = gate(contract, docs)
    assert accepted == {i for i, d in enumerate(docs) if d.strip(" ") and strict(d.strip(" "))}
