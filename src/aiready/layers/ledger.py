"""Append-only ledgers of batches: which files became which bronze batch, which batches are refined.

The bronze table is the truth for "was this file ingested" (its rows carry ``_source_sha256``); the
ledgers are small indexes written *after* the data, so a crash in between is repaired on rerun.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from aiready.storage import delta

INGESTED_SCHEMA = pa.schema(
    [
        ("dataset", pa.string()),
        ("batch_id", pa.string()),
        ("source_file", pa.string()),
        ("source_sha256", pa.string()),
        ("format", pa.string()),
        ("columns", pa.list_(pa.string())),
        ("rows", pa.int64()),
        ("malformed", pa.int64()),
        ("bronze_version", pa.int64()),
        ("ingested_at", pa.timestamp("us", tz="UTC")),
    ]
)
REFINED_SCHEMA = pa.schema(
    [
        ("dataset", pa.string()),
        ("batch_id", pa.string()),
        ("contract_sha256", pa.string()),
        ("rows_in", pa.int64()),
        ("rows_out", pa.int64()),
        ("rows_quarantined", pa.int64()),
        ("rows_dropped", pa.int64()),
        ("rows_warned", pa.int64()),
        ("silver_version", pa.int64()),
        ("quarantine_version", pa.int64()),
        ("refined_at", pa.timestamp("us", tz="UTC")),
    ]
)


@dataclass(frozen=True)
class BatchRecord:
    """A bronze batch: one source file, ingested once."""

    dataset: str
    batch_id: str
    source_file: str
    source_sha256: str
    format: str
    columns: list[str]
    rows: int
    malformed: int
    bronze_version: int
    ingested_at: datetime


def _rows(path: Path, dataset: str) -> list[dict[str, Any]]:
    table = delta.read(path, filter=pc.field("dataset") == dataset)
    return [] if table is None else table.to_pylist()


def ingested(path: Path, dataset: str) -> list[BatchRecord]:
    """Batches of ``dataset`` in ingest order."""
    names = {f.name for f in fields(BatchRecord)}
    rows = sorted(_rows(path, dataset), key=lambda r: r["batch_id"])
    return [BatchRecord(**{k: v for k, v in r.items() if k in names}) for r in rows]


def record_ingested(path: Path, record: BatchRecord) -> None:
    delta.append(path, pa.Table.from_pylist([asdict(record)], schema=INGESTED_SCHEMA))


def refined(path: Path, dataset: str) -> dict[str, dict[str, Any]]:
    """batch_id → refine record for ``dataset``."""
    return {r["batch_id"]: r for r in _rows(path, dataset)}


def record_refined(path: Path, row: dict[str, Any]) -> None:
    delta.append(path, pa.Table.from_pylist([row], schema=REFINED_SCHEMA))
