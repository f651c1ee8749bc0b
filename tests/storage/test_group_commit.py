"""The group-commit writer: batches concurrent puts, resolves each caller with its own commit,
delivers a failed commit to exactly the callers of that batch, and flushes (also at exit)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from aiready.storage import delta
from aiready.storage.appender import appender
from aiready.storage.group_commit import Durable, Telemetry

SCHEMA = pa.schema([("k", pa.string())])


def keys(path: Path) -> list[str]:
    table = delta.read(path)
    assert table is not None
    return [str(k) for k in table.column("k").to_pylist()]


class Gate:
    """Holds the commit of the batch holding ``"hold"`` until opened, so what is queued meanwhile
    is known to form the next batch."""

    def __init__(self) -> None:
        self.entered, self.opened = threading.Event(), threading.Event()

    def wait_if_held(self, items: list[str]) -> None:
        if "hold" in items:
            self.entered.set()
            assert self.opened.wait(60)


def test_concurrent_durable_callers_each_see_their_own_commit(tmp_path: Path) -> None:
    path = tmp_path / "t"
    gate = Gate()

    def commit(items: list[str]) -> list[int]:
        gate.wait_if_held(items)
        version = delta.append(path, pa.Table.from_pylist([{"k": k} for k in items], SCHEMA))
        return [version] * len(items)

    writer: Durable[str, int] = Durable("test-durable", commit)
    held = writer.submit("hold")
    assert gate.entered.wait(60)
    queued = [writer.submit(f"q{i}") for i in range(10)]  # queued behind the held commit
    seen: dict[str, int] = {}

    def post(worker: int) -> None:
        for i in range(5):
            key = f"w{worker}-{i}"
            seen[key] = writer.put(key, timeout=120)

    threads = [threading.Thread(target=post, args=(w,)) for w in range(16)]
    for t in threads:
        t.start()
    gate.opened.set()
    for t in threads:
        t.join()
    assert held.result(60) == 0
    assert {f.result(60) for f in queued} == {1}  # the ten queued meanwhile: one commit
    seen.update({f"q{i}": 1 for i in range(10)})
    assert len(seen) == 90
    for key, version in seen.items():
        mine = delta.table(path, version)
        before = delta.table(path, version - 1)
        assert mine is not None and before is not None
        assert key in mine.to_pyarrow_table().column("k").to_pylist()
        assert key not in before.to_pyarrow_table().column("k").to_pylist()
    assert sorted(keys(path)) == sorted([*seen, "hold"])  # nothing lost, nothing twice


def test_a_failed_commit_reaches_exactly_its_batch_and_the_writer_goes_on() -> None:
    gate = Gate()

    def commit(items: list[str]) -> list[str]:
        gate.wait_if_held(items)
        if "bad" in items:
            raise ValueError("bad row")
        return [k.upper() for k in items]

    writer: Durable[str, str] = Durable("test-failing", commit)
    held = writer.submit("hold")
    assert gate.entered.wait(60)
    batch = [writer.submit(k) for k in ("a", "bad", "b")]
    gate.opened.set()
    assert held.result(60) == "HOLD"
    errors = [f.exception(60) for f in batch]
    assert all(isinstance(e, ValueError) for e in errors)
    assert errors[0] is errors[1] is errors[2]  # the one error of that batch
    assert writer.put("c", timeout=60) == "C"


def test_a_wrong_number_of_results_is_an_error_for_the_batch_not_a_hang() -> None:
    writer: Durable[str, str] = Durable("test-short", lambda items: items[:-1])
    with pytest.raises(RuntimeError, match="0 results for 1 items"):
        writer.put("x", timeout=60)


def test_telemetry_put_returns_at_once_and_flush_waits_for_everything(tmp_path: Path) -> None:
    path = tmp_path / "log"
    gate = Gate()

    def commit(items: list[str]) -> None:
        gate.wait_if_held(items)
        delta.append(path, pa.Table.from_pylist([{"k": k} for k in items], SCHEMA))

    log: Telemetry[str] = Telemetry("test-telemetry", commit)
    log.put("hold")
    assert gate.entered.wait(60)
    threads = [
        threading.Thread(target=lambda w=w: [log.put(f"w{w}-{i}") for i in range(10)])
        for w in range(8)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert delta.count(path) == 0  # every put returned while the first commit was held
    gate.opened.set()
    log.flush()
    assert delta.count(path) == 81


def test_telemetry_flush_raises_the_error_of_its_batch_then_recovers(tmp_path: Path) -> None:
    path = tmp_path / "log"

    def commit(rows: list[dict[str, Any]]) -> None:
        delta.append(path, pa.Table.from_pylist(rows, SCHEMA))

    log: Telemetry[dict[str, Any]] = Telemetry("test-telemetry-error", commit)
    log.put({"k": 1})  # not a string: the batch fails
    with pytest.raises(pa.ArrowException):
        log.flush()
    log.put({"k": "fine"})
    log.flush()
    assert keys(path) == ["fine"]


def test_the_process_flushes_the_retrieval_log_at_exit(tmp_path: Path) -> None:
    path = tmp_path / "log"
    script = textwrap.dedent(
        f"""
        import pyarrow as pa
        from pathlib import Path
        from aiready.storage.appender import appender
        log = appender(Path({str(path)!r}), pa.schema([("k", pa.string())]))
        for i in range(50):
            log.put({{"k": str(i)}})
        """
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    subprocess.run([sys.executable, "-c", script], check=True, env=env, timeout=300)
    assert delta.count(path) == 50
    assert appender(path, SCHEMA) is appender(path, SCHEMA)  # one writer per table and process
