"""Compiling a contract into engine-free rules."""

from __future__ import annotations

from pathlib import Path

import pytest

from aiready import ContractError, Limit, ReasonCode, compile_contract, load_contract

BASE = """\
apiVersion: v3.1.0
kind: DataContract
id: orders
version: 2.1.0
status: active
team:
  - username: o@example.com
    role: owner
schema:
  - name: orders
    properties:
      - name: order_id
        logicalType: integer
        primaryKey: true
        primaryKeyPosition: 2
      - name: tenant
        logicalType: string
        primaryKey: true
        primaryKeyPosition: 1
      - name: total
        logicalType: number
        physicalType: DECIMAL(8,3)
        logicalTypeOptions: {exclusiveMinimum: 0}
        customProperties: [{property: onFail, value: drop}]
      - name: note
        logicalType: string
        quality:
          - metric: missingValues
            arguments: {missingValues: [null, '', 'n/a']}
            mustBeLessThan: 10
            unit: percent
            severity: warning
    quality:
      - type: sql
        query: SELECT COUNT(*) FROM ${object} WHERE total > 100 AND note IS NULL
        mustBe: 0
        customProperties: [{property: onFail, value: fail}]
      - type: sql
        name: avg_total
        query: SELECT AVG(total) FROM {object}
        mustBeLessThan: 1000
"""


def compiled(tmp_path: Path, text: str = BASE):  # type: ignore[no-untyped-def]
    path = tmp_path / "c.yaml"
    path.write_text(text)
    return compile_contract(load_contract(path), "orders")


def test_columns_types_and_composite_key(tmp_path: Path) -> None:
    c = compiled(tmp_path)
    assert [col.sql_type for col in c.columns] == ["BIGINT", "VARCHAR", "DECIMAL(8,3)", "VARCHAR"]
    assert c.primary_key == ("tenant", "order_id")
    assert c.owners == ("o@example.com",)
    assert (c.id, c.version) == ("orders", "2.1.0")


def test_rules_ids_actions_and_limits(tmp_path: Path) -> None:
    rules = {r.id: r for r in compiled(tmp_path).rules}
    assert rules["tenant+order_id.primary_key"].columns == ("tenant", "order_id")
    assert rules["tenant+order_id.primary_key"].reason is ReasonCode.DUPLICATE_KEY
    assert rules["total.range"].action == "drop"
    assert rules["total.type"].action == "drop"
    assert rules["note.missingValues"].action == "warn"
    assert rules["note.missingValues"].limit == Limit("mustBeLessThan", 10, "percent")
    sql_row = rules["dataset.sql"]
    assert sql_row.kind == "sql_row" and sql_row.action == "fail" and sql_row.limit is None
    assert sql_row.params["condition"] == "total > 100 AND note IS NULL"
    assert rules["avg_total"].kind == "sql_dataset"


def test_limit_operators() -> None:
    assert Limit("mustBeLessThan", 5, "percent").holds(4.9)
    assert not Limit("mustBeLessThan", 5, "percent").holds(5)
    assert Limit("mustBeBetween", [1, 3]).holds(3)
    assert Limit("mustNotBeBetween", [1, 3]).holds(0)
    assert Limit("mustBeGreaterOrEqualTo", 2).holds(2)


def test_sql_rule_that_does_not_parse(tmp_path: Path) -> None:
    bad = BASE.replace("WHERE total > 100 AND note IS NULL", "WHERE total >> AND (")
    with pytest.raises(ContractError, match="does not parse") as info:
        compiled(tmp_path, bad)
    assert info.value.attrs()["path"] == "schema[0].quality[0].query"


def test_bad_on_fail_value(tmp_path: Path) -> None:
    bad = BASE.replace("value: fail}", "value: explode}")
    with pytest.raises(ContractError, match="onFail"):
        compiled(tmp_path, bad)


def test_physical_type_refines_logical_type(tmp_path: Path) -> None:
    text = BASE.replace("physicalType: DECIMAL(8,3)", "physicalType: REAL").replace(
        "        primaryKeyPosition: 2\n",
        "        primaryKeyPosition: 2\n        physicalType: INT\n",
    )
    c = compiled(tmp_path, text)
    assert c.column("total").sql_type == "FLOAT"
    assert c.column("order_id").sql_type == "INT"
