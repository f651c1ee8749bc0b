"""The same workspace run on DuckDB and on Spark ends in the same silver, quarantine and gold.

Two rounds, so every path is crossed: a first run (JSONL with a broken line and conflicting
duplicates, merged by key; CSV with ragged rows, bad values and duplicate ids), then a second file
for each dataset (ids already in silver, a changed customer) and a second publish that merges gold
by key.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from deltalake import DeltaTable

import aiready
from aiready.demo.generate import write_workspace
from tests.cli.test_cli import aiready as cli

pytestmark = pytest.mark.spark

STAMPS = {"_batch_id", "_ingested_at", "_refined_at", "_quarantined_at", "_reviewed_at"}
TABLES = [
    ("silver", "payments"),
    ("silver", "customers"),
    ("quarantine", "payments"),
    ("quarantine", "customers"),
    ("gold", "customer_value"),
]


def read(ws: aiready.Workspace, layer: str, name: str) -> list[dict[str, Any]]:
    """A layer's rows without run-specific stamps, in a stable order."""
    table: pa.Table = DeltaTable(str(ws.paths.table(layer, name))).to_pyarrow_table()
    table = table.drop_columns([c for c in table.column_names if c in STAMPS])
    rows = table.to_pylist()
    return sorted(rows, key=lambda r: json.dumps(r, sort_keys=True, default=str))


def rule_counts(result: aiready.RunResult) -> list[tuple[str, str, int, int, int]]:
    return sorted(
        (r.dataset, rule.rule, rule.failed, r.rows_in, r.rows_out)
        for refine in result.refines
        for r in refine.reports
        for rule in r.rules
    )


def second_round(root: Path) -> None:
    payments = (root / "data/payments/payments_001.csv").read_text().splitlines()
    again = [
        payments[0],
        *payments[1:40],
        "9000001,C000001,12.50,EUR,settled,2024-05-01T00:00:00Z,DE",
    ]
    (root / "data/payments/payments_002.csv").write_text("\n".join(again) + "\n")
    customers = (root / "data/customers/customers_001.jsonl").read_text().splitlines()
    changed = json.loads(customers[0])
    changed["segment"] = "enterprise"
    fresh = {**changed, "customer_id": "C900001", "email": "new@example.com"}
    lines = [json.dumps(changed), json.dumps(fresh), customers[2]]
    (root / "data/customers/customers_002.jsonl").write_text("\n".join(lines) + "\n")


@pytest.fixture(scope="module")
def runs(spark: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    base = tmp_path_factory.mktemp("parity")
    write_workspace(base / "duckdb", "parity", payments=3000, customers=300, seed=11)
    shutil.copytree(base / "duckdb", base / "spark")
    out: dict[str, Any] = {}
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AIREADY_MLFLOW__ENABLED", "false")
        for engine in ("duckdb", "spark"):
            ws = aiready.Workspace.load(base / engine, engine=engine)
            first = ws.run()
            snapshot = {(layer, name): read(ws, layer, name) for layer, name in TABLES}
            second_round(base / engine)
            second = ws.run()
            out[engine] = (ws, first, snapshot, second)
    return out


def test_first_run_is_identical(runs: dict[str, Any]) -> None:
    (_, duck_run, duck, _), (_, spark_run, spark, _) = runs["duckdb"], runs["spark"]
    assert duck_run.passed and spark_run.passed
    assert [runs[e][0].engine.name for e in ("duckdb", "spark")] == ["duckdb", "spark"]
    assert rule_counts(spark_run) == rule_counts(duck_run)
    assert any(count for _, _, count, _, _ in rule_counts(duck_run))  # the gates caught defects
    for key in duck:
        assert spark[key] == duck[key], key
        assert duck[key], key  # every table has rows to compare


def test_second_round_with_silver_and_gold_merges_is_identical(runs: dict[str, Any]) -> None:
    (duck_ws, _, _, duck_run), (spark_ws, _, _, spark_run) = runs["duckdb"], runs["spark"]
    assert rule_counts(spark_run) == rule_counts(duck_run)
    assert [p.published for p in spark_run.publishes] == [p.published for p in duck_run.publishes]
    for layer, name in TABLES:
        assert read(spark_ws, layer, name) == read(duck_ws, layer, name), (layer, name)
    duplicates = [
        r for r in read(duck_ws, "quarantine", "payments") if r["_source_file"].endswith("2.csv")
    ]
    assert any(x["code"] == "duplicate_key" for r in duplicates for x in r["_reasons"])
    gold = {r["customer_id"]: r for r in read(spark_ws, "gold", "customer_value")}
    assert gold["C000001"]["segment"] == "enterprise" and "C900001" in gold


def test_engine_is_chosen_in_yaml_or_on_the_command_line(tmp_path: Path) -> None:
    write_workspace(tmp_path, "pick", payments=10, customers=5)
    config = tmp_path / "aiready.yaml"
    config.write_text(config.read_text() + "engine: spark\nspark: {master: 'local[1]'}\n")
    ws = aiready.Workspace.load(tmp_path)
    assert (ws.engine_config.name, ws.engine_config.master) == ("spark", "local[1]")
    assert aiready.Workspace.load(tmp_path, engine="duckdb").engine_config.name == "duckdb"
    config.write_text(config.read_text().replace("engine: spark", "engine: flink"))
    with pytest.raises(aiready.ConfigError, match="engine is one of") as err:
        aiready.Workspace.load(tmp_path)
    assert err.value.attrs()["key"] == "engine"
    config.write_text(config.read_text().replace("engine: flink", "engine: duckdb"))
    result = cli("refine", "-w", str(tmp_path), "--engine", "flink")
    assert result.returncode == 2 and "unknown engine 'flink'" in result.stderr + result.stdout
