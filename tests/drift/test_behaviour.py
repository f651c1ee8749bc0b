"""Behaviour drift: retrieval scores and empty results, this window against the one before."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

from aiready.feedback import DecisionRecord
from aiready.retrieval.retrieve import LOG_SCHEMA
from aiready.storage.appender import appender
from tests.retrieval.test_retrieval import make


def test_empty_results_and_lower_scores_are_behaviour_drift(tmp_path: Path) -> None:
    ws = make(tmp_path, n=20)
    rng = random.Random(1)
    log = appender(ws.paths.retrieval_log, LOG_SCHEMA)
    yesterday = datetime.now(UTC) - timedelta(hours=30)
    for i in range(40):  # yesterday's retrievals, as the log recorded them
        log.put(
            {
                "at": yesterday + timedelta(minutes=i),
                "principal": "alice",
                "purpose": "support",
                "dataset": "kb",
                "version": 0,
                "query_sha256": f"{i}",
                "hits": 10,
                "empty": False,
                "top_score": rng.gauss(4.0, 0.3),
                "latency_ms": 5.0,
            }
        )
    for i in range(40):  # today: questions the data does not cover
        ws.retrieve(f"zzz{i} unknown topic", "alice", "support")
    for i, action in enumerate(("overridden", "overridden", "accepted")):
        item = DecisionRecord(
            purpose="support",
            recommendation=f"r{i}",
            action=action,  # type: ignore[arg-type]
        )
        ws.add_feedback(item, "alice")
    data = ws.behaviour_drift(timedelta(hours=24))
    assert data["retrievals"] == [40, 40]
    assert data["empty_rate"] == [0.0, 1.0]
    assert "retrieval" in data["drifted"]
    by = {c["column"]: c for c in data["retrieval"]["columns"]}
    assert by["top_score"]["drifted"] and by["empty"]["drifted"]
    assert data["override_rate"][1] == 2 / 3
    quiet = ws.behaviour_drift(timedelta(hours=1))  # both halves inside today: no change
    assert quiet["drifted"] == [] and quiet["retrievals"] == [0, 40]
