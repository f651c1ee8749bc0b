"""The audit log: every decision, allow and deny, in a Delta table with a hash chain.

Each record's ``hash`` is sha256 over the previous record's hash and this record's fields, and
``seq`` counts from 0 without gaps, so ``verify`` detects any edited, removed or reordered record
and names the first bad one. No secret is ever written: requests carry names, never keys.
"""

from __future__ import annotations

import hashlib
import json
import queue
import threading
from concurrent.futures import Future
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
from deltalake import DeltaTable
from deltalake.exceptions import DeltaError

from aiready.policy.engine import Decision
from aiready.policy.errors import AuditTampered
from aiready.storage import dataset_lock, delta

SCHEMA = pa.schema(
    [
        ("seq", pa.int64()),
        ("at", pa.timestamp("us", tz="UTC")),
        ("principal", pa.string()),
        ("action", pa.string()),
        ("resource", pa.string()),
        ("purpose", pa.string()),
        ("decision", pa.string()),
        ("policies", pa.list_(pa.string())),
        ("reason", pa.string()),
        ("prev_hash", pa.string()),
        ("hash", pa.string()),
    ]
)
GENESIS = "0" * 64
FIELDS = (
    "seq",
    "at",
    "principal",
    "action",
    "resource",
    "purpose",
    "decision",
    "policies",
    "reason",
)


def record_hash(prev: str, record: dict[str, Any]) -> str:
    body = {k: record[k] for k in FIELDS}
    body["at"] = record["at"].isoformat()
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256((prev + canonical).encode()).hexdigest()


def _tail(path: Path) -> tuple[int, str]:
    table = delta.read(path, ["seq", "hash"])
    if table is None or table.num_rows == 0:
        return -1, GENESIS
    rows = table.sort_by("seq").slice(table.num_rows - 1).to_pylist()
    return int(rows[0]["seq"]), str(rows[0]["hash"])


def _records(decisions: list[Decision], seq: int, prev: str) -> list[dict[str, Any]]:
    rows = []
    for d in decisions:
        seq += 1
        record: dict[str, Any] = {
            "seq": seq,
            "at": datetime.now(UTC),
            "principal": d.principal,
            "action": d.action,
            "resource": d.resource,
            "purpose": d.purpose,
            "decision": "allow" if d.allowed else "deny",
            "policies": d.policies,
            "reason": d.reason,
        }
        record["prev_hash"] = prev
        record["hash"] = prev = record_hash(prev, record)
        rows.append(record)
    return rows


class _Writer:
    """One per audit table and process: concurrent appends are chained and committed together
    (group commit), so a busy service makes a few Delta commits a second, not one per request."""

    def __init__(self, path: Path, locks: Path) -> None:
        self.path, self.locks = path, locks
        self.queue: queue.Queue[tuple[list[Decision], Future[None]]] = queue.Queue()
        self.tail: tuple[int | None, int, str] | None = None
        self.dt: DeltaTable | None = None
        threading.Thread(target=self._run, name="audit-writer", daemon=True).start()

    def _run(self) -> None:
        while True:
            batch = [self.queue.get()]
            while True:
                try:
                    batch.append(self.queue.get_nowait())
                except queue.Empty:
                    break
            try:
                self._commit([d for decisions, _ in batch for d in decisions])
            except BaseException as exc:  # noqa: BLE001 - every caller gets the error
                for _, future in batch:
                    future.set_exception(exc)
                continue
            for _, future in batch:
                future.set_result(None)

    def _commit(self, decisions: list[Decision]) -> None:
        with dataset_lock(self.locks, "_audit"):
            dt = self._table()
            version = None if dt is None else int(dt.version())
            if self.tail is not None and self.tail[0] == version:
                seq, prev = self.tail[1], self.tail[2]
            else:  # first commit here, or another process appended: read the chain's end
                seq, prev = _tail(self.path)
            rows = _records(decisions, seq, prev)
            data = pa.Table.from_pylist(rows, schema=SCHEMA)
            if dt is None:
                written = delta.append(self.path, data)
            else:
                written = delta.append_to(dt, self.path, data)
            self.tail = (written, int(rows[-1]["seq"]), str(rows[-1]["hash"]))

    def _table(self) -> DeltaTable | None:
        """The audit table, caught up with commits made since (by any process) in place."""
        if self.dt is not None:
            try:
                self.dt.update_incremental()
                return self.dt
            except DeltaError:  # the table was replaced under us: load it afresh
                self.dt = None
        self.dt = delta.table(self.path)
        return self.dt


_writers: dict[Path, _Writer] = {}
_writers_lock = threading.Lock()


def append(path: Path, locks: Path, decisions: list[Decision]) -> None:
    """Append decisions, chained after the current last record; returns once committed."""
    if not decisions:
        return
    with _writers_lock:
        writer = _writers.get(path)
        if writer is None:
            writer = _writers[path] = _Writer(path, locks)
    future: Future[None] = Future()
    writer.queue.put((decisions, future))
    future.result()


def verify(path: Path) -> int:
    """Check the whole chain; returns the record count or raises naming the first bad record."""
    table = delta.read(path)
    if table is None:
        return 0
    prev = GENESIS
    for expected, record in enumerate(sorted(table.to_pylist(), key=lambda r: r["seq"])):
        if record["seq"] != expected:
            raise AuditTampered(
                f"audit record {expected} is missing (found {record['seq']} next)", record=expected
            )
        if record["prev_hash"] != prev or record_hash(prev, record) != record["hash"]:
            raise AuditTampered(f"audit record {expected} was edited or reordered", record=expected)
        prev = record["hash"]
    return int(table.num_rows)
