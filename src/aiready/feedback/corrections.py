"""The correction loop: reviewed corrections become bronze batches that pass the same gates.

An accepted correction is written as a one-record JSONL file under
``.aiready/corrections/<dataset>/<feedback id>.jsonl`` (the current silver record with the corrected
value) and ingested as its own bronze batch: provenance is the file name, the sha256 and the
feedback id. ``refine`` then gates it like any source, a strategic dataset merges it by key, and the
next gold version's certificate lists the corrections it contains.

A correction on a gold model is traced back through the model's column lineage to the silver column
it copies; corrections apply to strategic (merge-by-key) datasets, where a record has one current
value.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.compute as pc

from aiready.config.models import DatasetConfig
from aiready.errors import AireadyError, NotFoundError
from aiready.feedback.store import table_path
from aiready.layers import bronze, ledger
from aiready.lineage.columns import direct_source
from aiready.storage import dataset_lock, delta

if TYPE_CHECKING:
    from aiready.feedback.source import FeedbackSource


class ReviewError(AireadyError):
    """A correction cannot be reviewed or applied as asked."""


@dataclass
class Review:
    feedback_id: str
    status: str
    dataset: str | None = None
    column: str | None = None
    batch_id: str | None = None
    file: str | None = None


def pending(ws: FeedbackSource) -> list[dict[str, Any]]:
    return ws.feedback.rows("correction", status="pending")


def _row(ws: FeedbackSource, feedback_id: str) -> dict[str, Any]:
    rows = [r for r in ws.feedback.rows("correction") if r["id"] == feedback_id]
    if not rows:
        raise NotFoundError(f"no correction with id {feedback_id}", feedback=feedback_id)
    return rows[0]


def _target(ws: FeedbackSource, dataset: str, column: str) -> tuple[str, str]:
    """(silver dataset, column) a correction on ``dataset.column`` changes."""
    if dataset in ws.config.datasets:
        return dataset, column
    model = ws.model(dataset)
    from aiready.layers import gold

    sql = gold.read_sql(ws.root, model)
    schema: dict[str, dict[str, dict[str, str]]] = {"silver": {}, "gold": {}}
    for name in ws.config.datasets:
        fields = [c.name for c in ws.contract(name).columns]
        schema["silver"][name] = {f: "TEXT" for f in fields}
    keys = list(model.primary_key) or ([model.retrieval.id] if model.retrieval else [])
    source = direct_source(sql, column, schema)
    key_sources = [direct_source(sql, k, schema) for k in keys]
    if source is None or not keys:
        raise ReviewError(
            f"{dataset}.{column} is not a direct copy of one silver column: correct the source "
            "dataset instead",
            dataset=dataset,
            column=column,
        )
    table, source_column = source
    if any(k is None or k[0] != table for k in key_sources):
        raise ReviewError(f"{dataset}'s key is not a copy of {table}'s", dataset=dataset)
    return table.split(".", 1)[1], source_column


def _record(ws: FeedbackSource, dataset: str, key: str) -> dict[str, Any]:
    contract = ws.contract(dataset)
    if len(contract.primary_key) != 1:
        raise ReviewError(
            "corrections need a single-column primary key in the contract", dataset=dataset
        )
    pk = contract.primary_key[0]
    table = delta.read(ws.paths.table("silver", dataset))
    if table is None:
        raise NotFoundError(f"silver {dataset} has no rows", dataset=dataset)
    hits = table.filter(pc.equal(table.column(pk).cast(pa.string()), key))
    if hits.num_rows == 0:
        raise NotFoundError(f"no record {pk}={key} in silver {dataset}", dataset=dataset)
    row = hits.slice(hits.num_rows - 1).to_pylist()[0]
    return {c.name: row.get(c.name) for c in contract.columns}


def _text(value: Any) -> Any:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def review(
    ws: FeedbackSource, feedback_id: str, accept: bool, reviewer: str, note: str | None = None
) -> Review:
    """Accept (and ingest as a bronze batch) or reject one pending correction."""
    if not reviewer.strip():
        raise ReviewError("a reviewer is required", feedback=feedback_id)
    row = _row(ws, feedback_id)
    if row["status"] != "pending":
        raise ReviewError(
            f"correction {feedback_id} is already {row['status']}", feedback=feedback_id
        )
    result = Review(feedback_id, "rejected")
    if accept:
        dataset, column = _target(ws, row["dataset"], row["column"])
        ds = ws.dataset(dataset)
        if ds.kind != "strategic":
            raise ReviewError(
                f"{dataset} is operational (append-only events): corrections apply to "
                "strategic datasets, where a record has one current value",
                dataset=dataset,
            )
        record = {k: _text(v) for k, v in _record(ws, dataset, row["record_key"]).items()}
        record[column] = json.loads(row["payload"])["proposed_value"]
        folder = ws.paths.state / "corrections" / dataset
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{feedback_id}.jsonl"
        path.write_text(json.dumps(record) + "\n", encoding="utf-8")
        ingested = bronze.ingest(ws.paths, _jsonl(ds), files=[path])
        ingested.raise_on_failure()
        [done] = ingested.files
        result = Review(feedback_id, "accepted", dataset, column, done.batch_id, done.file)
    _mark(ws, feedback_id, result, reviewer, note)
    return result


def _jsonl(ds: DatasetConfig) -> DatasetConfig:
    return ds.model_copy(update={"format": "jsonl"})


def _mark(
    ws: FeedbackSource, feedback_id: str, result: Review, reviewer: str, note: str | None
) -> None:
    path = table_path(ws.paths, "correction")
    update = pa.table(
        {
            "id": [feedback_id],
            "status": [result.status],
            "reviewed_by": [reviewer],
            "reviewed_at": pa.array([datetime.now(UTC)], pa.timestamp("us", tz="UTC")),
            "review_note": pa.array([note], pa.string()),
            "batch_id": pa.array([result.batch_id], pa.string()),
        }
    )
    with dataset_lock(ws.paths.locks, "feedback.correction"):
        delta.update_by_key(
            path,
            update,
            ["id"],
            ["status", "reviewed_by", "reviewed_at", "review_note", "batch_id"],
        )


def applied(ws: FeedbackSource, datasets: list[str]) -> list[dict[str, Any]]:
    """Accepted corrections on ``datasets`` whose batch has been refined into silver."""
    refined = {b for name in datasets for b in ledger.refined(ws.paths.refined_ledger, name)}
    return [
        {"id": r["id"], "dataset": r["dataset"], "column": r["column"], "batch_id": r["batch_id"]}
        for r in ws.feedback.rows("correction", status="accepted")
        if r["batch_id"] in refined
    ]


def folder_of(ws: FeedbackSource) -> Path:
    return ws.paths.state / "corrections"
