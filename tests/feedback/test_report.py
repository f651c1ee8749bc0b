"""Feedback aggregated into rates, coverage gaps, decision quality and rule suggestions."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from aiready.feedback import DecisionRecord, Hallucination, Outcome, RetrievalFailure
from tests.feedback.test_corrections import correction
from tests.retrieval.test_retrieval import make


def cli(ws_root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "aiready", *args, "-w", str(ws_root)],
        capture_output=True,
        text=True,
    )


def test_rates_gaps_decisions_and_suggestions(tmp_path: Path) -> None:
    ws = make(tmp_path, n=8)
    for _ in range(4):
        ws.retrieve("refund", "alice", "support")
    for q in ("gift card balance", "gift card expiry", "balance of gift card", "office hours"):
        ws.add_feedback(RetrievalFailure(purpose="support", query=q, dataset="kb"), "alice")
    ws.add_feedback(
        Hallucination(purpose="support", answer="a", claim="refunds take 1 day", dataset="kb"),
        "alice",
    )
    data = ws.feedback_report()
    [rates] = data["failures"]
    assert (rates["dataset"], rates["gold_version"], rates["retrievals"]) == ("kb", 0, 4)
    assert rates["retrieval_failure_rate"] == 1.0 and rates["hallucination_rate"] == 0.25
    groups = {tuple(g["words"]): g["count"] for g in data["unanswered"]}
    assert groups[("balance", "card", "expiry", "gift")] == 3 and groups[("hours", "office")] == 1

    ids = []
    for action, version in (("accepted", "m1"), ("accepted", "m1"), ("overridden", "m1")):
        item = DecisionRecord(
            purpose="support",
            recommendation="refund",
            action=action,  # type: ignore[arg-type]
            dataset="kb",
            model_version=version,
            idempotency_key=f"{action}-{len(ids)}",
        )
        ids.append(ws.add_feedback(item, "alice").id)
    ws.add_feedback(
        Outcome(purpose="support", decision_id=ids[0], result="kept", value=10), "alice"
    )
    ws.add_feedback(
        Outcome(purpose="support", decision_id=ids[1], result="kept", value=20), "alice"
    )
    [quality] = ws.feedback_report()["decisions"]
    assert quality["acceptance_rate"] == pytest.approx(2 / 3)
    assert quality["override_rate"] == pytest.approx(1 / 3)
    assert quality["outcome_value_mean"] == 15.0 and quality["gold_version"] == 0

    assert ws.feedback_report()["suggestions"] == []
    for key in ("d1", "d2", "d3"):
        ws.add_feedback(
            correction(
                record_key=key, column="topic", current_value="n/a", proposed_value="refund"
            ),
            "alice",
        )
    [suggestion] = ws.feedback_report()["suggestions"]
    assert (suggestion["dataset"], suggestion["column"], suggestion["corrections"]) == (
        "kb",
        "topic",
        3,
    )
    assert "missingValues" in suggestion["rule"] and '"n/a"' in suggestion["rule"]
    out = cli(ws.root, "suggest", "--json")
    assert out.returncode == 0 and json.loads(out.stdout)[0]["column"] == "topic"


def test_cli_add_list_review_and_bad_payloads(tmp_path: Path) -> None:
    ws = make(tmp_path, n=6)
    payload = json.dumps(
        {
            "purpose": "support",
            "dataset": "docs",
            "record_key": "d2",
            "column": "title",
            "proposed_value": "New",
        }
    )
    added = cli(
        ws.root,
        "feedback",
        "add",
        "correction",
        "--principal",
        "alice",
        "--data",
        payload,
        "--json",
    )
    assert added.returncode == 0, added.stderr
    fid = json.loads(added.stdout)["id"]
    listed = json.loads(cli(ws.root, "feedback", "list", "--status", "pending", "--json").stdout)
    assert [r["id"] for r in listed] == [fid]
    reviewed = cli(ws.root, "feedback", "review", fid, "--accept", "--by", "steward", "--json")
    assert reviewed.returncode == 0 and json.loads(reviewed.stdout)["status"] == "accepted"
    bad = cli(
        ws.root, "feedback", "add", "rating", "--principal", "alice", "--data", '{"score": 3}'
    )
    assert bad.returncode == 2 and "purpose" in bad.stderr and "score" in bad.stderr
