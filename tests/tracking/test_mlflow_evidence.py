"""Each step leaves evidence in a real MLflow sqlite store: runs, tags, params, metrics, inputs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from mlflow import MlflowClient

from tests.conftest import WorkspaceFactory


@pytest.fixture(autouse=True)
def _mlflow_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIREADY_MLFLOW__ENABLED", "true")


def test_run_records_parent_and_child_runs(
    make_workspace: WorkspaceFactory, tmp_path: Path
) -> None:
    ws = make_workspace(files={"data/a.csv": "id,amount,currency\n1,5,EUR\n2,-5,EUR\n3,x,GBP\n"})
    result = ws.run()
    assert result.passed
    assert (ws.root / ".aiready/mlflow.db").is_file()
    client = MlflowClient(tracking_uri=f"sqlite:///{ws.root}/.aiready/mlflow.db")
    experiment = client.get_experiment_by_name("testws")
    assert experiment is not None
    assert experiment.artifact_location.startswith(f"file://{ws.root}/.aiready/mlartifacts")
    runs = {r.data.tags["aiready.step"]: r for r in client.search_runs([experiment.experiment_id])}
    assert set(runs) == {"run", "ingest", "refine"}
    parent = runs["run"].info.run_id
    refine = runs["refine"]
    assert refine.data.tags["mlflow.parentRunId"] == parent
    assert runs["ingest"].data.tags["mlflow.parentRunId"] == parent
    assert refine.data.tags["aiready.dataset"] == "payments"
    assert refine.data.tags["aiready.layer"] == "silver"
    contract = ws.contract("payments")
    assert refine.data.params["contract_sha256"] == contract.sha256
    assert refine.data.params["contract_version"] == "1.0.0"
    assert refine.data.params["bronze_version_read"] == "0"
    assert refine.data.params["engine"] == "duckdb"
    m = refine.data.metrics
    assert (m["rows_in"], m["rows_out"], m["rows_quarantined"]) == (3, 1, 2)
    assert m["rule.amount.range.failed"] == 1
    assert m["rule.amount.type.failed"] == 1
    assert m["rule.currency.invalidValues.failed"] == 1
    assert refine.info.status == "FINISHED"
    contexts = {
        i.dataset.name: (i.tags[0].value, i.dataset.digest) for i in refine.inputs.dataset_inputs
    }
    assert set(contexts) == {"bronze.payments@v0", "silver.payments@v0", "quarantine.payments@v0"}
    assert contexts["silver.payments@v0"][0] == "silver"
    local = client.download_artifacts(refine.info.run_id, "gate_report.json", str(tmp_path))
    [report] = json.loads(Path(local).read_text())
    assert report["rows_in"] == 3 and report["contract_sha256"] == contract.sha256
    page = Path(client.download_artifacts(refine.info.run_id, "gate_report.html", str(tmp_path)))
    assert "amount.range" in page.read_text() and "<table>" in page.read_text()


def test_failed_gate_marks_the_run_failed(make_workspace: WorkspaceFactory) -> None:
    contract = """\
    schema:
      - name: payments
        properties:
          - name: id
            logicalType: integer
            quality:
              - metric: nullValues
                mustBe: 0
                customProperties: [{property: onFail, value: fail}]
    """
    ws = make_workspace(contract=contract, files={"data/a.csv": "id,x\n,1\n"})
    ws.ingest()
    [result] = ws.refine()
    assert not result.passed
    client = MlflowClient(tracking_uri=f"sqlite:///{ws.root}/.aiready/mlflow.db")
    run = client.get_run(str(result.run_id))
    assert run.info.status == "FAILED"
    assert run.data.tags["aiready.result"] == "failed"
    assert run.data.metrics["batches_failed"] == 1


def test_status_shows_last_run_and_result(make_workspace: WorkspaceFactory) -> None:
    ws = make_workspace(files={"data/a.csv": "id,amount,currency\n1,5,EUR\n"})
    ws.run()
    [entry] = ws.status()["datasets"]
    assert entry["last_run"]["step"] == "refine" and entry["last_run"]["result"] == "passed"
