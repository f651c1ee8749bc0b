"""Feedback in Delta (``.aiready/lake/feedback/<kind>``), stored once per principal and key.

A key is scoped by the principal who posted it, so one principal reusing another's key cannot
make that other principal's post be dropped as a duplicate.

Concurrent posts go through one writer thread per kind (``storage.group_commit``) that commits
whatever is queued as one Delta append: a burst of 1,000 posts is a handful of commits, not 1,000
racing ones. The request waits for its commit, so a 2xx means the row is durable. A file lock per
kind keeps other processes (the CLI) from storing a key twice.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from aiready.config.paths import Paths
from aiready.feedback.models import _Base
from aiready.storage import dataset_lock, delta
from aiready.storage.group_commit import Durable, shared

SCHEMA = pa.schema(
    [
        ("id", pa.string()),
        ("kind", pa.string()),
        ("idempotency_key", pa.string()),
        ("principal", pa.string()),
        ("purpose", pa.string()),
        ("dataset", pa.string()),
        ("record_key", pa.string()),
        ("column", pa.string()),
        ("trace_id", pa.string()),
        ("model_version", pa.string()),
        ("prompt_version", pa.string()),
        ("gold_version", pa.int64()),
        ("value", pa.float64()),
        ("action", pa.string()),
        ("status", pa.string()),
        ("created_at", pa.timestamp("us", tz="UTC")),
        ("payload", pa.string()),
        ("reviewed_by", pa.string()),
        ("reviewed_at", pa.timestamp("us", tz="UTC")),
        ("review_note", pa.string()),
        ("batch_id", pa.string()),
    ]
)


_Key = tuple[str, str]
"""(principal, idempotency key): the unit a post is deduplicated by."""


def _key(row: dict[str, Any]) -> _Key:
    return (row["principal"], row["idempotency_key"])


@dataclass
class Stored:
    """The outcome of one post: the row's id and whether this call created it."""

    id: str
    kind: str
    created: bool


def table_path(paths: Paths, kind: str) -> Path:
    return paths.lake / "feedback" / kind


def _value(item: _Base) -> float | None:
    data = item.model_dump()
    if data.get("score") is not None:
        return float(data["score"])
    if data.get("thumbs") is not None:
        return 1.0 if data["thumbs"] == "up" else 0.0
    return float(data["value"]) if data.get("value") is not None else None


def to_row(item: _Base, principal: str, gold_version: int | None = None) -> dict[str, Any]:
    """The stored row; ``gold_version`` is the certified version the feedback is about."""
    data = item.model_dump(mode="json")
    kind = str(data["kind"])
    canonical = json.dumps({"principal": principal, **data}, sort_keys=True)
    key = item.idempotency_key or hashlib.sha256(canonical.encode()).hexdigest()
    return {
        "id": str(uuid.uuid4()),
        "kind": kind,
        "idempotency_key": key,
        "principal": principal,
        "purpose": item.purpose,
        "dataset": data.get("dataset"),
        "record_key": data.get("record_key"),
        "column": data.get("column"),
        "trace_id": item.trace_id,
        "model_version": item.model_version,
        "prompt_version": item.prompt_version,
        "gold_version": gold_version if data.get("gold_version") is None else data["gold_version"],
        "value": _value(item),
        "action": data.get("action"),
        "status": "pending" if kind == "correction" else "recorded",
        "created_at": datetime.now(UTC),
        "payload": json.dumps(data, sort_keys=True),
        "reviewed_by": None,
        "reviewed_at": None,
        "review_note": None,
        "batch_id": None,
    }


class _Table:
    """One kind's table: its committed keys and the commit a group-commit writer runs."""

    def __init__(self, paths: Paths, kind: str) -> None:
        self.path, self.locks, self.kind = table_path(paths, kind), paths.locks, kind
        self.known: tuple[int | None, dict[_Key, str]] | None = None

    def _keys(self) -> dict[_Key, str]:
        """(principal, idempotency key) → id of the stored row (re-read when the table moved on)."""
        version = delta.version(self.path)
        if self.known is not None and self.known[0] == version:
            return self.known[1]
        table = delta.read(self.path, columns=["principal", "idempotency_key", "id"])
        keys: dict[_Key, str] = {}
        if table is not None:
            keys = {_key(row): row["id"] for row in table.to_pylist()}
        self.known = (version, keys)
        return keys

    def commit(self, rows: list[dict[str, Any]]) -> list[Stored]:
        """Append the rows whose key is new in one commit; a repeat gets the stored row's id."""
        with dataset_lock(self.locks, f"feedback.{self.kind}"):
            keys = dict(self._keys())
            fresh = []
            stored = []
            for row in rows:
                created = _key(row) not in keys
                if created:
                    keys[_key(row)] = row["id"]
                    fresh.append(row)
                stored.append(Stored(keys[_key(row)], self.kind, created))
            if fresh:
                delta.append(self.path, pa.Table.from_pylist(fresh, schema=SCHEMA))
            self.known = (delta.version(self.path), keys)
        return stored


def _writer(paths: Paths, kind: str) -> Durable[dict[str, Any], Stored]:
    """The process's writer for one kind's table."""
    table = _Table(paths, kind)  # cheap; only the first one for the path is kept
    return shared(("feedback", table.path), lambda: Durable(f"feedback-{kind}", table.commit))


class FeedbackStore:
    """Stores feedback once per (principal, idempotency key); safe under concurrent posts."""

    def __init__(self, paths: Paths) -> None:
        self.paths = paths

    def add(
        self, item: _Base, principal: str, gold_version: int | None = None, timeout: float = 120.0
    ) -> Stored:
        """Queue ``item`` for its kind's writer and wait until it is committed (or found stored)."""
        row = to_row(item, principal, gold_version)
        return _writer(self.paths, row["kind"]).put(row, timeout=timeout)

    def add_now(self, item: _Base, principal: str, gold_version: int | None = None) -> Stored:
        """Store ``item`` in this thread (the CLI: no writer thread)."""
        row = to_row(item, principal, gold_version)
        return _Table(self.paths, row["kind"]).commit([row])[0]

    def rows(self, kind: str, status: str | None = None) -> list[dict[str, Any]]:
        table = delta.read(table_path(self.paths, kind))
        if table is None:
            return []
        if status is not None:
            table = table.filter(pc.equal(table.column("status"), status))
        return list(table.to_pylist())
