"""Figures follow the review loop: after a replay releases rows (or a steward rejects them), the
catalog, the LLM context text, the score and ``status`` say so; none repeats the first gate's rate.
"""

from __future__ import annotations

from pathlib import Path

from aiready.catalog import entry
from aiready.catalog.context import to_markdown
from tests.conftest import PAYMENTS_SCHEMA, WorkspaceFactory

ROWS = "id,amount,currency\n" + "".join(
    f"{i},{i}.50,{'GBP' if i % 4 == 0 else 'EUR'}\n" for i in range(1, 41)
)  # 10 of 40 rows use GBP, which the first contract does not list


def test_release_and_reject_change_every_figure(
    make_workspace: WorkspaceFactory, tmp_path: Path
) -> None:
    ws = make_workspace(files={"data/a.csv": ROWS})
    ws.ingest()
    ws.refine()
    first = entry(ws, "payments")["quality"]
    assert (first["rows_in"], first["rows_out"], first["pass_rate"]) == (40, 30, 0.75)
    assert first["quarantine"]["open"] == 10

    # the steward accepts GBP: the contract widens, the replay releases all 10 rows
    contract = ws.root / "contracts" / "payments.odcs.yaml"
    contract.write_text(contract.read_text().replace("[EUR, USD]", "[EUR, USD, GBP]"))
    ws.refine("payments", replay_quarantine=True)
    now = entry(ws, "payments")["quality"]
    assert (now["rows_in"], now["rows_out"], now["pass_rate"]) == (40, 40, 1.0)
    assert now["quarantine"] == {"open": 0, "released": 10, "rejected": 0, "superseded": 0}

    text = to_markdown({**entry(ws, "payments"), "rows": 40, "version": 1, "caveats": []})
    assert "40 of 40 rows are in silver" in text
    assert "0 wait in quarantine" in text

    card = next(i for i in ws.score()["items"] if i["name"] == "payments")
    rate = next(c for c in card["evidence"]["trusted"] if c["check"] == "gate pass rate")
    assert (rate["score"], rate["evidence"]) == (100.0, "40 of 40 rows in silver")

    status = next(d for d in ws.status()["datasets"] if d["dataset"] == "payments")
    assert status["quarantine"]["released"] == 10
    assert status["quarantine"]["open"] == 0


def test_rejected_rows_are_counted_apart_from_open_ones(make_workspace: WorkspaceFactory) -> None:
    ws = make_workspace(files={"data/a.csv": ROWS}, contract=PAYMENTS_SCHEMA)
    ws.ingest()
    ws.refine()
    assert ws.reject("payments", by="steward", reason="invalid_value") == 10
    q = entry(ws, "payments")["quality"]
    assert q["quarantine"] == {"open": 0, "released": 0, "rejected": 10, "superseded": 0}
    assert q["pass_rate"] == 0.75  # rejected rows never reach silver
    status = next(d for d in ws.status()["datasets"] if d["dataset"] == "payments")
    assert (status["quarantine"]["open"], status["quarantine"]["rejected"]) == (0, 10)
    card = ws.score()
    item = next(i for i in card["items"] if i["name"] == "payments")
    assert item["scores"]["trusted"] > 0


def test_a_retracted_batch_leaves_the_figures(make_workspace: WorkspaceFactory) -> None:
    second = "id,amount,currency\n" + "".join(f"{i},{i}.00,GBP\n" for i in range(100, 110))
    ws = make_workspace(files={"data/a.csv": ROWS, "data/b.csv": second})
    ws.ingest()
    ws.refine()
    before = entry(ws, "payments")["quality"]
    assert (before["rows_in"], before["rows_out"]) == (50, 30)
    bad = next(b for b in ws.batches("payments") if b.file.endswith("b.csv"))
    ws.retract_batch("payments", bad.batch_id, by="steward", reason="wrong currency feed")
    after = entry(ws, "payments")["quality"]
    assert (after["rows_in"], after["rows_out"], after["pass_rate"]) == (40, 30, 0.75)
    assert after["quarantine"]["open"] == 10
