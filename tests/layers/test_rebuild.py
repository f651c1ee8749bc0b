"""``refine --rebuild``: silver and quarantine re-derived from bronze equal a fresh workspace's."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from deltalake import DeltaTable
from mlflow import MlflowClient

from aiready import ContractError, Workspace
from aiready.layers import ledger
from aiready.layers import rebuild as rebuilder
from aiready.storage import delta
from tests.conftest import WorkspaceFactory

NUMBER = """\
schema:
  - name: payments
    properties:
      - {name: id, logicalType: integer, primaryKey: true}
      - {name: qty, logicalType: number}
      - {name: note, logicalType: string}
"""
INTEGER = NUMBER.replace("name: qty, logicalType: number", "name: qty, logicalType: integer")
FILES = {
    "data/a.csv": "id,qty,note\n1,2,a\n2,1.5,b\n3,x,c\n",
    "data/b.csv": "id,qty,note\n4,7.0,d\n5,0.25,e\n",
}
VOLATILE = {"_batch_id", "_ingested_at", "_refined_at", "_quarantined_at", "_record_hash"}


def content(ws: Workspace, layer: str) -> list[dict[str, Any]]:
    """A table's rows without per-run values (batch ids and times), in a stable order."""
    table = delta.read(ws.paths.table(layer, "payments"))  # type: ignore[arg-type]
    if table is None:
        return []
    rows = [{k: v for k, v in r.items() if k not in VOLATILE} for r in table.to_pylist()]
    return sorted(rows, key=lambda r: (r["_source_file"], r["_source_row"]))


def schema(ws: Workspace, layer: str) -> list[tuple[str, str]]:
    dt = DeltaTable(str(ws.paths.table(layer, "payments")))  # type: ignore[arg-type]
    return [(f.name, str(f.type)) for f in dt.schema().fields]


def ingest_in_order(ws: Workspace) -> None:
    for name, text in FILES.items():
        (ws.root / name).parent.mkdir(parents=True, exist_ok=True)
        (ws.root / name).write_text(text)
        ws.ingest()


def narrowed(make_workspace: WorkspaceFactory, bump: bool = True) -> Workspace:
    """Silver under ``number``; the contract now says ``integer`` (a breaking narrowing).

    Under the same major version refine refuses it; ``bump`` then raises the major version,
    which is what lets the change be applied (by a rebuild).
    """
    ws = make_workspace(contract=NUMBER)
    ingest_in_order(ws)
    ws.refine()
    contract = ws.root / "contracts/payments.odcs.yaml"
    contract.write_text(contract.read_text().replace("logicalType: number", "logicalType: integer"))
    (ws.root / "data/c.csv").write_text("id,qty,note\n6,3,f\n")
    ws.ingest()
    with pytest.raises(ContractError, match="Raise the major version"):
        ws.refine()
    if bump:
        raise_major(ws)
    return ws


def raise_major(ws: Workspace) -> None:
    contract = ws.root / "contracts/payments.odcs.yaml"
    contract.write_text(contract.read_text().replace("version: 1.0.0", "version: 2.0.0"))


def fresh(make_workspace: WorkspaceFactory, tmp_path: Path) -> Workspace:
    """The oracle: a new workspace with the new contract, fed the same files in the same order."""
    ws = make_workspace(contract=INTEGER, root=tmp_path / "fresh")
    ingest_in_order(ws)
    (ws.root / "data/c.csv").write_text("id,qty,note\n6,3,f\n")
    ws.ingest()
    ws.refine()
    return ws


def assert_same(ws: Workspace, oracle: Workspace) -> None:
    for layer in ("silver", "quarantine"):
        assert content(ws, layer) == content(oracle, layer), layer
    assert schema(ws, "silver") == schema(oracle, "silver")
    sha = ws.contract("payments").sha256
    refined = ledger.refined(ws.paths.refined_ledger, "payments")
    ingested = ledger.ingested(ws.paths.ingested_ledger, "payments")
    assert set(refined) == {b.batch_id for b in ingested}
    assert {r["contract_sha256"] for r in refined.values()} == {sha}
    assert ws.status()["datasets"][0]["batches"]["pending"] == []


def test_rebuild_after_a_narrowing_equals_a_fresh_workspace(
    make_workspace: WorkspaceFactory, tmp_path: Path
) -> None:
    ws = narrowed(make_workspace)
    old_version = delta.version(ws.paths.table("silver", "payments"))
    [result] = ws.refine("payments", rebuild=True)
    assert result.passed and result.rebuilt
    assert_same(ws, fresh(make_workspace, tmp_path))
    assert {r["id"]: r["qty"] for r in content(ws, "silver")} == {1: 2, 4: 7, 6: 3}
    history = DeltaTable(str(ws.paths.table("silver", "payments"))).history()
    assert history[0]["operation"] == "WRITE" and "aiready.rebuild" in history[0]
    assert history[0]["version"] == (old_version or 0) + 1  # one new version
    old = DeltaTable(str(ws.paths.table("silver", "payments")), version=old_version)
    assert sorted(old.to_pyarrow_table().column("qty").to_pylist()) == [0.25, 1.5, 2.0, 7.0]
    assert not rebuilder.staging_dir(ws.paths, "payments").exists()
    (ws.root / "data/d.csv").write_text("id,qty,note\n7,8,g\n")  # normal refines go on
    ws.ingest()
    [nxt] = ws.refine()
    assert nxt.passed and nxt.totals()["rows_out"] == 1


def test_rebuild_twice_is_idempotent(make_workspace: WorkspaceFactory) -> None:
    ws = narrowed(make_workspace)
    ws.refine("payments", rebuild=True)
    first = (content(ws, "silver"), content(ws, "quarantine"))
    versions = delta.version(ws.paths.table("silver", "payments"))
    ws.refine("payments", rebuild=True)
    assert (content(ws, "silver"), content(ws, "quarantine")) == first
    assert delta.version(ws.paths.table("silver", "payments")) == (versions or 0) + 1


def test_rejected_rows_stay_rejected_released_ones_reopen(
    make_workspace: WorkspaceFactory,
) -> None:
    number = "name: qty, logicalType: number"
    # qty as INT: INT → DOUBLE widens, BIGINT → DOUBLE would not (2**53+1 is rounded)
    int_qty = "name: qty, logicalType: integer, physicalType: INT"
    ws = make_workspace(contract=NUMBER.replace(number, int_qty))
    ingest_in_order(ws)
    ws.refine()  # 1.5, x, 0.25 quarantined
    ws.reject("payments", by="bob", rows=[(_batch_of(ws, 3), 3)])  # the 'x'
    contract = ws.root / "contracts/payments.odcs.yaml"
    contract.write_text(contract.read_text().replace(int_qty, number))
    [replayed] = ws.refine(replay_quarantine=True)  # widening: 1.5 and 0.25 released
    assert replayed.replay is not None and replayed.replay.released == 2
    contract.write_text(contract.read_text().replace(number, int_qty))
    raise_major(ws)
    ws.refine("payments", rebuild=True)
    status = {
        (r["_source_file"], r["_source_row"]): (r["_status"], r["_reviewed_by"]) for r in _q(ws)
    }
    assert status == {
        ("data/a.csv", 2): ("open", None),  # was released: not in silver any more
        ("data/a.csv", 3): ("rejected", "bob"),
        ("data/b.csv", 2): ("open", None),
    }


def _q(ws: Workspace) -> list[dict[str, Any]]:
    return list(ws.quarantine("payments", status=None))


def _batch_of(ws: Workspace, row: int) -> str:
    [hit] = [r for r in _q(ws) if r["_source_row"] == row and r["_source_file"] == "data/a.csv"]
    return str(hit["_batch_id"])


@pytest.mark.parametrize("rerun", ["refine", "rebuild"])
def test_a_crash_between_the_silver_and_quarantine_commits_is_completed_by_the_rerun(
    make_workspace: WorkspaceFactory,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    rerun: str,
) -> None:
    ws = narrowed(make_workspace)
    q_before = content(ws, "quarantine")

    def crash(*args: object) -> None:
        raise RuntimeError("power cut")

    with monkeypatch.context() as m:
        m.setattr(rebuilder, "_swap_quarantine", crash)
        with pytest.raises(RuntimeError, match="power cut"):
            ws.refine("payments", rebuild=True)
    assert content(ws, "quarantine") == q_before  # silver is new, quarantine still old
    ws.refine("payments", rebuild=rerun == "rebuild")
    assert_same(ws, fresh(make_workspace, tmp_path))


def test_a_crash_while_staging_leaves_silver_untouched(
    make_workspace: WorkspaceFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws = narrowed(make_workspace)
    version = delta.version(ws.paths.table("silver", "payments"))

    def crash(*args: object) -> None:
        raise RuntimeError("power cut")

    with monkeypatch.context() as m:
        m.setattr(rebuilder, "_write_marker", crash)
        with pytest.raises(RuntimeError):
            ws.refine("payments", rebuild=True)
    assert delta.version(ws.paths.table("silver", "payments")) == version  # nothing half done
    [result] = ws.refine()  # the raised major version still asks for the rebuild
    assert result.passed and result.rebuilt


def test_rebuild_of_a_strategic_dataset_equals_a_fresh_workspace(
    make_workspace: WorkspaceFactory, tmp_path: Path
) -> None:
    files = {"data/a.csv": "id,qty,note\n1,2,a\n2,1.5,b\n", "data/b.csv": "id,qty,note\n1,3,z\n"}
    ws = make_workspace(contract=NUMBER, kind="strategic")
    for name, text in files.items():
        (ws.root / name).parent.mkdir(parents=True, exist_ok=True)
        (ws.root / name).write_text(text)
        ws.ingest()
    ws.refine()
    contract = ws.root / "contracts/payments.odcs.yaml"
    contract.write_text(contract.read_text().replace("logicalType: number", "logicalType: integer"))
    raise_major(ws)
    ws.refine("payments", rebuild=True)
    oracle = make_workspace(contract=INTEGER, kind="strategic", root=tmp_path / "fresh")
    for name, text in files.items():
        (oracle.root / name).parent.mkdir(parents=True, exist_ok=True)
        (oracle.root / name).write_text(text)
        oracle.ingest()
    oracle.refine()
    assert content(ws, "silver") == content(oracle, "silver")
    assert content(ws, "quarantine") == content(oracle, "quarantine")
    assert {r["id"]: r["qty"] for r in content(ws, "silver")} == {1: 3}


def test_cli_rebuild_records_an_mlflow_run_and_lineage(make_workspace: WorkspaceFactory) -> None:
    ws = narrowed(make_workspace, bump=False)
    env = {**os.environ, "AIREADY_MLFLOW__ENABLED": "true", "COLUMNS": "200"}
    refused = subprocess.run(
        [sys.executable, "-m", "aiready", "refine", "payments", "-w", str(ws.root)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert refused.returncode == 2
    assert "Raise the major version" in refused.stderr + refused.stdout
    raise_major(ws)
    done = subprocess.run(
        [sys.executable, "-m", "aiready", "refine", "payments", "--rebuild", "--json"]
        + ["-w", str(ws.root)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    [out] = json.loads(done.stdout)
    assert out["rebuilt"] and out["passed"] and out["run_id"]
    client = MlflowClient(tracking_uri=f"sqlite:///{ws.root}/.aiready/mlflow.db")
    run = client.get_run(out["run_id"])
    assert run.data.tags["aiready.step"] == "rebuild"
    assert run.data.params["rebuild"] == "True"
    assert run.data.params["contract_sha256"] == ws.contract("payments").sha256
    assert run.data.params["silver_version_written"] == str(out["silver_version"])
    events = [json.loads(p.read_text()) for p in sorted(ws.paths.lineage.rglob("*.json"))]
    rebuilt = [e for e in events if e["job"]["name"] == "rebuild.payments"]
    assert [e["eventType"] for e in rebuilt] == ["START", "COMPLETE"]
    outputs = {o["name"] for o in rebuilt[-1]["outputs"]}
    assert {"silver.payments", "quarantine.payments"} <= outputs
