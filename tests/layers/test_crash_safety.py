"""kill -9 at any point of ingest or refine, then rerun: nothing lost, nothing counted twice."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.compute as pc
import pytest

from aiready import Workspace
from aiready.storage import delta
from tests.conftest import WorkspaceFactory

pytestmark = pytest.mark.slow
FILES = 4
ROWS = 25_000


def sources() -> dict[str, str]:
    out = {}
    for f in range(FILES):
        lines = ["id,amount,currency"]
        for i in range(ROWS):
            n = f * ROWS + i
            amount = "-1" if n % 97 == 0 else f"{n % 500}.5"
            lines.append(f"{n},{amount},{'EUR' if n % 89 else 'XXX'}")
        out[f"data/part{f}.csv"] = "\n".join(lines) + "\n"
    return out


def cli(root: Path, *args: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "AIREADY_MLFLOW__ENABLED": "false"}
    return subprocess.Popen(
        [sys.executable, "-m", "aiready", *args, "-w", str(root), "--json"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def kill_after(proc: subprocess.Popen[bytes], seconds: float) -> None:
    time.sleep(seconds)
    if proc.poll() is None:
        proc.send_signal(signal.SIGKILL)
    proc.communicate()


def finish(root: Path, *args: str) -> None:
    proc = cli(root, *args)
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err.decode()


def assert_invariants(ws: Workspace) -> None:
    p = ws.paths
    bronze = delta.read(p.table("bronze", "payments"), ["_source_file", "_source_row"])
    assert bronze is not None and bronze.num_rows == FILES * ROWS
    keys = bronze.group_by(["_source_file", "_source_row"]).aggregate([])
    assert keys.num_rows == FILES * ROWS  # no record twice in bronze
    silver = delta.read(p.table("silver", "payments"), ["_batch_id", "_source_row"])
    quarantine = delta.read(p.table("quarantine", "payments"), ["_batch_id", "_source_row"])
    assert silver is not None and quarantine is not None
    assert silver.num_rows + quarantine.num_rows == FILES * ROWS
    seen = set(zip(silver.column(0).to_pylist(), silver.column(1).to_pylist(), strict=True))
    seen |= set(
        zip(quarantine.column(0).to_pylist(), quarantine.column(1).to_pylist(), strict=True)
    )
    assert len(seen) == FILES * ROWS  # every bronze row exactly once in silver ∪ quarantine
    amounts = delta.read(p.table("silver", "payments"), ["amount"])
    assert amounts is not None and pc.min(amounts.column(0)).as_py() >= 0


def timed(root: Path, *args: str) -> float:
    start = time.perf_counter()
    finish(root, *args)
    return time.perf_counter() - start


def test_kill_during_ingest_and_refine(make_workspace: WorkspaceFactory, tmp_path: Path) -> None:
    files = sources()
    reference = make_workspace(files=files, root=tmp_path / "ref")
    ingest_s = timed(reference.root, "ingest")
    refine_s = timed(reference.root, "refine")
    assert_invariants(reference)
    for i, fraction in enumerate((0.4, 0.7, 0.95)):
        ws = make_workspace(files=files, root=tmp_path / f"ws{i}")
        kill_after(cli(ws.root, "ingest"), ingest_s * fraction)
        finish(ws.root, "ingest")
        kill_after(cli(ws.root, "refine"), refine_s * fraction)
        finish(ws.root, "refine")
        assert_invariants(ws)
        finish(ws.root, "run")  # a further run changes nothing
        assert_invariants(ws)


GOLD_CONFIG = """\
models:
  totals:
    sql: models/totals.sql
    contract: contracts/totals.odcs.yaml
"""
GOLD_CONTRACT = """\
apiVersion: v3.1.0
kind: DataContract
id: totals
version: 1.0.0
status: active
team:
  - {username: owner@example.com, role: owner}
schema:
  - name: totals
    properties:
      - {name: id, logicalType: integer, primaryKey: true}
      - {name: amount, logicalType: number, physicalType: 'DECIMAL(12,2)'}
"""


def test_kill_during_publish_keeps_the_previous_gold_version(
    make_workspace: WorkspaceFactory, tmp_path: Path
) -> None:
    ws = make_workspace(files=sources(), root=tmp_path / "gold")
    with (ws.root / "aiready.yaml").open("a") as config:
        config.write(GOLD_CONFIG)
    (ws.root / "models").mkdir()
    (ws.root / "models/totals.sql").write_text("SELECT id, amount FROM silver.payments")
    (ws.root / "contracts/totals.odcs.yaml").write_text(GOLD_CONTRACT)
    finish(ws.root, "run")
    gold_path = ws.paths.table("gold", "totals")
    assert delta.version(gold_path) == 0
    expected = delta.count(gold_path)
    publish_s = timed(ws.root, "publish")
    for fraction in (0.5, 0.8, 0.95):
        before = delta.version(gold_path)
        assert before is not None
        kill_after(cli(ws.root, "publish"), publish_s * fraction)
        after = delta.version(gold_path)
        assert after in (before, before + 1)  # one atomic commit, or none
        assert delta.count(gold_path) == expected  # the current version is whole
        ws_now = Workspace.load(ws.root)
        assert ws_now.read_certified("totals").num_rows == expected
    finish(ws.root, "certify")  # a version committed just before a kill gets its certificate
    assert Workspace.load(ws.root).status()["models"][0]["certified"]
    finish(ws.root, "publish")
    assert delta.count(gold_path) == expected
