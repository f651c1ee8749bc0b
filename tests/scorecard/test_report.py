"""The HTML report: self-contained, every section drawn from the workspace's own evidence."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from mlflow import MlflowClient

from aiready.feedback import DecisionRecord
from tests.retrieval.test_retrieval import make

SECTIONS = [
    "AI-readiness scorecard",
    "Rows through the layers",
    "Quality over time and quarantine reasons",
    "Gold: certification and freshness",
    "Drift per column",
    "Feedback and decisions",
    "Lineage",
]


def test_report_is_self_contained_and_complete(tmp_path: Path) -> None:
    ws = make(tmp_path / "ws", n=10)
    (ws.root / "data/docs_2.csv").write_text(
        "doc_id,region,topic,title,body,author_email\nd1,EU,refund,changed,changed,c@example.com\n"
        "x9,,t,a,b,c@example.com\n"
    )
    assert ws.run().publishes[0].certified
    ws.drift("kb")
    item = DecisionRecord(purpose="support", recommendation="r", action="accepted", dataset="kb")
    ws.add_feedback(item, "alice")
    page = ws.report(tmp_path / "out/report.html").read_text()
    assert re.findall(r"<h2>([^<]*)</h2>", page) == SECTIONS
    assert page.count("<svg") >= 6  # scorecard, layers, quality, drift, feedback, lineage
    assert not re.search(r"""(src|href)=["'](https?:)?//|url\(https?:|<script|<link""", page)
    assert "bronze.docs" in page and "gold.kb" in page  # lineage nodes
    assert "docs:null_value" in page  # the quarantine reason of the row without a region
    assert "No drift check yet" not in page and "No feedback yet" not in page


def test_cli_report_is_logged_to_mlflow(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ws = make(tmp_path / "ws", n=6)
    monkeypatch.setenv("AIREADY_MLFLOW__ENABLED", "true")
    out = tmp_path / "r.html"
    done = subprocess.run(
        [sys.executable, "-m", "aiready", "report", "-o", str(out), "-w", str(ws.root)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert out.read_text().startswith("<!doctype html>")
    client = MlflowClient(tracking_uri=f"sqlite:///{ws.paths.mlflow_db}")
    experiment = client.get_experiment_by_name("kbws")
    [run] = client.search_runs([experiment.experiment_id], "tags.`aiready.step` = 'report'")
    assert [a.path for a in client.list_artifacts(run.info.run_id)] == ["report.html"]


def test_drift_chart_draws_drifted_columns_longer_than_the_threshold() -> None:
    """A small-sample drift is a tiny p-value: drawn as is, a drifted column would be invisible."""
    from aiready.scorecard.report import drift_score

    ks_drifted = {"method": "ks", "value": 0.001, "threshold": 0.05, "drifted": True}
    ks_stable = {"method": "ks", "value": 0.6, "threshold": 0.05, "drifted": False}
    ws_drifted = {"method": "wasserstein", "value": 0.3, "threshold": 0.1, "drifted": True}
    ws_stable = {"method": "wasserstein", "value": 0.02, "threshold": 0.1, "drifted": False}
    for column in (ks_drifted, ks_stable, ws_drifted, ws_stable):
        assert (drift_score(column) > 1.0) == column["drifted"]
    assert drift_score({"method": "chisquare", "value": 0.0, "threshold": 0.05}) == 5.0
