"""The audit log: every decision, allow and deny, in a Delta table with a hash chain.

Each record's ``hash`` is sha256 over the previous record's hash and this record's fields, and
``seq`` counts from 0 without gaps, so ``verify`` detects any edited, removed or reordered record
and names the first bad one. No secret is ever written: requests carry names, never keys.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa

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


def append(path: Path, locks: Path, decisions: list[Decision]) -> None:
    """Append decisions in one commit, chained after the current last record."""
    if not decisions:
        return
    with dataset_lock(locks, "_audit"):
        seq, prev = _tail(path)
        rows = []
        for d in decisions:
            seq += 1
            record = {
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
        delta.append(path, pa.Table.from_pylist(rows, schema=SCHEMA))


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
