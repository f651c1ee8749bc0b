"""kill -9 at random points of a whole `aiready run` (ingest, refine, publish, certify, index),
then rerun: every source row once in bronze, silver ∪ quarantine = bronze, gold = a clean run's
gold, and the certified version is the one served."""

from __future__ import annotations

import random
import time
from pathlib import Path

import pytest
from deltalake import DeltaTable

from aiready import Workspace
from aiready.certification.certify import certified_version
from tests.layers.test_crash_safety import cli, finish, kill_after
from tests.retrieval.test_retrieval import docs_csv, make

pytestmark = pytest.mark.slow
ITERATIONS = 4


def gold_rows(ws: Workspace, version: int | None = None) -> list[tuple[object, ...]]:
    dt = DeltaTable(str(ws.paths.table("gold", "kb")), version=version)
    rows = dt.to_pyarrow_table().to_pylist()
    return sorted(tuple(sorted(r.items())) for r in rows)


def prepared(root: Path) -> Workspace:
    ws = make(root, n=4)  # governance, contracts, model with retrieval; one certified version
    for f in range(3):
        (root / f"data/docs_part{f}.csv").write_text(
            docs_csv(4000, seed=f).replace("\nd", f"\np{f}d")
        )
    return ws


def test_random_kills_during_run_leave_nothing_half_done(tmp_path: Path) -> None:
    clean = prepared(tmp_path / "clean")
    start = time.perf_counter()
    finish(clean.root, "run")
    duration = time.perf_counter() - start
    expected = gold_rows(clean)
    rng = random.Random(20261125)
    killed = 0
    for i in range(ITERATIONS):
        root = tmp_path / f"run{i}"
        prepared(root)
        proc = cli(root, "run")
        kill_after(proc, rng.uniform(0.1, 0.95) * duration)
        killed += proc.returncode == -9
        finish(root, "run")
        ws = Workspace.load(root)
        bronze = DeltaTable(str(ws.paths.table("bronze", "docs"))).to_pyarrow_table()
        keys = set(
            zip(bronze["_source_file"].to_pylist(), bronze["_source_row"].to_pylist(), strict=True)
        )
        assert len(keys) == bronze.num_rows  # no source row twice
        assert {Path(f).name for f, _ in keys} >= {f"docs_part{f}.csv" for f in range(3)}
        silver = DeltaTable(str(ws.paths.table("silver", "docs"))).to_pyarrow_table()
        quarantine = DeltaTable(str(ws.paths.table("quarantine", "docs"))).to_pyarrow_table()
        assert len(set(silver["doc_id"].to_pylist())) == silver.num_rows  # strategic: one per key
        assert gold_rows(ws) == expected, f"iteration {i}"
        served = certified_version(ws.paths, "kb")
        assert gold_rows(ws, served) == expected
        hits = ws.retrieve("refund", "sam", "support", k=3).hits
        assert hits and {h.version for h in hits} == {served}
        assert silver.num_rows + quarantine.num_rows == bronze.num_rows  # keys are distinct
    assert killed >= ITERATIONS - 1  # the kills landed while the run was still working
