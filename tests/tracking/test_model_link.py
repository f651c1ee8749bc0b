"""A real scikit-learn model, registered in the workspace's sqlite registry, linked to gold data."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from mlflow import MlflowClient

import aiready
from tests.layers.test_gold import build


def check_model_cli(root: Path, uri: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "aiready", "check-model", uri, "-w", str(root), "--json"],
        capture_output=True,
        text=True,
        env={**os.environ},
        timeout=300,
    )


def test_track_training_and_check_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import mlflow
    import mlflow.sklearn
    from sklearn.linear_model import LogisticRegression

    monkeypatch.setenv("AIREADY_MLFLOW__ENABLED", "true")
    uri = f"sqlite:///{tmp_path}/.aiready/mlflow.db"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    ws = build(tmp_path)
    assert ws.run().passed
    frame = ws.read_certified("customer_value").to_pandas()
    features = frame[["payments"]].astype(float).to_numpy()
    labels = (frame["total"].astype(float) > 5).astype(int).to_numpy()
    mlflow.set_tracking_uri(uri)  # explicit: another test may have set the fluent default
    mlflow.set_experiment("goldws")
    with mlflow.start_run():
        model = LogisticRegression().fit(features, labels)
        signature = mlflow.models.infer_signature(features, model.predict(features))
        mlflow.sklearn.log_model(
            model,
            name="model",
            registered_model_name="churn",
            signature=signature,
            pip_requirements=["scikit-learn"],
        )
    used = aiready.track_training("models:/churn/1", ["customer_value"], str(tmp_path))
    assert used == {"customer_value": 0}
    client = MlflowClient(tracking_uri=uri)
    tag = json.loads(client.get_model_version("churn", "1").tags["aiready.data"])
    assert tag["datasets"] == {"customer_value": 0}
    ok = check_model_cli(tmp_path, "models:/churn/1")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert json.loads(ok.stdout)["datasets"][0]["certified_now"] is True
    # the owner changes the contract: re-certification decertifies version 0 → the model fails
    path = tmp_path / "contracts/customer_value.odcs.yaml"
    path.write_text(path.read_text().replace("version: 1.0.0", "version: 1.1.0"))
    [cert] = ws.certify("customer_value")
    assert not cert.certified
    failed = check_model_cli(tmp_path, "models:/churn/1")
    assert failed.returncode == 1
    assert "has since been decertified" in json.loads(failed.stdout)["reasons"][0]


def test_untracked_model_and_uncertified_data(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AIREADY_MLFLOW__ENABLED", "true")
    ws = build(tmp_path)
    ws.run()
    run_id = ws.tracker.start("experiment")
    assert run_id is not None
    check = ws.check_model(run_id)
    assert not check.ok and "track_training" in check.reasons[0]
    with pytest.raises(aiready.NotFoundError, match="no registered model version"):
        ws.check_model("models:/nope/1")
