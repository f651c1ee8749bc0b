"""A contract change on a real workspace: refused when breaking under the same major version,
evolved when compatible, rebuilt from bronze when the major version was raised."""

from __future__ import annotations

import hashlib
import json
import textwrap
from pathlib import Path

import pytest
from deltalake import DeltaTable
from mlflow import MlflowClient

import aiready
from aiready import ContractError, Workspace
from aiready.layers import applied
from aiready.storage import delta
from tests.conftest import CONTRACT_HEAD, WorkspaceFactory, silver_rows

FILES = {"data/a.csv": "id,amount,currency\n1,2.50,EUR\n2,3,USD\n"}


def contract(ws: Workspace) -> Path:
    return ws.root / "contracts/payments.odcs.yaml"


def edit(ws: Workspace, old: str, new: str) -> None:
    text = contract(ws).read_text()
    assert old in text
    contract(ws).write_text(text.replace(old, new))


def refined(make_workspace: WorkspaceFactory) -> Workspace:
    ws = make_workspace(files=FILES)
    ws.ingest()
    [result] = ws.refine()
    assert result.passed and result.totals()["rows_out"] == 2
    return ws


def silver_version(ws: Workspace) -> int | None:
    return delta.version(ws.paths.table("silver", "payments"))


def test_refine_keeps_the_text_of_each_applied_contract(make_workspace: WorkspaceFactory) -> None:
    ws = refined(make_workspace)
    data = contract(ws).read_bytes()
    sha = hashlib.sha256(data).hexdigest()
    kept = ws.paths.state / "contracts" / "payments" / f"{sha}.odcs.yaml"
    assert kept.read_bytes() == data
    assert applied.last_applied(ws.paths, "silver", "payments") == (sha, kept)
    assert [p.name for p in kept.parent.iterdir()] == [kept.name]  # no temporary left


def test_a_breaking_change_under_the_same_major_is_refused_naming_each_change(
    make_workspace: WorkspaceFactory,
) -> None:
    ws = refined(make_workspace)
    before = silver_version(ws)
    edit(ws, "[EUR, USD]", "[EUR]")
    edit(ws, "{minimum: 0}", "{minimum: 1}")
    edit(ws, "version: 1.0.0", "version: 1.1.0")  # a minor bump is not enough
    (ws.root / "data/b.csv").write_text("id,amount,currency\n3,4,EUR\n")
    ws.ingest()
    with pytest.raises(ContractError, match="makes 2 breaking changes") as info:
        ws.refine()
    message = str(info.value)
    assert "1.0.0 → 1.1.0" in message
    assert "minimum raised: 0 → 1" in message and 'no longer allowed: ["USD"]' in message
    assert "Raise the major version" in message
    attrs = info.value.attrs()
    assert attrs["dataset"] == "payments" and attrs["path"] == "version"
    assert attrs["file"] == str(contract(ws))
    assert silver_version(ws) == before  # nothing written
    assert ws.status()["datasets"][0]["batches"]["pending"]
    with pytest.raises(ContractError, match="makes 2 breaking changes"):
        ws.refine("payments", rebuild=True)  # an explicit rebuild does not skip the version rule
    assert silver_version(ws) == before


def test_a_compatible_change_evolves_silver_without_a_rebuild(
    make_workspace: WorkspaceFactory,
) -> None:
    ws = refined(make_workspace)
    edit(ws, "DECIMAL(10,2)", "DECIMAL(14,2)")
    edit(ws, "[EUR, USD]", "[EUR, USD, GBP]")
    (ws.root / "data/b.csv").write_text("id,amount,currency\n3,4,GBP\n")
    ws.ingest()
    [result] = ws.refine()
    assert result.passed and not result.rebuilt
    assert [(c.column, c.kind) for c in result.schema_changes] == [("amount", "widened")]
    assert sorted(int(r["id"]) for r in silver_rows(ws)) == [1, 2, 3]  # type: ignore[call-overload]


def test_required_on_the_key_applies_but_bigint_to_double_needs_a_major(
    make_workspace: WorkspaceFactory,
) -> None:
    """SQL export → import spells ``required`` on the key: no rule changes, nothing refused."""
    ws = refined(make_workspace)
    edit(ws, "        primaryKey: true\n", "        primaryKey: true\n        required: true\n")
    (ws.root / "data/b.csv").write_text("id,amount,currency\n3,4,EUR\n")
    ws.ingest()
    [result] = ws.refine()
    assert result.passed and not result.rebuilt and not result.schema_changes
    before = silver_version(ws)
    edit(ws, "- name: id\n        logicalType: integer", "- name: id\n        logicalType: number")
    with pytest.raises(ContractError, match=r"BIGINT → DOUBLE \(DOUBLE holds integers exactly"):
        ws.refine()
    assert silver_version(ws) == before


def test_a_raised_major_rebuilds_silver_from_bronze_recorded_in_mlflow_and_lineage(
    make_workspace: WorkspaceFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AIREADY_MLFLOW__ENABLED", "true")
    ws = refined(make_workspace)
    before = silver_version(ws)
    edit(ws, "[EUR, USD]", "[EUR]")  # row 2 (USD) must leave silver
    edit(ws, "version: 1.0.0", "version: 2.0.0")
    [result] = ws.refine()
    assert result.passed and result.rebuilt
    assert [int(r["id"]) for r in silver_rows(ws)] == [1]  # type: ignore[call-overload]
    assert [r["_source_row"] for r in ws.quarantine("payments")] == [2]
    history = DeltaTable(str(ws.paths.table("silver", "payments"))).history(1)
    assert history[0]["version"] == (before or 0) + 1 and "aiready.rebuild" in history[0]
    run = MlflowClient(tracking_uri=f"sqlite:///{ws.root}/.aiready/mlflow.db").get_run(
        str(result.run_id)
    )
    assert run.data.tags["aiready.step"] == "rebuild"
    assert run.data.params["contract_version"] == "2.0.0"
    events = [json.loads(p.read_text()) for p in sorted(ws.paths.lineage.rglob("*.json"))]
    assert [e["eventType"] for e in events if e["job"]["name"] == "rebuild.payments"] == [
        "START",
        "COMPLETE",
    ]
    [again] = ws.refine()  # applied now: the next refine is an ordinary one
    assert again.passed and not again.rebuilt


def test_a_removed_column_with_a_raised_major_is_rebuilt_not_refused(
    make_workspace: WorkspaceFactory,
) -> None:
    ws = refined(make_workspace)
    text = contract(ws).read_text()
    contract(ws).write_text(
        text[: text.index("      - name: currency")].replace("version: 1.0.0", "version: 2.0.0")
    )
    [result] = ws.refine()
    assert result.passed and result.rebuilt
    dt = DeltaTable(str(ws.paths.table("silver", "payments")))
    assert "currency" not in [f.name for f in dt.schema().fields]


def test_a_table_written_before_texts_were_kept_falls_back_to_evolve(
    make_workspace: WorkspaceFactory,
) -> None:
    ws = refined(make_workspace)
    for kept in (ws.paths.state / "contracts" / "payments").iterdir():
        kept.unlink()
    edit(ws, "DECIMAL(10,2)", "DECIMAL(10,4)")
    (ws.root / "data/b.csv").write_text("id,amount,currency\n3,4,EUR\n")
    ws.ingest()
    with pytest.raises(ContractError, match="'amount' is decimal128.*--rebuild"):
        ws.refine()


MODEL_CONFIG = """\
name: goldws
datasets:
  payments:
    kind: operational
    source: data/a.csv
    contract: contracts/payments.odcs.yaml
models:
  totals:
    sql: models/totals.sql
    contract: contracts/totals.odcs.yaml
"""
TOTALS = """\
schema:
  - name: totals
    properties:
      - {name: currency, logicalType: string, required: true}
      - {name: n, logicalType: integer}
"""


def test_publish_refuses_an_unversioned_break_and_publishes_a_raised_major(
    make_workspace: WorkspaceFactory,
) -> None:
    ws = make_workspace(files=FILES)
    (ws.root / "aiready.yaml").write_text(MODEL_CONFIG)
    (ws.root / "models").mkdir()
    sql = "SELECT currency, count(*) AS n FROM silver.payments GROUP BY currency\n"
    (ws.root / "models/totals.sql").write_text(sql)
    totals = ws.root / "contracts/totals.odcs.yaml"
    totals.write_text(CONTRACT_HEAD.format(id="totals") + textwrap.dedent(TOTALS))
    ws = aiready.Workspace.load(ws.root)
    ws.ingest()
    ws.refine()
    [first] = ws.publish("totals")
    assert first.published
    totals.write_text(totals.read_text().replace("{name: n, logicalType: integer}", ""))
    totals.write_text(totals.read_text().replace("      - \n", ""))
    with pytest.raises(ContractError, match="column n removed") as info:
        ws.publish("totals")
    assert info.value.attrs()["model"] == "totals"
    assert delta.version(ws.paths.table("gold", "totals")) == first.gold_version
    totals.write_text(totals.read_text().replace("version: 1.0.0", "version: 2.0.0"))
    (ws.root / "models/totals.sql").write_text("SELECT DISTINCT currency FROM silver.payments\n")
    [second] = ws.publish("totals")
    assert second.published and second.gold_version == (first.gold_version or 0) + 1


def test_a_contract_edited_while_it_is_applied_is_refused(
    make_workspace: WorkspaceFactory,
) -> None:
    ws = refined(make_workspace)
    compiled = ws.contract("payments")
    edit(ws, "[EUR, USD]", "[EUR, USD, GBP]")  # after compiling, before the step keeps it
    with pytest.raises(ContractError, match="changed while it was being applied"):
        applied.check(ws.paths, "silver", "payments", compiled)


def test_another_contract_id_is_a_breaking_change(make_workspace: WorkspaceFactory) -> None:
    ws = refined(make_workspace)
    edit(ws, "id: payments", "id: payments-eu")
    with pytest.raises(ContractError, match="id payments → payments-eu"):
        ws.refine()
    edit(ws, "version: 1.0.0", "version: 2.0.0")
    [result] = ws.refine()
    assert result.passed and result.rebuilt
