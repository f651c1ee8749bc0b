"""The scorecard moves with the evidence: each fix, once done, raises the score it names."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from mlflow import MlflowClient

from aiready.feedback import DecisionRecord, Outcome
from aiready.scorecard import PROPERTIES
from tests.feedback.test_corrections import correction
from tests.retrieval.test_retrieval import make


def item(card: dict[str, object], name: str) -> dict[str, object]:
    return next(i for i in card["items"] if i["name"] == name)  # type: ignore[attr-defined, index]


def test_scores_follow_the_evidence(tmp_path: Path) -> None:
    ws = make(tmp_path, n=10)
    card = ws.score()
    kb = item(card, "kb")
    assert set(kb["scores"]) == set(PROPERTIES)
    assert kb["scores"]["trusted"] == 100.0  # contract + certified
    assert kb["scores"]["controlled"] == 100.0  # owner, PII classified, a policy, audit intact
    assert kb["scores"]["actionable"] == 0.0
    checks = {e["check"]: e for e in kb["evidence"]["contextual"]}
    assert checks["lineage"]["score"] == 100.0 and checks["descriptions"]["score"] == 0.0
    fixes = {(f["target"], f["check"]) for f in card["workspace"]["top_fixes"]}
    assert ("kb", "decisions recorded") in fixes

    decision = ws.add_feedback(
        DecisionRecord(purpose="support", recommendation="refund", action="accepted", dataset="kb"),
        "alice",
    )
    ws.add_feedback(Outcome(purpose="support", decision_id=decision.id, result="kept"), "alice")
    pending = ws.add_feedback(correction(), "alice")
    card2 = ws.score()
    kb2 = item(card2, "kb")
    assert kb2["scores"]["actionable"] == 100.0
    handled = {e["check"]: e for e in kb2["evidence"]["self_improving"]}
    assert handled["corrections handled"]["score"] == 0.0  # one pending correction
    ws.review_correction(pending.id, False, "steward")
    kb3 = item(ws.score(), "kb")
    assert kb3["scores"]["self_improving"] > kb2["scores"]["self_improving"]
    assert card2["workspace"]["overall"] > card["workspace"]["overall"]


def test_open_quarantine_and_missing_owner_lower_the_scores(tmp_path: Path) -> None:
    ws = make(tmp_path, n=10)
    (tmp_path / "data/docs_bad.csv").write_text(
        "doc_id,region,topic,title,body,author_email\nx1,,t,a,b,c@example.com\n"
    )
    ws.ingest()
    ws.refine()
    docs = item(ws.score(), "docs")
    trusted = {e["check"]: e["score"] for e in docs["evidence"]["trusted"]}
    assert trusted["open quarantine"] < 100 and trusted["gate pass rate"] < 100
    contract = tmp_path / "contracts/docs.odcs.yaml"
    contract.write_text(contract.read_text().replace("role: owner", "role: reader"))
    docs = item(ws.score(), "docs")
    owner = next(e for e in docs["evidence"]["controlled"] if e["check"] == "owner")
    assert owner["score"] == 0.0
    assert any(f["check"] == "owner" for f in docs["fixes"])


def test_cli_json_and_mlflow_time_series(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ws = make(tmp_path, n=6)
    monkeypatch.setenv("AIREADY_MLFLOW__ENABLED", "true")
    for _ in range(2):
        out = subprocess.run(
            [sys.executable, "-m", "aiready", "score", "--json", "-w", str(ws.root)],
            capture_output=True,
            text=True,
            check=True,
        )
    card = json.loads(out.stdout)
    assert 0 <= card["workspace"]["overall"] <= 100
    client = MlflowClient(tracking_uri=f"sqlite:///{ws.paths.mlflow_db}")
    experiment = client.get_experiment_by_name("kbws")
    runs = client.search_runs([experiment.experiment_id], "tags.`aiready.step` = 'score'")
    assert len(runs) == 2
    history = [
        m.value for r in runs for m in client.get_metric_history(r.info.run_id, "score.overall")
    ]
    assert history == [card["workspace"]["overall"]] * 2
