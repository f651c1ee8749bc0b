"""Batches on a real workspace: changed files refused or superseded, retract, abandon, crash reruns.

Each test is a scenario from issue 13 that failed before: a corrected file dropped in again
duplicated operational rows, no batch could be taken back, a failed batch failed every refine.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pyarrow.compute as pc
import pytest

from aiready import BatchStateError, NotFoundError, Workspace
from aiready.layers import batches, bronze
from aiready.storage import delta
from tests.conftest import WorkspaceFactory, silver_rows

V1 = "id,amount,currency\n1,10,EUR\n2,20,EUR\n3,-1,EUR\n"
V2 = "id,amount,currency\n1,11,EUR\n2,21,USD\n"
BAD = "id;amount;currency\n4;40;EUR\n"
NOKEY = """\
schema:
  - name: payments
    properties:
      - name: id
        logicalType: integer
      - name: amount
        logicalType: number
        logicalTypeOptions: {minimum: 0}
      - name: currency
        logicalType: string
"""
STRATEGIC = """\
schema:
  - name: payments
    properties:
      - name: id
        logicalType: integer
        primaryKey: true
        required: true
      - name: amount
        logicalType: number
        required: true
        logicalTypeOptions: {minimum: 0}
      - name: currency
        logicalType: string
"""


def cli(root: Path, *args: str, mlflow: bool = False) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "AIREADY_MLFLOW__ENABLED": str(mlflow).lower(), "COLUMNS": "200"}
    return subprocess.run(
        [sys.executable, "-m", "aiready", *args, "-w", str(root)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )


def bronze_ids(ws: Workspace) -> list[object]:
    table = delta.read(ws.paths.table("bronze", "payments"), ["id", "_batch_id"])
    return [] if table is None else table.column("id").to_pylist()


def state(ws: Workspace, batch_id: str) -> batches.BatchInfo:
    [info] = [b for b in ws.batches("payments") if b.batch_id == batch_id]
    return info


def test_changed_file_is_refused_then_superseded_operational(
    make_workspace: WorkspaceFactory,
) -> None:
    ws = make_workspace(contract=NOKEY, files={"data/a.csv": V1})
    assert cli(ws.root, "run").returncode == 0
    (ws.root / "data/a.csv").write_text(V2)
    refused = cli(ws.root, "ingest", "payments")
    assert refused.returncode == 2
    said = " ".join(refused.stderr.split())  # Rich wraps long lines
    assert "data/a.csv changed since it was ingested" in said
    assert "aiready ingest payments --supersede" in said
    assert sorted(r["id"] for r in silver_rows(ws)) == [1, 2]  # nothing added twice
    assert len(ws.batches("payments")) == 1
    done = cli(ws.root, "ingest", "payments", "--supersede", "--json")
    assert done.returncode == 0, done.stderr
    assert cli(ws.root, "refine", "payments").returncode == 0
    rows = sorted((r["id"], float(r["amount"])) for r in silver_rows(ws))
    assert rows == [(1, 11.0), (2, 21.0)]  # only the new rows: not 4 rows, not the old ones
    old, new = ws.batches("payments")
    assert (old.state, old.superseded_by, old.silver_rows, old.quarantine_rows) == (
        "superseded",
        new.batch_id,
        0,
        0,
    )
    assert new.state == "refined" and new.silver_rows == 2
    assert sorted(bronze_ids(ws)) == ["1", "1", "2", "2", "3"]  # bronze keeps both files
    # rerun: nothing more happens
    again = cli(ws.root, "ingest", "payments", "--supersede", "--json")
    assert again.returncode == 0 and json.loads(again.stdout)[0]["files"][0]["status"] == "skipped"
    assert len(silver_rows(ws)) == 2


def test_on_changed_file_in_yaml(make_workspace: WorkspaceFactory) -> None:
    ws = make_workspace(contract=NOKEY, files={"data/a.csv": V1})
    ws.run()
    config = ws.root / "aiready.yaml"
    config.write_text(config.read_text() + "    on_changed_file: append\n")
    (ws.root / "data/a.csv").write_text(V2)
    ws = Workspace.load(ws.root)
    ws.run().raise_on_failure()
    assert len(silver_rows(ws)) == 4  # append: the user said both versions are data
    config.write_text(config.read_text().replace("append", "sometimes"))
    bad = cli(ws.root, "status")
    assert bad.returncode == 2 and "on_changed_file" in bad.stderr


def test_supersede_a_strategic_batch(make_workspace: WorkspaceFactory) -> None:
    ws = make_workspace(contract=STRATEGIC, kind="strategic", files={"data/a.csv": V1})
    ws.run()
    (ws.root / "data/a.csv").write_text("id,amount,currency\n1,11,EUR\n")
    [result] = ws.ingest("payments", supersede=True)
    assert result.files[0].supersedes
    ws.refine("payments")
    # key 2 came only from the superseded batch: gone; key 1 holds the new row
    assert [(r["id"], float(r["amount"])) for r in silver_rows(ws)] == [(1, 11.0)]


def test_retract_operational(
    make_workspace: WorkspaceFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AIREADY_MLFLOW__ENABLED", "true")
    ws = make_workspace(files={"data/a.csv": V1, "data/b.csv": "id,amount,currency\n7,70,EUR\n"})
    ws.run()
    first = ws.batches("payments")[0]
    assert (first.silver_rows, first.quarantine_rows) == (2, 1)
    out = cli(
        ws.root,
        "batch",
        "retract",
        "payments",
        first.batch_id[:22],
        "--by",
        "alice",
        "--reason",
        "wrong export",
        "--json",
        mlflow=True,
    )
    assert out.returncode == 0, out.stderr
    change = json.loads(out.stdout)
    assert (change["rows_silver_removed"], change["rows_quarantine_removed"]) == (2, 1)
    assert [r["id"] for r in silver_rows(ws)] == [7]
    assert delta.count(ws.paths.table("quarantine", "payments")) == 0
    assert sorted(bronze_ids(ws)) == ["1", "2", "3", "7"]  # bronze is untouched
    listed = json.loads(cli(ws.root, "batch", "list", "payments", "--json").stdout)
    assert [b["state"] for b in listed] == ["retracted", "refined"]
    assert listed[0]["closed_by"] == "alice" and listed[0]["reason"] == "wrong export"
    audit = ws.audit_log()
    assert audit is not None
    [record] = audit.filter(pc.equal(audit.column("action"), "batch.retracted")).to_pylist()
    assert record["principal"] == "alice" and first.batch_id in record["reason"]
    client = ws.tracker.client
    exp = client.get_experiment_by_name(ws.config.name)
    runs = client.search_runs([exp.experiment_id], "tags.`aiready.step` = 'retract'")
    assert len(runs) == 1 and runs[0].data.metrics["rows_silver_removed"] == 2
    assert runs[0].data.params["batch_id"] == first.batch_id
    # refine never brings it back; retracting again changes nothing and is not audited twice
    assert cli(ws.root, "refine").returncode == 0 and len(silver_rows(ws)) == 1
    again = ws.retract_batch("payments", first.batch_id, by="alice")
    assert again.already and again.rows_silver_removed == 0
    audit = ws.audit_log()
    assert audit is not None
    assert pc.sum(pc.equal(audit.column("action"), "batch.retracted")).as_py() == 1


def test_retract_strategic_restores_previous_rows(make_workspace: WorkspaceFactory) -> None:
    ws = make_workspace(contract=STRATEGIC, kind="strategic", files={"data/a.csv": V1})
    ws.run()
    write_b = ws.root / "data/b.csv"
    write_b.write_text("id,amount,currency\n1,100,USD\n5,50,EUR\n")
    ws.run()
    (ws.root / "data/c.csv").write_text("id,amount,currency\n2,200,EUR\n")
    ws.run()
    a, b, c = ws.batches("payments")
    change = ws.retract_batch("payments", b.batch_id, by="alice")
    assert (change.rows_silver_removed, change.rows_restored) == (2, 1)
    assert change.removed_keys == [{"id": 5}]
    rows = {r["id"]: (float(r["amount"]), r["_batch_id"]) for r in silver_rows(ws)}
    assert rows == {1: (10.0, a.batch_id), 2: (200.0, c.batch_id)}
    # now retract a too: key 1 has no open batch left, key 2 stays with c
    ws.retract_batch("payments", a.batch_id, by="alice")
    assert {r["id"] for r in silver_rows(ws)} == {2}
    # retracting c: key 2 goes back to... a is retracted, so nothing: removed
    ws.retract_batch("payments", c.batch_id, by="alice")
    assert silver_rows(ws) == []


def test_failed_batch_does_not_block_and_can_be_abandoned(
    make_workspace: WorkspaceFactory,
) -> None:
    ws = make_workspace(files={"data/a.csv": BAD})
    assert cli(ws.root, "run").returncode == 1
    (ws.root / "data/b.csv").write_text("id,amount,currency\n7,70,EUR\n")
    (ws.root / "data/a.csv").unlink()  # deleting the file does not help: bronze keeps it
    refine = cli(ws.root, "run")
    assert refine.returncode == 1  # one batch failed ...
    assert [r["id"] for r in silver_rows(ws)] == [7]  # ... but the good one is refined
    status = json.loads(cli(ws.root, "status", "--json").stdout)["datasets"][0]
    [failed] = status["batches"]["failed"]
    assert failed["file"] == "data/a.csv" and "aiready batch abandon" in failed["hint"]
    listed = ws.batches("payments")
    assert [b.state for b in listed] == ["failed-gate", "refined"]
    ab = cli(ws.root, "batch", "abandon", "payments", listed[0].batch_id, "--by", "bob")
    assert ab.returncode == 0, ab.stderr
    assert cli(ws.root, "run").returncode == 0
    status = ws.status()["datasets"][0]
    assert status["batches"]["pending"] == [] and status["batches"]["failed"] == []
    # a refined batch cannot be abandoned: it must be retracted
    with pytest.raises(BatchStateError, match="retract"):
        ws.abandon_batch("payments", listed[1].batch_id, by="bob")


def test_failed_batch_retried_after_contract_fix(make_workspace: WorkspaceFactory) -> None:
    strict = NOKEY.replace(
        "        logicalType: integer\n",
        "        logicalType: integer\n        quality:\n"
        "          - metric: nullValues\n            mustBeLessThan: 1\n",
        1,
    )
    ws = make_workspace(contract=strict, files={"data/a.csv": "id,amount\n,1\n2,2\n"})
    assert not ws.run().passed
    (ws.root / "data/b.csv").write_text("id,amount\n3,3\n")
    assert not ws.run().passed  # still failing: it stays pending, b is refined anyway
    assert [b.state for b in ws.batches("payments")] == ["failed-gate", "refined"]
    (ws.root / "contracts/payments.odcs.yaml").write_text(
        (ws.root / "contracts/payments.odcs.yaml")
        .read_text()
        .replace("mustBeLessThan: 1", "mustBeLessThan: 5")
    )
    assert ws.run().passed  # the retry after the fix refines it
    assert [b.state for b in ws.batches("payments")] == ["refined", "refined"]
    a = ws.batches("payments")[0]
    assert a.silver_rows + a.quarantine_rows == a.rows == 2


def test_nothing_is_lost(make_workspace: WorkspaceFactory) -> None:
    ws = make_workspace(files={"data/a.csv": V1, "data/b.csv": BAD, "data/c.csv": V2})
    ws.run()
    a, b, c = ws.batches("payments")
    ws.retract_batch("payments", a.batch_id, by="x")
    ws.abandon_batch("payments", b.batch_id, by="x")
    total = delta.count(ws.paths.table("bronze", "payments"))
    accounted = sum(
        i.rows if i.state in batches.CLOSING else i.silver_rows + i.quarantine_rows + i.dropped
        for i in ws.batches("payments")
    )
    assert accounted == total == 6


def test_unknown_batch_and_missing_by(make_workspace: WorkspaceFactory) -> None:
    ws = make_workspace(files={"data/a.csv": V1})
    ws.run()
    with pytest.raises(NotFoundError, match="batch list"):
        ws.retract_batch("payments", "nope", by="x")
    with pytest.raises(NotFoundError, match="several"):
        ws.ingest("payments")  # no-op
        (ws.root / "data/b.csv").write_text(V2)
        ws.ingest("payments")
        ws.retract_batch("payments", "2", by="x")  # a prefix of both ids
    out = cli(ws.root, "batch", "retract", "payments", ws.batches("payments")[0].batch_id)
    assert out.returncode == 2 and "--by" in out.stderr
    with pytest.raises(BatchStateError, match="--by"):
        ws.retract_batch("payments", ws.batches("payments")[0].batch_id, by=" ")


def test_supersede_crash_between_ingest_and_retract_is_finished_by_rerun(
    make_workspace: WorkspaceFactory,
) -> None:
    ws = make_workspace(files={"data/a.csv": V1})
    ws.run()
    (ws.root / "data/a.csv").write_text(V2)
    # the state a crash after step 1 leaves: the new batch in bronze, the old one still open

    bronze.ingest(ws.paths, ws.dataset("payments").model_copy(update={"on_changed_file": "append"}))
    assert cli(ws.root, "ingest", "payments", "--supersede").returncode == 0
    assert cli(ws.root, "refine", "payments").returncode == 0
    assert sorted((r["id"], float(r["amount"])) for r in silver_rows(ws)) == [(1, 11.0), (2, 21.0)]
    assert [b.state for b in ws.batches("payments")] == ["superseded", "refined"]


def test_refine_between_ingest_and_supersede_loses_nothing(
    make_workspace: WorkspaceFactory,
) -> None:
    """With a primary key, the new rows refined before the old batch is retracted are
    quarantined as duplicates; a replay after the supersede releases them."""
    ws = make_workspace(files={"data/a.csv": V1})
    ws.run()
    (ws.root / "data/a.csv").write_text(V2)

    bronze.ingest(ws.paths, ws.dataset("payments").model_copy(update={"on_changed_file": "append"}))
    ws.refine("payments")
    ws.ingest("payments", supersede=True)
    assert silver_rows(ws) == []
    ws.refine("payments", replay_quarantine=True)
    assert sorted((r["id"], float(r["amount"])) for r in silver_rows(ws)) == [(1, 11.0), (2, 21.0)]


def test_retract_crash_between_removal_and_ledger_is_finished_by_rerun(
    make_workspace: WorkspaceFactory,
) -> None:
    ws = make_workspace(contract=STRATEGIC, kind="strategic", files={"data/a.csv": V1})
    ws.run()
    (ws.root / "data/b.csv").write_text("id,amount,currency\n1,100,USD\n")
    ws.run()
    a, b = ws.batches("payments")
    # the state a crash after the Delta commits leaves: rows gone, no ledger event yet
    batches._remove(ws.paths, ws.dataset("payments"), b.batch_id, ("id",), {b.batch_id})
    assert state(ws, b.batch_id).state == "refined" and state(ws, b.batch_id).silver_rows == 0
    change = ws.retract_batch("payments", b.batch_id, by="alice")
    assert change.state == "retracted" and change.rows_silver_removed == 0
    rows = {r["id"]: float(r["amount"]) for r in silver_rows(ws)}
    assert rows == {1: 10.0, 2: 20.0}  # restored once, not removed


def test_refused_file_does_not_block_others_and_batch_supersede(
    make_workspace: WorkspaceFactory,
) -> None:
    ws = make_workspace(contract=NOKEY, files={"data/a.csv": V1})
    ws.run()
    (ws.root / "data/a.csv").write_text(V2)
    (ws.root / "data/b.csv").write_text("id,amount,currency\n9,9,EUR\n")
    [result] = ws.ingest("payments")
    assert {f.file: f.status for f in result.files} == {
        "data/a.csv": "failed",
        "data/b.csv": "ingested",
    }
    a, b = ws.batches("payments")
    with pytest.raises(BatchStateError, match="itself"):
        ws.supersede_batch("payments", a.batch_id, a.batch_id, by="alice")
    out = cli(ws.root, "batch", "supersede", "payments", a.batch_id, b.batch_id, "--by", "al")
    assert out.returncode == 0, out.stderr
    ws.refine("payments")
    assert [r["id"] for r in silver_rows(ws)] == [9]
    assert [x.state for x in ws.batches("payments")] == ["superseded", "refined"]
    with pytest.raises(BatchStateError, match="closed"):
        ws.supersede_batch("payments", b.batch_id, a.batch_id, by="alice")
