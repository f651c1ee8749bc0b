"""Processes racing: refine while ingest is still landing files, then two publishes at once."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest
from deltalake import DeltaTable

from aiready import Workspace
from aiready.certification.certify import certified_version
from tests.layers.test_crash_safety import cli, finish
from tests.retrieval.test_retrieval import docs_csv, make

pytestmark = pytest.mark.slow


def table(ws: Workspace, layer: str) -> pa.Table:
    name = "kb" if layer == "gold" else "docs"
    return DeltaTable(str(ws.paths.table(layer, name))).to_pyarrow_table()  # type: ignore[arg-type]


def test_refine_racing_ingest_then_two_publishes(tmp_path: Path) -> None:
    ws = make(tmp_path, n=4)
    for f in range(4):
        text = docs_csv(3000, seed=f).replace("\nd", f"\nr{f}d")
        (tmp_path / f"data/docs_race{f}.csv").write_text(text)
    procs = [cli(tmp_path, "ingest"), cli(tmp_path, "refine"), cli(tmp_path, "refine")]
    for proc in procs:
        _, err = proc.communicate(timeout=300)
        assert proc.returncode in (0, 1), err.decode()  # 1: a gate failed, never a crash
    finish(tmp_path, "refine")  # whatever the racing refines did not see yet
    ws = Workspace.load(tmp_path)
    bronze = table(ws, "bronze")
    silver = table(ws, "silver")
    quarantine = table(ws, "quarantine")
    assert bronze.num_rows == 4 + 4 * 3000
    keys = set(
        zip(bronze["_source_file"].to_pylist(), bronze["_source_row"].to_pylist(), strict=True)
    )
    assert len(keys) == bronze.num_rows
    assert silver.num_rows + quarantine.num_rows == bronze.num_rows

    before = DeltaTable(str(ws.paths.table("gold", "kb"))).version()
    publishes = [cli(tmp_path, "publish", "kb"), cli(tmp_path, "publish", "kb")]
    for proc in publishes:
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err.decode()
    gold = DeltaTable(str(ws.paths.table("gold", "kb")))
    assert gold.version() == before + 2  # one after the other, under the model's lock
    assert sorted(gold.to_pyarrow_table()["doc_id"].to_pylist()) == sorted(
        silver["doc_id"].to_pylist()
    )
    assert certified_version(ws.paths, "kb") == gold.version()
