"""The audit log: every decision, allow and deny, in a Delta table with a keyed chain.

Each record's ``mac`` is HMAC-SHA256 under the workspace secret over the previous record's
``mac`` and this record's fields (``audit_chain.py``), ``key_id`` names the key that signed it,
and ``seq`` counts from 0 without gaps; every fold anchors the head (seq, mac, Delta version) in
``.aiready/audit.head`` outside the lake. ``verify`` (``audit_verify.py``) detects any edited,
forged, removed or reordered record, and removal back to the last anchor, and names what changed.
The secret is never written here: requests carry names, and records carry MACs, never keys.

A decision is durable before the request it allows is answered: it is appended and fsynced to a
journal beside the table (``_audit.journal.jsonl``, well under a millisecond), and folded into
the Delta table in batches — every ``FOLD_SECONDS`` or ``FOLD_RECORDS`` by the writer, and by
anyone who reads or verifies the log. A fold commits the records past the table's last ``seq``
and only then empties the journal, so a crash between the two folds nothing twice.
"""

from __future__ import annotations

import json
import logging
import os
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from deltalake import DeltaTable
from deltalake.exceptions import DeltaError

from aiready.policy.audit_chain import (
    GENESIS,
    Head,
    head_path,
    read_head,
    record_mac,
    write_head,
)
from aiready.policy.engine import Decision
from aiready.policy.errors import AuditTampered
from aiready.storage import dataset_lock, delta
from aiready.storage.group_commit import Durable, every, shared
from aiready.storage.secret import KeyRing, load_secret, secret_path

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
        ("key_id", pa.string()),
        ("prev_mac", pa.string()),
        ("mac", pa.string()),
    ]
)
LEGACY = {"prev_hash": "prev_mac", "hash": "mac"}
"""Columns of the unkeyed chain (aiready before the keyed one) and their keyed counterparts."""
FOLD_SECONDS = 2.0
FOLD_RECORDS = 1000
log = logging.getLogger(__name__)


def state_of(locks: Path) -> Path:
    """The workspace state folder (``.aiready``) that holds ``locks``, the secret and the head."""
    return locks.parent


def normalise(record: dict[str, Any]) -> dict[str, Any]:
    """A record in keyed terms: an unkeyed one's ``hash`` becomes its ``mac``, ``key_id`` None."""
    for old, new in LEGACY.items():
        if record.get(new) is None and old in record:
            record[new] = record[old]
        record.pop(old, None)
    record.setdefault("key_id", None)
    return record


def ring_of(state: Path) -> KeyRing:
    """The key ring; a missing secret is created only while no head was signed with it (a lost
    secret must stop the chain, not restart it under a new key as if nothing had happened)."""
    if not secret_path(state).exists() and head_path(state).exists():
        raise AuditTampered(
            f"the workspace secret {secret_path(state)} is gone but the audit head is signed "
            "with it: restore it to check or extend the audit chain",
            file=str(secret_path(state)),
        )
    return load_secret(state)


def _arrow(journal: Path, records: list[dict[str, Any]]) -> pa.Table:
    """Journal records as Arrow; a line whose values do not fit the schema is named."""
    try:
        return pa.Table.from_pylist(records, schema=SCHEMA)
    except (pa.ArrowException, TypeError, ValueError):
        for record in records:
            try:
                pa.Table.from_pylist([record], schema=SCHEMA)
            except (pa.ArrowException, TypeError, ValueError) as exc:
                raise AuditTampered(
                    f"audit journal {journal} holds record {record.get('seq')} with a value "
                    f"of the wrong type ({exc})",
                    file=str(journal),
                    record=record.get("seq"),
                ) from None
        raise


def _tail(path: Path) -> tuple[int, str]:
    dt = delta.table(path)
    if dt is None:
        return -1, GENESIS
    names = {f.name for f in dt.schema().fields}
    columns = ["seq", *(c for c in ("mac", "hash") if c in names)]
    table = dt.to_pyarrow_dataset().to_table(columns=columns)
    if table.num_rows == 0:
        return -1, GENESIS
    row = normalise(table.sort_by("seq").slice(table.num_rows - 1).to_pylist()[0])
    return int(row["seq"]), str(row["mac"])


def _records(decisions: list[Decision], seq: int, prev: str, ring: KeyRing) -> list[dict[str, Any]]:
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
            "key_id": ring.current,
        }
        record["prev_mac"] = prev
        record["mac"] = prev = record_mac(ring.key, prev, record)
        rows.append(record)
    return rows


def journal_path(path: Path) -> Path:
    return path.with_name(f"{path.name}.journal.jsonl")


def _encode(record: dict[str, Any]) -> bytes:
    data = dict(record, at=record["at"].isoformat())
    return (json.dumps(data, sort_keys=True, ensure_ascii=False) + "\n").encode()


def _journal(journal: Path) -> list[dict[str, Any]]:
    """The journal's complete records; a last line without its newline is a write cut short by
    a crash, never acknowledged, so it is not a record."""
    try:
        raw = journal.read_bytes()
    except FileNotFoundError:
        return []
    lines = raw.split(b"\n")[:-1]
    records = []
    for number, line in enumerate(lines, start=1):
        try:
            record = normalise(json.loads(line))
            record["at"] = datetime.fromisoformat(record["at"])
            int(record["seq"]), record["mac"].lower()  # no seq or mac: no record
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise AuditTampered(
                f"audit journal {journal} line {number} is not a record",
                line=number,
                file=str(journal),
            ) from exc
        records.append(record)
    return records


def _append_journal(journal: Path, rows: list[dict[str, Any]]) -> None:
    """Append and fsync; a torn last line left by a crash is cut off first."""
    new = not journal.exists()
    journal.parent.mkdir(parents=True, exist_ok=True)
    with open(journal, "ab+") as f:
        size = f.seek(0, os.SEEK_END)
        if size:
            f.seek(size - 1)
            if f.read(1) != b"\n":
                f.seek(0)
                f.truncate(f.read().rfind(b"\n") + 1)
                f.seek(0, os.SEEK_END)
        f.write(b"".join(_encode(r) for r in rows))
        f.flush()
        os.fsync(f.fileno())
    if new:  # the file's own directory entry must survive a crash too
        fd = os.open(journal.parent, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _stamp(journal: Path) -> tuple[int, int, int] | None:
    """Identifies the journal's state: any write by anyone else changes it."""
    try:
        st = journal.stat()
    except FileNotFoundError:
        return None
    return st.st_ino, st.st_size, st.st_mtime_ns


class _Writer:
    """One per audit table and process: concurrent appends are chained and journalled together
    (group commit), and the journal is folded into Delta in the background."""

    def __init__(self, path: Path, locks: Path) -> None:
        self.path, self.locks, self.state = path, locks, state_of(locks)
        self.journal = journal_path(path)
        self.tail: tuple[tuple[int, int, int] | None, int, str] | None = None  # (stamp, seq, mac)
        self.unfolded, self.unfolded_since = 0, 0.0
        self.dt: DeltaTable | None = None
        self.folded: tuple[int, int] | None = None  # (Delta version, last seq in it)
        self.writer = Durable("audit-writer", self._commit, self._fold_if_due, idle=FOLD_SECONDS)

    def _fold_if_due(self) -> None:
        waited = time.monotonic() - self.unfolded_since
        if self.unfolded and (self.unfolded >= FOLD_RECORDS or waited >= FOLD_SECONDS):
            self.fold_quietly()

    def _commit(self, batch: list[list[Decision]]) -> list[None]:
        """Chain and journal every caller's decisions of a batch together (one fsync)."""
        decisions = [d for decisions in batch for d in decisions]
        with dataset_lock(self.locks, "_audit"):
            ring = ring_of(self.state)  # each commit: a rotation applies at once
            stamp = _stamp(self.journal)
            if self.tail is not None and self.tail[0] == stamp:
                seq, prev = self.tail[1], self.tail[2]
            else:  # first append here, or another process appended or folded
                seq, prev = self._chain_end(ring)
            rows = _records(decisions, seq, prev, ring)
            _append_journal(self.journal, rows)
            if not self.unfolded:
                self.unfolded_since = time.monotonic()
            self.unfolded += len(rows)
            self.tail = (_stamp(self.journal), int(rows[-1]["seq"]), str(rows[-1]["mac"]))
        return [None] * len(batch)

    def _chain_end(self, ring: KeyRing) -> tuple[int, str]:
        """Where the next record chains on: the journal's end, else the anchored head — never
        an end read from the table alone, or records cut from it would be re-chained over
        seamlessly — unless the table is past the head (a crash came before the head write)."""
        records = _journal(self.journal)
        if records:  # the journal always ends the chain (after a cut-short fold it repeats it)
            return int(records[-1]["seq"]), str(records[-1]["mac"])
        head = read_head(self.state, ring)
        if head is not None and self._folded_seq(self._table()) <= head.seq:
            return head.seq, head.mac
        return _tail(self.path)

    def fold_quietly(self) -> None:
        """Fold in the background; the records stay safe in the journal if it fails."""
        try:
            with dataset_lock(self.locks, "_audit"):
                self._fold()
        except Exception as exc:  # noqa: BLE001 - retried at the next fold; nothing is lost
            log.warning("folding the audit journal into %s failed (%s); will retry", self.path, exc)

    def _fold(self) -> None:
        """Move the journal into the Delta table (the caller holds the lock)."""
        records = _journal(self.journal)
        if records:
            dt = self._table()
            last = self._folded_seq(dt)
            new = [r for r in records if int(r["seq"]) > last]
            version = None if dt is None else int(dt.version())
            if new:
                data = _arrow(self.journal, new)
                if dt is None:
                    version = delta.append(self.path, data)
                else:
                    version = delta.append_to(dt, self.path, data)
                self.folded = (version, int(new[-1]["seq"]))
            end = records[-1]
            if version is not None:  # anchored before the journal empties: never behind Delta
                self._anchor(end, version)
            with open(self.journal, "r+b") as f:
                f.truncate(0)
                os.fsync(f.fileno())
            self.tail = (_stamp(self.journal), int(end["seq"]), str(end["mac"]))
        self.unfolded = 0

    def _anchor(self, end: dict[str, Any], version: int) -> None:
        """Write the head; a garbled head raises and one past ``end`` stays (the fold must
        never overwrite the evidence that records were removed)."""
        ring = ring_of(self.state)
        old = read_head(self.state, ring)
        if old is not None and old.seq > int(end["seq"]):
            log.warning("audit head %s is past the journal's end %s: kept", old.seq, end["seq"])
            return
        write_head(
            self.state, Head.make(ring, int(end["seq"]), str(end["mac"]), end["key_id"], version)
        )

    def _folded_seq(self, dt: DeltaTable | None) -> int:
        """The last ``seq`` in the Delta table: known from this writer's last fold, else read
        from the files' statistics (not from the rows: the log only grows)."""
        if dt is None:
            return -1
        version = int(dt.version())
        if self.folded is not None and self.folded[0] == version:
            return self.folded[1]
        stats = pa.table(dt.get_add_actions(flatten=True))
        if "max.seq" in stats.column_names and stats.column("max.seq").null_count == 0:
            last = pc.max(stats.column("max.seq")).as_py()
            seq = -1 if last is None else int(last)
        else:  # files written without statistics
            seq = _tail(self.path)[0]
        self.folded = (version, seq)
        return seq

    def _table(self) -> DeltaTable | None:
        """The audit table, caught up in place with commits made since (by any process)."""
        if self.dt is not None:
            try:
                self.dt.update_incremental()
                return self.dt
            except DeltaError:  # the table was replaced under us: load it afresh
                self.dt = None
        self.dt = delta.table(self.path)
        return self.dt


def _writer(path: Path, locks: Path) -> _Writer:
    return shared(("audit", path), lambda: _Writer(path, locks))


def append(path: Path, locks: Path, decisions: list[Decision]) -> None:
    """Append decisions, chained after the current last record; returns once durable."""
    if not decisions:
        return
    _writer(path, locks).writer.put(decisions)


def fold(path: Path, locks: Path) -> None:
    """Bring every journalled decision into the Delta table now."""
    if not journal_path(path).exists():
        return
    writer = _writer(path, locks)
    with dataset_lock(locks, "_audit"):
        writer._fold()


def fold_all() -> None:
    """Fold the journals this process wrote to (before it exits)."""
    for writer in every(_Writer):
        writer.fold_quietly()


def read(path: Path, locks: Path) -> pa.Table | None:
    """The whole audit log as a table, every journalled decision included."""
    fold(path, locks)
    return delta.read(path)
