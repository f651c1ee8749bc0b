"""Batches: every bronze batch with its state; retract, supersede or abandon one.

Bronze is append-only, so a batch's fate is an event in an append-only ledger
(``_ledger/batches``), never an edit of its bronze rows. A batch's state is derived:

    retracted | superseded | abandoned   a closing event (refine ignores the batch for good)
    refined                              in the refined ledger (silver + quarantine written)
    failed-gate                          its gate failed; it stays pending (retried by refine)
    pending                              ingested, not refined yet

Retract removes the batch's rows from quarantine, then from silver, and only then records the
event, under the dataset lock: every step is an idempotent Delta commit, so a crash anywhere
leaves a state that the same command, rerun, completes. For strategic (merge-by-key) data each
key the batch holds in silver gets back its previous row from silver's Delta history (the newest
row of a batch that is still open); a key the batch brought in first is removed.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import pyarrow as pa
import pyarrow.compute as pc

from aiready.config.models import DatasetConfig
from aiready.config.paths import Paths
from aiready.engines.duckdb.sql import lit
from aiready.errors import BatchStateError, NotFoundError, SourceError, StorageError
from aiready.layers import ledger
from aiready.storage import dataset_lock, delta

BatchState = Literal["pending", "refined", "failed-gate", "retracted", "superseded", "abandoned"]
Closing = Literal["retracted", "superseded", "abandoned"]
CLOSING: tuple[Closing, ...] = ("retracted", "superseded", "abandoned")
EVENT_SCHEMA = pa.schema(
    [
        ("dataset", pa.string()),
        ("batch_id", pa.string()),
        ("event", pa.string()),
        ("by", pa.string()),
        ("reason", pa.string()),
        ("superseded_by", pa.string()),
        ("rows_silver_removed", pa.int64()),
        ("rows_quarantine_removed", pa.int64()),
        ("rows_restored", pa.int64()),
        ("at", pa.timestamp("us", tz="UTC")),
    ]
)
_FLAG = "__aiready_restore"


@dataclass
class BatchInfo:
    """One bronze batch as ``aiready batch list`` shows it."""

    dataset: str
    batch_id: str
    file: str
    sha256: str
    rows: int
    malformed: int
    ingested_at: datetime
    state: BatchState
    silver_rows: int = 0
    """Rows of this batch in silver now (strategic: the keys whose current row it holds)."""
    quarantine_rows: int = 0
    quarantine_open: int = 0
    dropped: int = 0
    """Rows the gate dropped (action drop) when it was refined."""
    refined_at: datetime | None = None
    closed_by: str | None = None
    closed_at: datetime | None = None
    reason: str | None = None
    superseded_by: str | None = None
    hint: str = ""
    """What to do next, for states that wait on a person."""

    def asdict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class BatchChange:
    """Outcome of retract, supersede or abandon (``already``: the batch was closed before)."""

    dataset: str
    batch_id: str
    state: BatchState
    by: str
    reason: str | None = None
    superseded_by: str | None = None
    rows_silver_removed: int = 0
    rows_quarantine_removed: int = 0
    rows_restored: int = 0
    """Strategic data: keys given back their previous row from silver history."""
    already: bool = False
    run_id: str | None = None
    file: str = ""
    removed_keys: list[dict[str, Any]] = field(default_factory=list)
    """Strategic data: keys the batch brought in first, now gone from silver (at most 100)."""

    def asdict(self) -> dict[str, Any]:
        return asdict(self)


# -- the event ledger ---------------------------------------------------------------------------
def events(paths: Paths, dataset: str) -> list[dict[str, Any]]:
    """Batch events of ``dataset`` in the order they were recorded."""
    table = delta.read(paths.batch_ledger, filter=pc.field("dataset") == dataset)
    return [] if table is None else sorted(table.to_pylist(), key=lambda r: r["at"])


def closed(paths: Paths, dataset: str) -> dict[str, dict[str, Any]]:
    """batch_id → its closing event (retracted, superseded, abandoned)."""
    return {e["batch_id"]: e for e in events(paths, dataset) if e["event"] in CLOSING}


def _record(paths: Paths, row: dict[str, Any]) -> None:
    full = {name: row.get(name) for name in EVENT_SCHEMA.names}
    delta.append(paths.batch_ledger, pa.Table.from_pylist([full], schema=EVENT_SCHEMA))


def record_failed(paths: Paths, dataset: str, batch_ids: list[str]) -> None:
    """Mark batches whose gate failed (once), so ``status`` and ``batch list`` can name them."""
    if not batch_ids:
        return
    known = {e["batch_id"] for e in events(paths, dataset) if e["event"] == "failed-gate"}
    for batch_id in batch_ids:
        if batch_id not in known:
            _record(
                paths,
                {
                    "dataset": dataset,
                    "batch_id": batch_id,
                    "event": "failed-gate",
                    "by": "refine",
                    "at": datetime.now(UTC),
                },
            )


# -- listing ------------------------------------------------------------------------------------
def _per_batch(path: Path, status: str | None = None) -> dict[str, int]:
    table = delta.read(path, ["_batch_id", "_status"] if status else ["_batch_id"])
    if table is None or table.num_rows == 0:
        return {}
    if status:
        table = table.filter(pc.equal(table.column("_status"), status))
    counts = pc.value_counts(table.column("_batch_id").cast(pa.string())).to_pylist()
    return {str(c["values"]): int(c["counts"]) for c in counts}


def listing(paths: Paths, dataset: str) -> list[BatchInfo]:
    """Every bronze batch of ``dataset`` in ingest order, with its state and where its rows are."""
    refined = ledger.refined(paths.refined_ledger, dataset)
    history = events(paths, dataset)
    closing = {e["batch_id"]: e for e in history if e["event"] in CLOSING}
    failed = {e["batch_id"] for e in history if e["event"] == "failed-gate"}
    silver = _per_batch(paths.table("silver", dataset))
    quarantine = _per_batch(paths.table("quarantine", dataset))
    q_open = _per_batch(paths.table("quarantine", dataset), "open")
    out = []
    for b in ledger.ingested(paths.ingested_ledger, dataset):
        done, end = refined.get(b.batch_id), closing.get(b.batch_id)
        state: BatchState = (
            end["event"]
            if end
            else "refined"
            if done
            else "failed-gate"
            if b.batch_id in failed
            else "pending"
        )
        info = BatchInfo(
            dataset,
            b.batch_id,
            b.source_file,
            b.source_sha256,
            b.rows,
            b.malformed,
            b.ingested_at,
            state,
            silver.get(b.batch_id, 0),
            quarantine.get(b.batch_id, 0),
            q_open.get(b.batch_id, 0),
            int(done["rows_dropped"]) if done else 0,
            done["refined_at"] if done else None,
            end["by"] if end else None,
            end["at"] if end else None,
            end["reason"] if end else None,
            end["superseded_by"] if end else None,
        )
        info.hint = _hint(info)
        out.append(info)
    return out


def _hint(b: BatchInfo) -> str:
    ref = f"{b.dataset} {b.batch_id}"
    if b.state == "failed-gate":
        return (
            f"fix the contract (or source) and rerun `aiready refine {b.dataset}`, "
            f"or give up on it: `aiready batch abandon {ref} --by NAME`"
        )
    if b.state == "pending":
        return f"run `aiready refine {b.dataset}`"
    if b.state in CLOSING and (b.silver_rows or b.quarantine_rows):
        return f"interrupted: rerun `aiready batch retract {ref} --by NAME` to finish"
    return ""


def find(paths: Paths, dataset: str, batch_id: str) -> ledger.BatchRecord:
    """The batch named by its id (or a unique prefix of it)."""
    batches = ledger.ingested(paths.ingested_ledger, dataset)
    hits = [b for b in batches if b.batch_id == batch_id] or [
        b for b in batches if batch_id and b.batch_id.startswith(batch_id)
    ]
    if len(hits) == 1:
        return hits[0]
    what = "names several batches" if hits else "is no batch"
    raise NotFoundError(
        f"{batch_id!r} {what} of {dataset}: see `aiready batch list {dataset}`",
        dataset=dataset,
        batch=batch_id,
    )


# -- retract / abandon ----------------------------------------------------------------------------
def retract(
    paths: Paths,
    ds: DatasetConfig,
    batch_id: str,
    by: str,
    reason: str | None = None,
    key: tuple[str, ...] = (),
    superseded_by: str | None = None,
) -> BatchChange:
    """Take a batch's rows out of silver and quarantine (bronze keeps them); idempotent.

    ``key`` is the primary key of a strategic dataset; ``superseded_by`` makes it a supersede.
    """
    _require_by(by, ds.name, batch_id)
    with dataset_lock(paths.locks, ds.name):
        record = find(paths, ds.name, batch_id)
        end = closed(paths, ds.name).get(record.batch_id)
        if superseded_by is not None and superseded_by == record.batch_id:
            raise BatchStateError(
                "a batch cannot supersede itself", dataset=ds.name, batch=record.batch_id
            )
        excluded = set(closed(paths, ds.name)) | {record.batch_id}
        change = _remove(paths, ds, record.batch_id, key, excluded)
        change.by, change.reason, change.file = by, reason, record.source_file
        if end is not None:  # closed before: this run only finished an interrupted removal
            change.state, change.already = end["event"], True
            change.superseded_by = end["superseded_by"]
            return change
        change.state = "superseded" if superseded_by else "retracted"
        change.superseded_by = superseded_by
        _record(
            paths,
            {
                **{k: v for k, v in asdict(change).items() if k in EVENT_SCHEMA.names},
                "event": change.state,
                "at": datetime.now(UTC),
            },
        )
        return change


def abandon(
    paths: Paths, ds: DatasetConfig, batch_id: str, by: str, reason: str | None
) -> BatchChange:
    """Never refine this (failed or pending) batch; bronze keeps it, refine skips it for good."""
    _require_by(by, ds.name, batch_id)
    with dataset_lock(paths.locks, ds.name):
        record = find(paths, ds.name, batch_id)
        change = BatchChange(
            ds.name, record.batch_id, "abandoned", by, reason, file=record.source_file
        )
        end = closed(paths, ds.name).get(record.batch_id)
        if end is not None:
            change.state, change.already = end["event"], True
            return change
        if record.batch_id in ledger.refined(paths.refined_ledger, ds.name):
            raise BatchStateError(
                f"batch {record.batch_id} is refined (its rows are in silver and quarantine): "
                f"take them out with `aiready batch retract {ds.name} {record.batch_id} --by NAME`",
                dataset=ds.name,
                batch=record.batch_id,
            )
        _record(
            paths,
            {
                "dataset": ds.name,
                "batch_id": record.batch_id,
                "event": "abandoned",
                "by": by,
                "reason": reason,
                "at": datetime.now(UTC),
            },
        )
        return change


def _require_by(by: str, dataset: str, batch_id: str) -> None:
    if not by or not by.strip():
        raise BatchStateError(
            "say who decides this (--by NAME): it is audited", dataset=dataset, batch=batch_id
        )


def _remove(
    paths: Paths, ds: DatasetConfig, batch_id: str, key: tuple[str, ...], excluded: set[str]
) -> BatchChange:
    """Delete the batch's quarantine rows, then its silver rows (restoring keys if strategic)."""
    where = f"_batch_id = {lit(batch_id)}"
    meta = {"aiready.retract": batch_id}
    change = BatchChange(ds.name, batch_id, "retracted", "")
    change.rows_quarantine_removed = delta.delete_where(
        paths.table("quarantine", ds.name), where, meta
    )
    silver_path = paths.table("silver", ds.name)
    if ds.kind != "strategic":
        change.rows_silver_removed = delta.delete_where(silver_path, where, meta)
        return change
    if not key:
        raise BatchStateError(
            "retracting strategic data needs the contract's primaryKey",
            dataset=ds.name,
            batch=batch_id,
        )
    current = delta.read(silver_path)
    if current is None:
        return change
    current = _plain(current)
    held = current.filter(pc.equal(current.column("_batch_id"), batch_id))
    if held.num_rows == 0:
        return change
    previous = _previous(paths, ds.name, held.select(list(key)), key, excluded, current.schema)
    source = _restore_source(held, previous, key, current.schema)
    restored = int(pc.sum(source.column(_FLAG)).as_py() or 0)
    delta.restore_by_key(
        silver_path, source, list(key), f"t._batch_id = {lit(batch_id)}", _FLAG, meta
    )
    change.rows_silver_removed = held.num_rows
    change.rows_restored = restored
    gone = source.filter(pc.invert(source.column(_FLAG))).select(list(key)).slice(0, 100)
    change.removed_keys = gone.to_pylist()
    return change


def _plain(table: pa.Table) -> pa.Table:
    """Text columns as ``string`` (Delta reads of MERGE output may say string_view)."""
    fields = [
        pa.field(f.name, pa.string()) if f.type in (pa.large_string(), pa.string_view()) else f
        for f in table.schema
    ]
    return table.cast(pa.schema(fields))


def _previous(
    paths: Paths,
    dataset: str,
    keys: pa.Table,
    key: tuple[str, ...],
    excluded: set[str],
    schema: pa.Schema,
) -> pa.Table:
    """Per key, the newest row ever in silver from a batch not in ``excluded``.

    Silver versions that wrote rows: each refined batch's version, and every replay.
    """
    silver_path = paths.table("silver", dataset)
    versions = {
        int(r["silver_version"])
        for b, r in ledger.refined(paths.refined_ledger, dataset).items()
        if b not in excluded and r["silver_version"] is not None
    }
    versions |= {int(e["version"]) for e in delta.history(silver_path) if "aiready.replay" in e}
    parts = []
    banned = pa.array(sorted(excluded), pa.string())
    for version in sorted(versions):
        try:
            dt = delta.table(silver_path, version)
            table = None if dt is None else dt.to_pyarrow_dataset().to_table()
        except Exception as exc:  # deltalake raises several types for a vacuumed version
            raise StorageError(
                f"silver version {version} is needed to restore keys but cannot be read "
                f"(vacuumed?): {exc}",
                dataset=dataset,
            ) from exc
        if table is None:
            continue
        table = _align(_plain(table), schema)
        table = table.filter(pc.invert(pc.is_in(table.column("_batch_id"), banned)))
        parts.append(table.join(keys, list(key), join_type="left semi"))
    if not parts:
        return schema.empty_table()
    rows = pa.concat_tables(parts)
    order = [
        *((k, "ascending") for k in key),
        ("_batch_id", "descending"),
        ("_source_row", "descending"),
    ]
    rows = rows.sort_by(order)
    rows = rows.append_column("__i", pa.array(range(rows.num_rows), pa.int64()))
    first = rows.group_by(list(key)).aggregate([("__i", "min")]).column("__i_min")
    return rows.take(first).drop_columns(["__i"])


def _align(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """``table`` with exactly ``schema``'s columns (a column added later is null in old rows)."""
    cols = [
        table.column(f.name).cast(f.type)
        if f.name in table.column_names
        else pa.nulls(table.num_rows, f.type)
        for f in schema
    ]
    return pa.Table.from_arrays(cols, schema=schema)


def _restore_source(
    held: pa.Table, previous: pa.Table, key: tuple[str, ...], schema: pa.Schema
) -> pa.Table:
    """One row per held key: the previous row with the flag set, or the key alone (delete)."""
    marked = previous.append_column(_FLAG, pa.array([True] * previous.num_rows, pa.bool_()))
    joined = held.select(list(key)).join(marked, list(key), join_type="left outer")
    flag = pc.fill_null(joined.column(_FLAG), False)
    return _align(joined, schema).append_column(_FLAG, flag)


# -- a file seen before with other content --------------------------------------------------------
class ChangedFiles:
    """What a source file name that is already in bronze, with other content, may do.

    ``on_changed_file``: ``refuse`` (default) fails that file with what to run; ``supersede``
    ingests it and names the earlier open batches of that name to retract; ``append`` adds it.
    """

    def __init__(self, paths: Paths, ds: DatasetConfig, records: list[ledger.BatchRecord]) -> None:
        self.ds = ds
        ended = closed(paths, ds.name)
        self.open = [r for r in records if r.batch_id not in ended]
        self.by_sha = {r.source_sha256: r for r in records}

    def check(self, rel: str, path: Path) -> list[str]:
        """Earlier batches this file supersedes; raises SourceError when it is refused."""
        earlier = [r for r in self.open if r.source_file == rel]
        policy = self.ds.on_changed_file
        if not earlier or policy == "append" or not path.is_file():
            return []
        sha = hashlib.sha256(path.read_bytes()).hexdigest()
        other = [r for r in earlier if r.source_sha256 != sha]
        seen = self.by_sha.get(sha)
        if not other:
            return []
        if seen is not None:  # this content is in bronze already: a rerun after a crash
            newer = [r.batch_id for r in other if r.batch_id < seen.batch_id]
            return newer if policy == "supersede" else []
        if policy == "refuse":
            last = other[-1]
            raise SourceError(
                f"{rel} changed since it was ingested as batch {last.batch_id} "
                f"(sha256 {last.source_sha256[:12]}… → {sha[:12]}…); refused so its rows are "
                f"not added twice: run `aiready ingest {self.ds.name} --supersede` to replace "
                "that batch with this file, or set `on_changed_file: supersede` (or `append`) "
                f"for {self.ds.name} in aiready.yaml",
                dataset=self.ds.name,
                file=rel,
                batch=last.batch_id,
            )
        return [r.batch_id for r in other]
