"""Silver: validated, typed, standardised. Each bronze batch is refined exactly once.

Per batch, under the dataset lock: the gate splits rows into silver and quarantine; quarantine is
written as a replace of that batch's rows, then silver (replace of the batch for operational data,
MERGE by key for strategic data), then the refined ledger entry. A crash before the ledger entry
makes the rerun redo the batch, replacing its own partial output: nothing is counted twice.
A batch whose gate fails writes nothing and stays pending.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from aiready.config.models import DatasetConfig
from aiready.config.paths import Paths
from aiready.contracts import CompiledContract
from aiready.engines import GateEngine, get_engine
from aiready.engines.duckdb.gate import META_COLUMNS, GateOutcome, Mode
from aiready.engines.duckdb.sql import lit
from aiready.errors import ContractError, StorageError
from aiready.gates.report import GateReport
from aiready.gates.schema import enforce_strict
from aiready.layers import batches, evolve, ledger
from aiready.layers.results import RefineResult, ReplayResult
from aiready.storage import dataset_lock, delta

Progress = Callable[[str], None]
QUARANTINE_KEYS = ["_batch_id", "_source_row"]


def require_strategic(contract: CompiledContract, ds: DatasetConfig) -> None:
    """Strategic (master/reference) data merges by key and must have an accountable owner."""
    if ds.kind != "strategic":
        return
    if not contract.primary_key:
        raise ContractError(
            "a strategic dataset needs a primaryKey in its contract",
            dataset=ds.name,
            file=contract.path,
        )
    if not contract.owners:
        raise ContractError(
            "a strategic dataset needs a team member with role owner",
            dataset=ds.name,
            file=contract.path,
            path="team",
        )


def refine(
    paths: Paths,
    ds: DatasetConfig,
    contract: CompiledContract,
    progress: Progress | None = None,
    engine: GateEngine | None = None,
) -> RefineResult:
    """Refine every pending bronze batch of ``ds`` into silver and quarantine."""
    require_strategic(contract, ds)
    result = RefineResult(ds.name)
    gate = engine or get_engine()
    mode: Mode = "merge" if ds.kind == "strategic" else "append"
    bronze_path = paths.table("bronze", ds.name)
    with dataset_lock(paths.locks, ds.name):
        done = ledger.refined(paths.refined_ledger, ds.name)
        closed = batches.closed(paths, ds.name)
        merged = sorted(set(done) - set(closed))  # batches whose rows silver holds now
        done.update(closed)  # retracted, superseded, abandoned: never
        pending = [
            b for b in ledger.ingested(paths.ingested_ledger, ds.name) if b.batch_id not in done
        ]
        for batch in pending:
            if progress:
                progress(batch.source_file)
            snap = delta.snapshot(bronze_path) if batch.rows else None
            rows = snap if snap is not None else _empty_batch()
            silver_now = delta.snapshot(paths.table("silver", ds.name))
            with gate.check(
                contract,
                rows,
                batch.batch_id,
                batch.columns,
                silver_now,
                mode,
                ds.name,
                batch.source_file,
                references(paths, contract),
            ) as outcome:
                result.reports.append(outcome.report)
                if ds.schema_mode == "strict":
                    enforce_strict(outcome.report, contract, batch.columns)
                if mode == "merge":
                    _refuse_out_of_order(outcome.report, ds, batch.batch_id, merged)
                if outcome.report.rows_in != batch.rows:
                    raise StorageError(
                        f"bronze holds {outcome.report.rows_in} rows of batch "
                        f"{batch.batch_id}, the ledger says {batch.rows}",
                        dataset=ds.name,
                        batch=batch.batch_id,
                    )
                if not outcome.report.passed:
                    result.pending.append(batch.batch_id)
                    continue
                result.schema_changes += _publish(
                    paths, ds, contract, batch.batch_id, outcome, mode
                )
                merged.append(batch.batch_id)
        result.silver_version = delta.version(paths.table("silver", ds.name))
        result.quarantine_version = delta.version(paths.table("quarantine", ds.name))
    return result


def _refuse_out_of_order(
    report: GateReport, ds: DatasetConfig, batch_id: str, merged: list[str]
) -> None:
    """A strategic batch older than one already merged would replace newer master data.

    Batch ids sort in ingest order; a batch retried after a newer one was merged (it failed its
    gate first) fails instead, with the two ways out: a rebuild merges every batch in bronze
    order, an abandon drops it.
    """
    newer = [b for b in merged if b > batch_id]
    if newer:
        report.failures.append(
            f"batch {batch_id} is older than batch {max(newer)}, already merged into silver: "
            f"merging it now would replace newer master data. Run `aiready refine {ds.name} "
            f"--rebuild` (every batch merged in bronze order) or `aiready batch abandon "
            f"{ds.name} {batch_id} --by NAME`"
        )


def references(paths: Paths, contract: CompiledContract) -> dict[str, delta.Snapshot | None]:
    """Current silver snapshots of the datasets the contract's relationships point at."""
    names = {r.params["dataset"] for r in contract.rules if r.kind == "relationship"}
    return {name: delta.snapshot(paths.table("silver", name)) for name in sorted(names)}


def _empty_batch() -> pa.Table:
    """A zero-row bronze batch (a header-only file wrote nothing to bronze)."""
    return pa.table(
        {
            "_batch_id": pa.array([], pa.string()),
            "_source_file": pa.array([], pa.string()),
            "_source_row": pa.array([], pa.int64()),
            "_ingested_at": pa.array([], pa.timestamp("us", tz="UTC")),
            "_record_hash": pa.array([], pa.string()),
            "_malformed": pa.array([], pa.string()),
            "_raw": pa.array([], pa.string()),
        }
    )


def _publish(
    paths: Paths,
    ds: DatasetConfig,
    contract: CompiledContract,
    batch_id: str,
    outcome: GateOutcome,
    mode: str,
) -> list[evolve.SchemaChange]:
    changes = evolve.evolve_silver(
        paths.table("silver", ds.name), outcome.silver().schema, contract, ds.name
    )
    where = f"_batch_id = {lit(batch_id)}"
    meta = {"aiready.batch_id": batch_id, "aiready.contract_sha256": contract.sha256}
    q_version = delta.replace_where(
        paths.table("quarantine", ds.name), outcome.quarantine(), where, meta
    )
    silver_path = paths.table("silver", ds.name)
    if mode == "merge":
        s_version = (
            delta.merge_by_key(
                silver_path, outcome.silver_table(), list(contract.primary_key), meta
            )
            if outcome.report.rows_out or not delta.exists(silver_path)
            else delta.version(silver_path)
        )
    else:
        s_version = delta.replace_where(silver_path, outcome.silver, where, meta)
    r = outcome.report
    ledger.record_refined(
        paths.refined_ledger,
        {
            "dataset": ds.name,
            "batch_id": batch_id,
            "contract_sha256": contract.sha256,
            "rows_in": r.rows_in,
            "rows_out": r.rows_out,
            "rows_quarantined": r.rows_quarantined,
            "rows_dropped": r.rows_dropped,
            "rows_warned": r.rows_warned,
            "silver_version": s_version,
            "quarantine_version": q_version,
            "refined_at": datetime.now(UTC),
        },
    )
    return changes


def replay_quarantine(
    paths: Paths, ds: DatasetConfig, contract: CompiledContract, engine: GateEngine | None = None
) -> tuple[ReplayResult, RefineResult]:
    """Re-check open quarantined rows; release those that now pass into silver."""
    require_strategic(contract, ds)
    result = ReplayResult()
    refine_result = RefineResult(ds.name)
    q_path = paths.table("quarantine", ds.name)
    silver_path = paths.table("silver", ds.name)
    with dataset_lock(paths.locks, ds.name):
        table = delta.read(q_path, filter=pc.field("_status") == "open")
        if table is None or table.num_rows == 0:
            return result, refine_result
        malformed = pc.is_valid(table.column("_raw"))
        result.not_replayable = int(pc.sum(malformed).as_py() or 0)
        candidates = table.filter(pc.invert(malformed))
        already = _already_in_silver(silver_path, candidates)
        now = datetime.now(UTC)
        if already.num_rows:
            _set_status(q_path, already, "released", "replay", now)
            result.released += already.num_rows
        todo = _exclude(candidates, already)
        result.checked = candidates.num_rows
        if todo.num_rows == 0:
            return result, refine_result
        mode: Mode = "merge" if ds.kind == "strategic" else "append"
        present = [c for c in todo.column_names if c not in META_COLUMNS]
        rows = todo.select(
            [
                *present,
                "_batch_id",
                "_source_file",
                "_source_row",
                "_ingested_at",
                "_record_hash",
                "_raw",
            ]
        ).append_column("_malformed", pa.nulls(todo.num_rows, pa.string()))
        with (engine or get_engine()).check(
            contract,
            rows,
            "replay",
            present,
            delta.snapshot(silver_path),
            mode,
            ds.name,
            "quarantine",
            references(paths, contract),
        ) as outcome:
            refine_result.reports.append(outcome.report)
            if not outcome.report.passed:
                return result, refine_result
            released = outcome.silver_table()
            still = outcome.quarantine()
        passing = released.num_rows
        if mode == "merge" and released.num_rows:
            released, stale = _split_superseded(silver_path, released, contract.primary_key)
            if stale.num_rows:
                _set_status(q_path, stale, "superseded", "replay", now)
            result.superseded = stale.num_rows
        if released.num_rows:
            refine_result.schema_changes += evolve.evolve_silver(
                silver_path, released.schema, contract, ds.name
            )
            meta = {"aiready.replay": now.isoformat(), "aiready.contract_sha256": contract.sha256}
            if mode == "merge":
                key = list(contract.primary_key)
                delta.merge_by_key(silver_path, released, key, meta, update_if=NEWER)
            else:
                delta.append(silver_path, released, meta)
            _set_status(q_path, released.select(QUARANTINE_KEYS), "released", "replay", now)
        if still.num_rows:
            delta.update_by_key(
                q_path, still.select([*QUARANTINE_KEYS, "_reasons"]), QUARANTINE_KEYS, ["_reasons"]
            )
        result.released += released.num_rows
        result.still_open = todo.num_rows - passing
        refine_result.silver_version = delta.version(silver_path)
        refine_result.quarantine_version = delta.version(q_path)
    return result, refine_result


KEY_SCHEMA = pa.schema([("_batch_id", pa.string()), ("_source_row", pa.int64())])
NEWER = (
    's."_batch_id" > t."_batch_id" OR '
    '(s."_batch_id" = t."_batch_id" AND s."_source_row" > t."_source_row")'
)
"""A merged row replaces silver's only if it comes later in bronze (batch ids sort by ingest)."""


def _split_superseded(
    silver_path: Any, released: pa.Table, key: tuple[str, ...]
) -> tuple[pa.Table, pa.Table]:
    """Released rows → (those newer than silver's row for their key, (batch, row) of the rest)."""
    silver = delta.read(silver_path, [*key, *QUARANTINE_KEYS])
    if silver is None or silver.num_rows == 0:
        return released, _keys(released).slice(0, 0)
    index = pa.array(range(released.num_rows), pa.int64())
    mine = _keys(released).append_column("__k", index)
    for k in key:
        mine = mine.append_column(k, released.column(k))
    theirs = _keys(silver).rename_columns(["__s_batch", "__s_row"])
    for k in key:
        theirs = theirs.append_column(k, silver.column(k).cast(released.schema.field(k).type))
    joined = mine.join(theirs, list(key), join_type="inner")
    batch, row = joined.column("_batch_id"), joined.column("_source_row")
    s_batch, s_row = joined.column("__s_batch"), joined.column("__s_row")
    not_newer = pc.or_(
        pc.less(batch, s_batch), pc.and_(pc.equal(batch, s_batch), pc.less_equal(row, s_row))
    )
    stale = pc.is_in(index, joined.filter(not_newer).column("__k"))
    return released.filter(pc.invert(stale)), _keys(released.filter(stale))


def _keys(table: pa.Table) -> pa.Table:
    """(batch, row) keys with one fixed schema (Delta reads may return string_view)."""
    return table.select(QUARANTINE_KEYS).cast(KEY_SCHEMA)


def _already_in_silver(silver_path: Any, candidates: pa.Table) -> pa.Table:
    silver = delta.read(silver_path, QUARANTINE_KEYS)
    keys = _keys(candidates)
    if silver is None or silver.num_rows == 0:
        return keys.slice(0, 0)
    return keys.join(_keys(silver), QUARANTINE_KEYS, join_type="left semi")


def _exclude(candidates: pa.Table, keys: pa.Table) -> pa.Table:
    if keys.num_rows == 0:
        return candidates
    index = candidates.schema.get_field_index("_batch_id")
    typed = candidates.set_column(index, "_batch_id", candidates.column(index).cast(pa.string()))
    return typed.join(keys, QUARANTINE_KEYS, join_type="left anti")


def _set_status(q_path: Any, keys: pa.Table, status: str, by: str, now: datetime) -> None:
    n = keys.num_rows
    update = (
        keys.select(QUARANTINE_KEYS)
        .append_column("_status", pa.array([status] * n, pa.string()))
        .append_column("_reviewed_by", pa.array([by] * n, pa.string()))
        .append_column("_reviewed_at", pa.array([now] * n, pa.timestamp("us", tz="UTC")))
    )
    delta.update_by_key(
        q_path, update, QUARANTINE_KEYS, ["_status", "_reviewed_by", "_reviewed_at"]
    )


def list_quarantine(
    paths: Paths, dataset: str, reason: str | None = None, status: str | None = "open"
) -> pa.Table:
    """Quarantined rows of ``dataset``, optionally by status and reason code."""
    table = delta.read(paths.table("quarantine", dataset))
    if table is None:
        return pa.table({})
    if status:
        table = table.filter(pc.field("_status") == status)
    if reason:
        mask = [any(r["code"] == reason for r in rs) for rs in table.column("_reasons").to_pylist()]
        table = table.filter(pa.array(mask, pa.bool_()))
    return table


def reject_quarantine(
    paths: Paths,
    dataset: str,
    by: str,
    reason: str | None = None,
    rows: list[tuple[str, int]] | None = None,
) -> int:
    """Reject open quarantined rows (by reason code or (batch, row)); returns the count."""
    with dataset_lock(paths.locks, dataset):
        table = list_quarantine(paths, dataset, reason, "open")
        if table.num_rows == 0:
            return 0
        keys = table.select(QUARANTINE_KEYS)
        if rows is not None:
            wanted = pa.table(
                {"_batch_id": [b for b, _ in rows], "_source_row": [r for _, r in rows]},
                schema=keys.schema,
            )
            keys = keys.join(wanted, QUARANTINE_KEYS, join_type="left semi")
        _set_status(paths.table("quarantine", dataset), keys, "rejected", by, datetime.now(UTC))
        return int(keys.num_rows)
