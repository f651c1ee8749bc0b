"""The audit journal: a decision is durable (fsynced) before it is acted on, and reaches the Delta
table whole, once, in order — across crashes, torn writes and several processes."""

from __future__ import annotations

import multiprocessing
import subprocess
import sys
import time
from pathlib import Path

import pytest
from deltalake import DeltaTable

import aiready
from aiready.policy import AuditTampered
from aiready.policy.audit import journal_path
from tests.policy.test_policy import governed

PURPOSES = ("fraud", "marketing", "analytics")


def decide(ws: aiready.Workspace, n: int, principal: str = "alice") -> None:
    for i in range(n):
        ws.authorize(principal, "query", "payments", PURPOSES[i % 3])


def delta_rows(ws: aiready.Workspace) -> int:
    if not (ws.audit_path / "_delta_log").is_dir():
        return 0
    return int(DeltaTable(str(ws.audit_path)).count())


def test_decisions_are_journalled_then_folded_whole(tmp_path: Path) -> None:
    ws = governed(tmp_path)
    decide(ws, 5)
    journal = journal_path(ws.audit_path)
    assert len(journal.read_text().splitlines()) + delta_rows(ws) == 5  # none waits in memory
    log = ws.audit_log()  # reading folds the journal
    assert log is not None and log.column("seq").to_pylist() == [0, 1, 2, 3, 4]
    assert journal.read_bytes() == b"" and delta_rows(ws) == 5
    decide(ws, 2)
    assert ws.verify_audit() == 7


def test_a_torn_last_line_is_not_a_record_and_is_cut_off(tmp_path: Path) -> None:
    ws = governed(tmp_path)
    decide(ws, 2)
    journal = journal_path(ws.audit_path)
    with journal.open("ab") as f:  # a crash in the middle of writing a third record
        f.write(b'{"seq": 2, "principal": "ali')
    fresh = aiready.Workspace.load(tmp_path)
    assert fresh.verify_audit() == 2
    decide(fresh, 1)
    assert fresh.verify_audit() == 3


def test_a_fold_cut_short_by_a_crash_folds_nothing_twice(tmp_path: Path) -> None:
    ws = governed(tmp_path)
    decide(ws, 3)
    journal = journal_path(ws.audit_path)
    kept = journal.read_bytes()
    assert ws.verify_audit() == 3  # folded: rows in Delta, journal emptied
    journal.write_bytes(kept)  # as if the crash came after the Delta commit, before emptying
    decide(ws, 2)  # the chain continues after the journal's last record
    assert ws.verify_audit() == 5 and delta_rows(ws) == 5


def test_an_edited_journal_record_is_detected(tmp_path: Path) -> None:
    ws = governed(tmp_path)
    decide(ws, 3)
    journal = journal_path(ws.audit_path)
    lines = journal.read_text().splitlines(keepends=True)
    assert '"decision": "deny"' in lines[1]
    lines[1] = lines[1].replace('"decision": "deny"', '"decision": "allow"')
    journal.write_text("".join(lines))
    with pytest.raises(AuditTampered) as info:
        ws.verify_audit()
    assert info.value.attrs()["record"] == 1


def test_a_garbled_journal_line_is_named(tmp_path: Path) -> None:
    ws = governed(tmp_path)
    decide(ws, 2)
    journal = journal_path(ws.audit_path)
    journal.write_text(journal.read_text().replace("{", "[", 1))
    with pytest.raises(AuditTampered, match="line 1"):
        ws.verify_audit()
    with pytest.raises(AuditTampered):  # fail closed: nothing is decided that cannot be audited
        decide(ws, 1)
    journal.write_bytes(b"")  # repaired (the two records are lost): decisions flow again
    decide(ws, 1)
    assert ws.verify_audit() == 1


def _worker(root: str, principal: str, n: int) -> None:
    decide(aiready.Workspace.load(root), n, principal)


def test_processes_appending_at_once_keep_one_chain(tmp_path: Path) -> None:
    governed(tmp_path)
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_worker, args=(str(tmp_path), p, 25)) for p in ("alice", "sam")]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(120)
        assert proc.exitcode == 0
    ws = aiready.Workspace.load(tmp_path)
    assert ws.verify_audit() == 50
    log = ws.audit_log()
    assert log is not None
    assert sorted(log.column("principal").to_pylist()) == ["alice"] * 25 + ["sam"] * 25


def test_the_cli_leaves_its_decisions_in_delta(tmp_path: Path) -> None:
    governed(tmp_path)
    args = ["policy", "explain", "--principal", "alice", "--action", "query"]
    args += ["--resource", "payments", "--purpose", "fraud", "-w", str(tmp_path)]
    result = subprocess.run([sys.executable, "-m", "aiready", *args], capture_output=True)
    assert result.returncode == 0, result.stderr
    ws = aiready.Workspace.load(tmp_path)
    assert delta_rows(ws) == 1 and journal_path(ws.audit_path).read_bytes() == b""


def test_the_writer_folds_in_the_background(tmp_path: Path) -> None:
    ws = governed(tmp_path)
    decide(ws, 3)
    deadline = time.monotonic() + 30  # FOLD_SECONDS is 2: generous for a loaded machine
    while delta_rows(ws) < 3 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert delta_rows(ws) == 3 and journal_path(ws.audit_path).read_bytes() == b""
