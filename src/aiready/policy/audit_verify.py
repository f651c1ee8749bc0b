"""``verify``: check the audit log against its keyed chain and its anchors, naming what changed.

Every Parquet file of the table's snapshot is read on its own, so a garbled or rewritten file is
named, and a bad record is named with the file it sits in. The chain must run from ``seq`` 0
without gap or repeat, every keyed ``mac`` must be the HMAC of its record under the key its
``key_id`` names, and unkeyed records (written before the keyed chain) may only come first. Then
every anchor — the head file written at each fold, and the ones recorded in MLflow at each
verify — must still be in the chain with the same ``mac``, in a Delta version at least as new.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from aiready.policy.audit import fold, normalise, ring_of, state_of
from aiready.policy.audit_chain import (
    FIELDS,
    GENESIS,
    Head,
    read_head,
    record_hash,
    record_mac,
)
from aiready.policy.errors import AuditTampered
from aiready.storage import delta
from aiready.storage.secret import KeyRing


@dataclass
class Verified:
    """What ``verify`` checked: ``records`` in all, the first ``legacy`` of them unkeyed."""

    records: int
    legacy: int = 0
    sealed: bool = True
    """False while unkeyed records have no keyed record after them (nothing vouches for them)."""
    head: Head | None = None
    version: int | None = None
    anchors: int = 0
    """Anchors checked besides the head file (MLflow)."""
    keys: list[str] = field(default_factory=list)

    def asdict(self) -> dict[str, Any]:
        head = None if self.head is None else {"seq": self.head.seq, "version": self.head.version}
        return {
            "records": self.records,
            "legacy": self.legacy,
            "sealed": self.sealed,
            "head": head,
            "version": self.version,
            "anchors": self.anchors,
            "keys": self.keys,
        }


Rows = list[tuple[dict[str, Any], str]]
"""Records in ``seq`` order, each with the Parquet file it was read from."""


def verify(
    path: Path, locks: Path, anchors: list[tuple[str, dict[str, Any]]] | None = None
) -> Verified:
    """Check the whole log; raises ``AuditTampered`` naming the first record, file or commit.

    ``anchors`` are heads recorded elsewhere (MLflow), each with where it was found.
    """
    state = state_of(locks)
    ring = ring_of(state)
    marks = [Head.parse(body, ring, where) for where, body in anchors or []]
    read_head(state, ring)  # a garbled head is named before a fold would replace it
    try:
        fold(path, locks)
    except AuditTampered:
        raise
    except Exception:
        _rows(path)  # a fold fails on a garbled table: name the file that is why
        raise
    head = read_head(state, ring)
    rows, version = _rows(path)
    if rows is None:
        if head is not None or marks:
            newest = max([m.seq for m in marks] + ([head.seq] if head else []))
            raise AuditTampered(
                f"the audit table {path} is gone; it was anchored at record {newest}",
                file=str(path),
                record=newest,
            )
        return Verified(0, head=None)
    result = _chain(rows, ring)
    for mark in ([head] if head is not None else []) + marks:
        _anchored(path, mark, rows, version)
    if head is None and result.legacy < result.records:
        raise AuditTampered(
            f"the audit head {state / 'audit.head'} is missing but the log has keyed records",
            file=str(state / "audit.head"),
        )
    result.head, result.version, result.anchors = head, version, len(marks)
    return result


def _rows(path: Path) -> tuple[Rows | None, int]:
    """Every record with the file it came from, and the Delta version; None without a table."""
    if not delta.exists(path):
        return None, -1
    try:
        dt = delta.table(path)
        if dt is None:
            raise ValueError("no table")
        files, version = dt.file_uris(), int(dt.version())
    except Exception as exc:  # noqa: BLE001 - any unreadable log is tampering, named
        raise AuditTampered(
            f"the audit table's Delta log {path / '_delta_log'} is unreadable ({exc})",
            file=str(path / "_delta_log"),
        ) from None
    rows = []
    for uri in files:
        try:
            records = pq.read_table(uri).to_pylist()
        except Exception as exc:  # noqa: BLE001 - garbled, truncated or missing file
            raise AuditTampered(f"audit file {uri} is unreadable ({exc})", file=uri) from None
        for record in records:
            rows.append((_checked(normalise(record), uri), uri))
    return sorted(rows, key=lambda r: int(r[0]["seq"])), version


def _checked(record: dict[str, Any], uri: str) -> dict[str, Any]:
    """A record with every field of the chain, typed; a file that lacks one was rewritten."""
    missing = [k for k in (*FIELDS, "prev_mac", "mac") if k not in record]
    malformed = (
        not isinstance(record.get("seq"), int)
        or not isinstance(record.get("at"), datetime)
        or not isinstance(record.get("mac"), str)
        or not isinstance(record.get("prev_mac"), str)
    )
    if missing or malformed:
        what = f"lacks {', '.join(missing)}" if missing else "has a malformed seq, at or mac"
        raise AuditTampered(
            f"audit file {uri} holds a record that {what}", file=uri, record=record.get("seq")
        )
    return record


def _chain(rows: Rows, ring: KeyRing) -> Verified:
    prev, legacy, keys = GENESIS, 0, set()
    order, newest = {k: i for i, k in enumerate(ring.keys)}, -1  # the ring keeps rotation order
    for expected, (record, uri) in enumerate(rows):
        seq = int(record["seq"])
        if seq < expected:
            raise AuditTampered(f"audit record {seq} appears twice", record=seq, file=uri)
        if seq > expected:
            raise AuditTampered(
                f"audit record {expected} is missing (found {seq} next)", record=expected, file=uri
            )
        key_id = record["key_id"]
        if key_id is None:
            if legacy < expected:
                raise AuditTampered(
                    f"audit record {seq} is unkeyed after keyed records", record=seq, file=uri
                )
            legacy += 1
            mac = record_hash(str(record["prev_mac"]), record)
        else:
            key = ring.keys.get(key_id)
            if key is None:
                raise AuditTampered(
                    f"audit record {seq} names key {key_id!r}, which the workspace secret "
                    "does not hold",
                    record=seq,
                    file=uri,
                )
            if order[key_id] < newest:
                raise AuditTampered(
                    f"audit record {seq} is signed with key {key_id!r}, retired by a rotation "
                    "before an earlier record was signed",
                    record=seq,
                    file=uri,
                )
            newest = order[key_id]
            keys.add(key_id)
            mac = record_mac(key, str(record["prev_mac"]), record)
        if not hmac.compare_digest(mac, str(record["mac"])):
            raise AuditTampered(
                f"audit record {seq} was edited, forged or reordered (its MAC fails)",
                record=seq,
                file=uri,
            )
        if record["prev_mac"] != prev:
            raise AuditTampered(
                f"audit record {seq} does not follow record {seq - 1}: reordered, or an "
                "earlier record was rewritten",
                record=seq,
                file=uri,
            )
        prev = mac
    return Verified(len(rows), legacy, legacy == 0 or legacy < len(rows), keys=sorted(keys))


def _anchored(path: Path, mark: Head, rows: Rows, version: int) -> None:
    """The anchored record is still there, unchanged, in a Delta version at least as new."""
    if version < mark.version:
        missing = path / "_delta_log" / f"{mark.version:020d}.json"
        raise AuditTampered(
            f"audit Delta commit {mark.version} ({missing}) is gone: the table is at version "
            f"{version}, its head was anchored at {mark.version} (record {mark.seq})",
            file=str(missing),
            record=mark.seq,
        )
    if mark.seq >= len(rows):
        raise AuditTampered(
            f"audit records {len(rows)}..{mark.seq} were removed: the log ends at record "
            f"{len(rows) - 1} but its head was anchored at record {mark.seq}",
            record=len(rows),
        )
    record, uri = rows[mark.seq]
    if not hmac.compare_digest(str(record["mac"]), mark.mac):
        raise AuditTampered(
            f"audit record {mark.seq} differs from its anchored head", record=mark.seq, file=uri
        )
