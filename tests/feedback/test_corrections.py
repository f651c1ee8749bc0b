"""The correction loop end to end: feedback → review → bronze batch → gates → silver → gold."""

from __future__ import annotations

from pathlib import Path

import pytest
from deltalake import DeltaTable

import aiready
from aiready.feedback import Correction, Rating
from aiready.feedback.corrections import ReviewError
from aiready.policy import AccessDenied
from tests.retrieval.test_retrieval import make


def correction(**kw: str) -> Correction:
    base = {
        "purpose": "support",
        "dataset": "kb",
        "record_key": "d1",
        "column": "title",
        "proposed_value": "Refund policy (2026 edition)",
        "evidence": "policy page",
    }
    return Correction(**{**base, **kw})  # type: ignore[arg-type]


def gold_row(ws: aiready.Workspace, key: str) -> dict[str, object]:
    rows = DeltaTable(str(ws.paths.table("gold", "kb"))).to_pyarrow_table().to_pylist()
    return next(r for r in rows if r["doc_id"] == key)


def test_accepted_correction_reaches_gold_through_the_gates(tmp_path: Path) -> None:
    ws = make(tmp_path, n=12)
    stored = ws.add_feedback(correction(), "alice")
    again = ws.add_feedback(correction(), "alice")  # the same payload again: stored once
    assert stored.created and not again.created and again.id == stored.id
    other = ws.add_feedback(correction(record_key="d2", proposed_value="x"), "alice")
    assert (
        ws.review_correction(other.id, False, "steward@example.com", "wrong").status == "rejected"
    )

    review = ws.review_correction(stored.id, True, "steward@example.com", "checked")
    assert (review.status, review.dataset, review.column) == ("accepted", "docs", "title")
    bronze = DeltaTable(str(ws.paths.table("bronze", "docs"))).to_pyarrow_table().to_pylist()
    [batch] = [r for r in bronze if r["_batch_id"] == review.batch_id]
    assert batch["_source_file"].endswith(f"{stored.id}.jsonl") and batch["doc_id"] == "d1"
    assert batch["title"] == "Refund policy (2026 edition)"

    result = ws.run()
    assert result.passed and result.publishes[0].gold_version == 1
    assert gold_row(ws, "d1")["title"] == "Refund policy (2026 edition)"
    assert gold_row(ws, "d2")["title"] != "x"  # the rejected one never landed
    certs = DeltaTable(str(ws.paths.certificates)).to_pyarrow_table().to_pylist()
    v1 = next(c for c in certs if c["model"] == "kb" and c["gold_version"] == 1)
    assert v1["corrections"] == [stored.id]
    rows = {r["id"]: r for r in ws.feedback.rows("correction")}
    assert rows[stored.id]["reviewed_by"] == "steward@example.com"
    assert rows[other.id]["status"] == "rejected"
    with pytest.raises(ReviewError, match="already accepted"):
        ws.review_correction(stored.id, True, "steward@example.com")


def test_a_correction_that_fails_the_contract_is_quarantined_not_applied(tmp_path: Path) -> None:
    ws = make(tmp_path, n=6)
    contract = ws.root / "contracts/docs.odcs.yaml"
    rule = (
        "      - {name: topic, logicalType: string, quality: [{metric: invalidValues, "
        "arguments: {validValues: [refund, delivery, warranty, invoice]}, mustBe: 0}]}"
    )
    text = contract.read_text().replace("      - {name: topic, logicalType: string}", rule)
    # a new quality rule is a breaking change: it needs a new major version (silver is rebuilt)
    contract.write_text(text.replace("version: 1.0.0", "version: 2.0.0"))
    bad = ws.add_feedback(correction(column="topic", proposed_value="bogus"), "alice")
    review = ws.review_correction(bad.id, True, "steward@example.com")
    assert review.status == "accepted"
    [refined] = ws.refine("docs")
    assert refined.totals()["rows_quarantined"] == 1  # the gate stops it like any source row
    [q] = ws.quarantine("docs")
    assert q["_batch_id"] == review.batch_id
    ws.publish("kb")
    assert gold_row(ws, "d1")["topic"] != "bogus"


def test_corrections_need_access_and_a_traceable_column(tmp_path: Path) -> None:
    ws = make(tmp_path, n=6)
    with pytest.raises(AccessDenied):
        ws.add_feedback(correction(), "eve")
    assert ws.add_feedback(Rating(purpose="support", score=1.0), "eve").created  # no dataset
    sql = ws.root / "models/kb.sql"
    sql.write_text(
        "SELECT doc_id, region, topic, upper(title) || '!' AS title, body, author_email "
        "FROM silver.docs\n"
    )
    stored = ws.add_feedback(correction(), "alice")
    with pytest.raises(ReviewError, match="not a direct copy"):
        ws.review_correction(stored.id, True, "steward@example.com")
    with pytest.raises(ReviewError, match="reviewer"):
        ws.review_correction(stored.id, True, " ")
