"""kill -9 at random points inside the steps of a whole `aiready run` (ingest, refine, publish),
then rerun: every source row once in bronze, silver ∪ quarantine = bronze, gold = a clean run's
gold, and the certified version is the one served. Each kill is proven to land mid-step: the
process holds the step's dataset lock (and has made part of its Delta commits) when it dies."""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path

import pytest
from deltalake import DeltaTable

from aiready import Workspace
from aiready.certification.certify import certified_version
from tests.layers.test_crash_safety import cli, commits, finish, kill_mid_step, lock_window
from tests.retrieval.test_retrieval import docs_csv, make

pytestmark = pytest.mark.slow
STEPS = ("ingest", "refine", "publish")


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


def kill_point(
    ws: Workspace, step: str, publish_s: float, rng: random.Random
) -> tuple[Path, Callable[[], bool], float]:
    """Where to kill ``run`` inside ``step``: its lock, when it is far enough in, and a delay.
    Ingest and refine write one commit per new file (3 here): killed after 1 or 2 of them."""
    if step == "publish":  # one commit: anywhere in the lock window measured on a clean run
        return ws.paths.locks / "gold.kb.lock", lambda: True, rng.uniform(0, 0.8) * publish_s
    table = ws.paths.table("bronze" if step == "ingest" else "silver", "docs")
    target = commits(table) + rng.randint(1, 2)
    return ws.paths.locks / "docs.lock", lambda: commits(table) >= target, rng.uniform(0, 0.01)


def test_random_kills_during_run_leave_nothing_half_done(tmp_path: Path) -> None:
    clean = prepared(tmp_path / "clean")
    publish_s = lock_window(cli(clean.root, "run"), clean.paths.locks / "gold.kb.lock")
    expected = gold_rows(clean)
    rng = random.Random(20261125)
    for i, step in enumerate(("ingest", "refine", "publish", rng.choice(STEPS))):
        root = tmp_path / f"run{i}"
        lock, ready, delay = kill_point(prepared(root), step, publish_s, rng)
        kill_mid_step(cli(root, "run"), lock, ready, delay)
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
