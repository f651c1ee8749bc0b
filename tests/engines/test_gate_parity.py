"""DuckDB and Spark gate the same generated batches identically, row by row and rule by rule.

The batch mixes values each engine parses differently if left alone (offsets without a colon,
nanoseconds, 1e309, NaN, invalid dates, JSON with trailing commas, NaN or duplicate keys, regex
escapes): the plan decides what is valid, not the engine's casts.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aiready import CompiledContract, compile_contract, load_contract
from aiready.engines.duckdb import DuckDBGate, GateOutcome
from aiready.engines.spark import SparkGate

pytestmark = pytest.mark.spark

CONTRACT = r"""
apiVersion: v3.1.0
kind: DataContract
id: wide
version: 1.0.0
status: active
schema:
  - name: wide
    properties:
      - {name: id, logicalType: integer, primaryKey: true}
      - name: qty
        logicalType: integer
        physicalType: INTEGER
        logicalTypeOptions: {minimum: 0, maximum: 100}
      - name: price
        logicalType: number
        physicalType: DECIMAL(8,2)
        logicalTypeOptions: {exclusiveMinimum: 0}
      - {name: ratio, logicalType: number}
      - name: day
        logicalType: date
        logicalTypeOptions: {minimum: '2020-01-01'}
      - {name: at, logicalType: timestamp}
      - {name: flag, logicalType: boolean}
      - {name: doc, logicalType: object}
      - name: code
        logicalType: string
        logicalTypeOptions: {pattern: '[A-Z]{2}\d{2}', maxLength: 4}
      - name: cat
        logicalType: string
        quality:
          - metric: invalidValues
            arguments: {validValues: [a, b, c]}
            mustBe: 0
          - metric: missingValues
            arguments: {missingValues: [null, '', 'N/A']}
            mustBe: 0
            severity: warning
      - name: dmy
        logicalType: date
        logicalTypeOptions: {format: dd/MM/yyyy, minimum: '2020-01-01'}
      - name: stamp
        logicalType: timestamp
        logicalTypeOptions: {format: 'd.M.yy H:mm XX'}
      - {name: mail, logicalType: string, logicalTypeOptions: {format: email}}
      - {name: hm, logicalType: time, logicalTypeOptions: {format: 'HH:mm'}}
      - name: email
        logicalType: string
        unique: true
        customProperties: [{property: onFail, value: drop}]
    quality:
      - type: sql
        name: big_needs_flag
        query: SELECT COUNT(*) FROM {object} WHERE qty > 50 AND flag = false
        mustBe: 0
      - metric: rowCount
        mustBeGreaterThan: 0
      - type: sql
        name: mean_qty
        query: SELECT avg(qty) FROM {object}
        mustBeLessThan: 60
        severity: warning
"""

POOLS: dict[str, list[str]] = {
    "id": ["1", "2", "3", "4", "5", "007", "+8", "-0", "1.0", "x", "99999999999999999999"]
    + ["2.50e1", "1.25e1", "9007199254740993.0", "3.000"],
    "qty": ["0", "50", "51", "100", "101", "-1", "+5", "2147483648", "1e2", " 7 "],
    "price": ["1.23", "1.234", "0", "0.01", "-0.5", "123456.78", "1234567.00", ".5", "5.", "1e2"],
    "ratio": ["1.5", "-0", ".5e1", "1e308", "1e309", "NaN", "inf", "-1.0E-3", "0x10", "1_000"],
    "day": [
        "2024-02-29",
        "2023-02-29",
        "2024-13-01",
        "2019-12-31",
        "9999-12-31",
        " 2024-01-01 ",
        "2024-1-1",
        "20240101",
    ],
    "at": [
        "2024-01-01T10:00:00Z",
        "2024-01-01 10:00:00",
        "2024-01-01T10:00:00+02:00",
        "2024-01-01T10:00:00+0200",
        "2024-01-01T10:00:00-05",
        "2024-01-01T10:00",
        "2024-01-01",
        "2024-02-30T00:00:00",
        "2024-01-01T25:00:00",
        "2024-01-01T10:00:00.123456789Z",
        "2024-01-01T10:00:00.123456000Z",
        "2024-01-01t10:00:00z",
        "noon",
    ],
    "flag": ["true", "FALSE", "1", "0", "yes", "t", "True "],
    "doc": [
        '{"a": 1}',
        "[1, 2]",
        "{",
        "1",
        '"x"',
        "null",
        "{a: 1}",
        "",
        "[1,]",
        "NaN",
        "-Infinity",
        '{"a": 1, "a": 2}',
        '{"a": 1,}',
        '["a,]", "b\\"c"]',
        "[1e-5, -0.5E+3]",
        '"\\ud800"',
    ],
    "code": ["AB12", "ab12", "AB123", "AB1", "ÄB12", "AB١٢", r"A\d12"],
    "cat": ["a", "b", "c", "d", "N/A", "", "A"],
    "dmy": ["05/01/2024", "5/1/2024", "31/02/2024", "29/02/2024", "2024-01-05", "01/01/2019"],
    "stamp": ["5.1.24 9:30 +0200", "05.01.24 23:59 Z", "5.1.24 9:30", "5.1.24 24:00 Z", "x"],
    "mail": ["a@example.com", "a@b", "a b@c.de", "Ä@ü.de"],
    "hm": ["09:30", "23:59", "24:00", "9:30", "12:60"],
    "email": ["x@example.com", "y@example.com", "z@example.com"],
}
COLUMNS = list(POOLS)

row = st.fixed_dictionaries({c: st.none() | st.sampled_from(POOLS[c]) for c in COLUMNS})


@pytest.fixture(scope="module")
def contract(tmp_path_factory: pytest.TempPathFactory) -> CompiledContract:
    path: Path = tmp_path_factory.mktemp("c") / "wide.yaml"
    path.write_text(CONTRACT, encoding="utf-8")
    return compile_contract(load_contract(path), "wide")


@pytest.fixture(scope="module")
def gates(spark: Any) -> tuple[DuckDBGate, SparkGate]:
    return DuckDBGate(), SparkGate()


def batch(rows: list[dict[str, str | None]]) -> pa.Table:
    n = len(rows)
    cols: dict[str, pa.Array] = {c: pa.array([r[c] for r in rows], pa.string()) for c in COLUMNS}
    cols.update(
        _batch_id=pa.array(["b"] * n, pa.string()),
        _source_file=pa.array(["f.csv"] * n, pa.string()),
        _source_row=pa.array(range(1, n + 1), pa.int64()),
        _ingested_at=pa.nulls(n, pa.timestamp("us", tz="UTC")),
        _record_hash=pa.array([f"h{i}" for i in range(n)], pa.string()),
        _malformed=pa.array(["bad line" if i % 17 == 16 else None for i in range(n)], pa.string()),
        _raw=pa.nulls(n, pa.string()),
    )
    return pa.table(cols)


def observed(outcome: GateOutcome) -> dict[str, Any]:
    """Everything a gate decides, minus wall-clock stamps."""
    report = outcome.report
    silver = outcome.silver_table()
    quarantine = outcome.quarantine()
    return {
        "counts": (
            report.rows_in,
            report.rows_out,
            report.rows_quarantined,
            report.rows_dropped,
            report.rows_warned,
            report.rows_malformed,
        ),
        "rules": [(r.rule, r.failed, r.metric, r.limit_ok) for r in report.rules],
        "failures": report.failures,
        "warnings": report.warnings,
        "silver_schema": silver.schema.remove_metadata() if silver.num_columns else None,
        "silver": silver.drop_columns(["_refined_at"]).to_pylist() if silver.num_columns else [],
        "quarantine": (
            quarantine.drop_columns(["_quarantined_at"]).to_pylist()
            if quarantine.num_columns
            else []
        ),
    }


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(st.lists(row, min_size=1, max_size=60))
def test_spark_gates_like_duckdb(
    contract: CompiledContract, gates: tuple[DuckDBGate, SparkGate], rows: list[dict[str, Any]]
) -> None:
    table = batch(rows)
    results = []
    for gate in gates:
        with gate.check(contract, table, "b", COLUMNS, None, "append", "wide", "f.csv") as out:
            results.append(observed(out))
    duck, spark = results
    for key in duck:
        assert spark[key] == duck[key], key
