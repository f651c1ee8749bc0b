"""kill -9 inside ingest, refine or publish, then rerun: nothing lost, nothing counted twice.

Every kill is proven to land mid-step: the process holds the step's dataset lock when it dies,
and for ingest and refine some but not all of the step's Delta commits have been made."""

from __future__ import annotations

import fcntl
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable
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


def lock_held(lock: Path) -> bool:
    """Whether another process holds this dataset lock (``storage/locks.py``, an flock), i.e. is
    inside the step the lock guards: ledger check → Delta writes → ledger entry."""
    if not lock.exists():
        return False
    with lock.open("a+") as handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
        return False


def commits(table: Path) -> int:
    """Delta commits of ``table`` so far (without opening it: this is polled)."""
    return len(list((table / "_delta_log").glob("*.json")))


class MissedKill(AssertionError):
    """The step ended while the test waited: the kill did not land inside it."""


def kill_mid_step(
    proc: subprocess.Popen[bytes],
    lock: Path,
    ready: Callable[[], bool] = lambda: True,
    delay: float = 0.0,
) -> None:
    """SIGKILL ``proc`` provably inside a step: once it holds ``lock`` and ``ready()`` holds (e.g.
    2 of 4 files committed), wait ``delay`` s, freeze it (SIGSTOP), and kill it only if it still
    holds the lock; a frozen process cannot finish the step between that check and the kill.
    Fails if the process leaves the step or exits first."""
    while proc.poll() is None:
        if lock_held(lock) and ready():
            time.sleep(delay)
            proc.send_signal(signal.SIGSTOP)
            if lock_held(lock):
                proc.send_signal(signal.SIGKILL)
                proc.communicate()
                assert proc.returncode == -signal.SIGKILL
                return
            proc.send_signal(signal.SIGCONT)
            proc.communicate()
            raise MissedKill(f"the step behind {lock.name} ended before the kill")
        time.sleep(0.002)
    _, err = proc.communicate()
    raise AssertionError(f"exited ({proc.returncode}) before the kill landed: {err.decode()}")


def lock_window(proc: subprocess.Popen[bytes], lock: Path) -> float:
    """Seconds ``proc`` held ``lock`` (from first seen held to released), waiting for its end."""
    start = end = None
    while proc.poll() is None:
        held = lock_held(lock)
        now = time.perf_counter()
        if held and start is None:
            start = now
        if start is not None and not held and end is None:
            end = now
        time.sleep(0.002)
    _, err = proc.communicate()
    assert proc.returncode == 0 and start is not None, err.decode()
    return (end or time.perf_counter()) - start


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


def test_kill_during_ingest_and_refine(make_workspace: WorkspaceFactory, tmp_path: Path) -> None:
    files = sources()
    reference = make_workspace(files=files, root=tmp_path / "ref")
    finish(reference.root, "ingest")
    finish(reference.root, "refine")
    assert_invariants(reference)
    for layer in ("bronze", "silver"):  # one commit per file, and per batch
        assert commits(reference.paths.table(layer, "payments")) == FILES, layer
    rng = random.Random(20261125)
    for done in range(1, FILES):  # killed after 1, 2, 3 of 4 files: early, middle, late
        ws = make_workspace(files=files, root=tmp_path / f"ws{done}")
        lock = ws.paths.locks / "payments.lock"
        for step in ("ingest", "refine"):
            table = ws.paths.table("bronze" if step == "ingest" else "silver", "payments")
            target = commits(table) + done
            kill_mid_step(
                cli(ws.root, step),
                lock,
                lambda table=table, target=target: commits(table) >= target,
                rng.uniform(0, 0.02),
            )
            assert commits(table) >= target  # it had written part of the step when it died
            finish(ws.root, step)
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


def kill_publish(root: Path, lock: Path, delay: float) -> int:
    """Kill a publish inside its lock window; returns how many publishes finished first.

    A loaded machine may run a publish faster than the window measured before, so a missed kill
    is retried with half the delay (down to none); only a kill that landed ends the loop.
    """
    for missed in range(4):
        try:
            kill_mid_step(cli(root, "publish"), lock, delay=delay)
            return missed
        except MissedKill:
            delay /= 2
    kill_mid_step(cli(root, "publish"), lock, delay=0.0)
    return 4


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
    lock = ws.paths.locks / "gold.totals.lock"
    window = lock_window(cli(ws.root, "publish"), lock)  # query, gate and commit, under the lock
    for fraction in (0.0, 0.5, 0.8):
        before = delta.version(gold_path)
        assert before is not None
        missed = kill_publish(ws.root, lock, window * fraction)
        after = delta.version(gold_path)
        assert after is not None and after - missed in (before, before + 1)  # atomic, or none
        assert delta.count(gold_path) == expected  # the current version is whole
        ws_now = Workspace.load(ws.root)
        assert ws_now.read_certified("totals").num_rows == expected
    finish(ws.root, "certify")  # a version committed just before a kill gets its certificate
    assert Workspace.load(ws.root).status()["models"][0]["certified"]
    finish(ws.root, "publish")
    assert delta.count(gold_path) == expected
