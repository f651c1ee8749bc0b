"""Feedback in Delta (``.aiready/lake/feedback/<kind>``), stored once per principal and key.

A key is scoped by the principal who posted it, so one principal reusing another's key cannot
make that other principal's post be dropped as a duplicate.

Concurrent posts go through one writer thread that commits whatever is queued as one Delta append
per kind (group commit): a burst of 1,000 posts is a handful of commits, not 1,000 racing ones.
The request waits for its commit, so a 2xx means the row is durable. A file lock per kind keeps
other processes (the CLI) from storing a key twice.
"""

from __future__ import annotations

import hashlib
import json
import queue
import threading
import uuid
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from aiready.config.paths import Paths
from aiready.feedback.models import _Base
from aiready.storage import dataset_lock, delta

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


@dataclass
class _Pending:
    row: dict[str, Any]
    future: Future[Stored] = field(default_factory=Future)


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


class FeedbackStore:
    """Stores feedback once per (principal, idempotency key); safe under concurrent posts."""

    def __init__(self, paths: Paths) -> None:
        self.paths = paths
        self._queue: queue.Queue[_Pending] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._start = threading.Lock()
        self._known: dict[str, tuple[int | None, dict[_Key, str]]] = {}

    def add(
        self, item: _Base, principal: str, gold_version: int | None = None, timeout: float = 120.0
    ) -> Stored:
        """Queue ``item`` for the writer and wait until it is committed (or found stored)."""
        self._ensure_writer()
        pending = _Pending(to_row(item, principal, gold_version))
        self._queue.put(pending)
        return pending.future.result(timeout=timeout)

    def add_now(self, item: _Base, principal: str, gold_version: int | None = None) -> Stored:
        """Store ``item`` in this thread (the CLI: no writer thread)."""
        pending = _Pending(to_row(item, principal, gold_version))
        self._commit(pending.row["kind"], [pending])
        return pending.future.result()

    def _ensure_writer(self) -> None:
        with self._start:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="feedback-writer", daemon=True
                )
                self._thread.start()

    def _run(self) -> None:
        while True:
            batch = [self._queue.get()]
            while True:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            by_kind: dict[str, list[_Pending]] = {}
            for pending in batch:
                by_kind.setdefault(pending.row["kind"], []).append(pending)
            for kind, items in by_kind.items():
                try:
                    self._commit(kind, items)
                except Exception as exc:  # noqa: BLE001 - every waiting request gets the error
                    for pending in items:
                        if not pending.future.done():
                            pending.future.set_exception(exc)

    def _keys(self, kind: str) -> dict[_Key, str]:
        """(principal, idempotency key) → id of the stored row (re-read when the table moved on)."""
        path = table_path(self.paths, kind)
        version = delta.version(path)
        cached = self._known.get(kind)
        if cached is not None and cached[0] == version:
            return cached[1]
        table = delta.read(path, columns=["principal", "idempotency_key", "id"])
        keys: dict[_Key, str] = {}
        if table is not None:
            keys = {_key(row): row["id"] for row in table.to_pylist()}
        self._known[kind] = (version, keys)
        return keys

    def _commit(self, kind: str, items: list[_Pending]) -> None:
        path = table_path(self.paths, kind)
        with dataset_lock(self.paths.locks, f"feedback.{kind}"):
            keys = dict(self._keys(kind))
            fresh: list[_Pending] = []
            repeats: list[_Pending] = []
            for pending in items:
                key = _key(pending.row)
                if key in keys:
                    repeats.append(pending)
                    continue
                keys[key] = pending.row["id"]
                fresh.append(pending)
            if fresh:
                delta.append(path, pa.Table.from_pylist([p.row for p in fresh], schema=SCHEMA))
            self._known[kind] = (delta.version(path), keys)
        for pending in fresh:
            pending.future.set_result(Stored(pending.row["id"], kind, True))
        for pending in repeats:
            pending.future.set_result(Stored(keys[_key(pending.row)], kind, False))

    def rows(self, kind: str, status: str | None = None) -> list[dict[str, Any]]:
        table = delta.read(table_path(self.paths, kind))
        if table is None:
            return []
        if status is not None:
            table = table.filter(pc.equal(table.column("status"), status))
        return list(table.to_pylist())
