"""Drift with Evidently's rules: known shifts are found, equal distributions are not."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from scipy.stats import chisquare, ks_2samp

from aiready import NotFoundError
from aiready.drift import compare
from tests.layers.test_gold import CONFIG, build


def table(rng: np.random.Generator, n: int, shift: float = 0.0, p_smb: float = 0.3) -> pa.Table:
    return pa.table(
        {
            "amount": rng.normal(100 + shift * 20, 20, n),
            "segment": rng.choice(
                ["retail", "smb", "corp"], n, p=[0.7 - p_smb / 2, p_smb, 0.3 - p_smb / 2]
            ),
            "_batch_id": ["b"] * n,
        }
    )


def test_large_samples_use_normed_wasserstein_and_jensen_shannon() -> None:
    rng = np.random.default_rng(7)
    ref = table(rng, 5000)
    same = compare(ref, table(rng, 5000))
    assert {c.column: c.method for c in same.columns} == {
        "amount": "wasserstein",
        "segment": "jensenshannon",
    }
    assert not same.drifted and all(c.value < 0.1 for c in same.columns)
    shifted = compare(ref, table(rng, 5000, shift=1.0, p_smb=0.1))
    amount = next(c for c in shifted.columns if c.column == "amount")
    assert amount.drifted and 0.9 < amount.value < 1.1  # a one-sd shift, normed by the sd
    assert shifted.drifted and shifted.share == 1.0
    assert "_batch_id" not in {c.column for c in shifted.columns}


def test_small_samples_use_ks_and_chi_square_p_values() -> None:
    rng = np.random.default_rng(3)
    ref, cur = table(rng, 300), table(rng, 300, shift=0.5)
    report = compare(ref, cur)
    amount = next(c for c in report.columns if c.column == "amount")
    assert amount.method == "ks" and amount.drifted
    assert amount.value == pytest.approx(ks_2samp(ref["amount"], cur["amount"]).pvalue)
    ref = pa.table({"c": ["a"] * 150 + ["b"] * 150})
    [near] = compare(ref, pa.table({"c": ["a"] * 160 + ["b"] * 140})).columns
    assert near.method == "chisquare" and not near.drifted
    assert near.value == pytest.approx(chisquare([160, 140], [150, 150]).pvalue)
    [far] = compare(ref, pa.table({"c": ["a"] * 200 + ["b"] * 100})).columns
    assert far.drifted and far.value < 0.05


def test_a_new_category_is_drift_and_nulls_are_ignored() -> None:
    ref = pa.table({"c": ["a", "b", None] * 100})
    cur = pa.table({"c": ["a", "b", "z"] * 100})
    [col] = compare(ref, cur).columns
    assert col.drifted and col.reference_rows == 200
    low = compare(pa.table({"n": [1, 2, 3] * 50}), pa.table({"n": [1, 2, 3] * 50}))
    assert low.columns[0].kind == "categorical"  # at most 5 distinct numbers


def test_gold_drift_is_recorded_shown_in_status_and_logged(tmp_path: Path) -> None:
    ws = build(tmp_path, config=CONFIG.replace("data/payments.csv", "data/payments*.csv"))
    assert ws.run().passed
    with pytest.raises(NotFoundError, match="no earlier certified version"):
        ws.drift("customer_value")
    (tmp_path / "data/payments_2.csv").write_text("id,cid,amount\n4,C,900\n5,B,800\n")
    assert ws.run().passed
    result = ws.drift("customer_value")
    assert (result.reference, result.current) == ("v0", "v1")
    by = {c.column: c for c in result.report.columns}
    assert by["total"].drifted and by["total"].method == "chisquare"  # 3 values: categorical
    status = ws.status_of_model("customer_value")
    assert status["drift"]["against"] == "v0" and "total" in status["drift"]["columns"]
    out = subprocess.run(
        [sys.executable, "-m", "aiready", "drift", "payments", "--json", "-w", str(ws.root)],
        capture_output=True,
        text=True,
    )
    data = json.loads(out.stdout)
    assert data["layer"] == "silver" and data["current"].startswith("batch ")
    assert out.returncode == (1 if data["report"]["drifted"] else 0)
