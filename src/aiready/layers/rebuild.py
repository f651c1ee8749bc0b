"""Rebuild: re-derive silver and quarantine of a dataset from bronze under the current contract.

Bronze is immutable, so this is always possible. The rebuild runs the ordinary ``silver.refine``
over every ingested batch against *staging* tables (``.aiready/rebuild/<dataset>/``), so its
output is by construction what a fresh workspace with this contract would publish. Then a swap
publishes it: one overwrite commit of silver, one of quarantine, one replace of the dataset's
refined-ledger rows. A marker written before the swap and removed after it makes the swap a redo
log: a crash mid-swap is completed by the next ``refine`` (or ``--rebuild``) before anything else,
from the same staged tables, so the three commits never stay half done. Earlier versions stay in
Delta history for time travel.

Quarantine review: a row still quarantined at the same (batch, row) keeps a ``rejected`` decision
(status, reviewer, time); ``released``/``superseded`` rows that quarantine again are ``open``
(their row is not in silver any more); rows that now pass leave quarantine as they would in a
fresh workspace (history keeps them).
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from aiready.config.models import DatasetConfig
from aiready.config.paths import Layer, Paths
from aiready.contracts import CompiledContract
from aiready.engines import GateEngine
from aiready.engines.duckdb.sql import lit
from aiready.layers import ledger, silver
from aiready.layers.results import RefineResult
from aiready.storage import dataset_lock, delta

Progress = Callable[[str], None]
MARKER = "SWAP.json"
REVIEW = ["_status", "_reviewed_by", "_reviewed_at"]


@dataclass(frozen=True)
class StagingPaths(Paths):
    """The workspace's paths, except silver, quarantine, refined ledger and locks live in staging.

    Bronze and the ingested ledger are the live ones: the staging refine reads every batch.
    """

    staging: Path = Path()
    dataset: str = ""
    """The dataset being rebuilt; other datasets (relationship targets) are read live."""

    def table(self, layer: Layer, dataset: str) -> Path:
        if layer in ("silver", "quarantine") and dataset == self.dataset:
            return self.staging / layer / dataset
        return super().table(layer, dataset)

    @property
    def refined_ledger(self) -> Path:
        return self.staging / "_ledger" / "refined"

    @property
    def locks(self) -> Path:
        return self.staging / "locks"


def staging_dir(paths: Paths, dataset: str) -> Path:
    return paths.state / "rebuild" / dataset


def rebuild(
    paths: Paths,
    ds: DatasetConfig,
    contract: CompiledContract,
    progress: Progress | None = None,
    engine: GateEngine | None = None,
) -> RefineResult:
    """Re-derive silver + quarantine of ``ds`` from bronze; one new Delta version of each."""
    silver.require_strategic(contract, ds)
    with dataset_lock(paths.locks, ds.name):
        _finish(paths, ds.name)  # a crashed earlier swap first: staging is about to be reused
        stage = staging_dir(paths, ds.name)
        shutil.rmtree(stage, ignore_errors=True)
        result = silver.refine(
            StagingPaths(paths.root, stage, ds.name), ds, contract, progress, engine
        )
        _write_marker(stage, contract.sha256)
        _swap(paths, ds.name, stage)
    result.silver_version = delta.version(paths.table("silver", ds.name))
    result.quarantine_version = delta.version(paths.table("quarantine", ds.name))
    result.rebuilt = True
    return result


def finish(paths: Paths, dataset: str) -> bool:
    """Complete a rebuild whose swap was interrupted; True when there was one."""
    if not (staging_dir(paths, dataset) / MARKER).is_file():
        return False
    with dataset_lock(paths.locks, dataset):
        return _finish(paths, dataset)


def _finish(paths: Paths, dataset: str) -> bool:
    stage = staging_dir(paths, dataset)
    if not (stage / MARKER).is_file():
        return False
    _swap(paths, dataset, stage)
    return True


def _write_marker(stage: Path, sha256: str) -> None:
    """Atomically: the staged tables are complete and the swap may begin."""
    tmp = stage / (MARKER + ".tmp")
    tmp.write_text(json.dumps({"contract_sha256": sha256}))
    os.replace(tmp, stage / MARKER)


def _swap(paths: Paths, dataset: str, stage: Path) -> None:
    """Publish the staged tables; every step is an idempotent overwrite, so a redo is safe."""
    sha = json.loads((stage / MARKER).read_text())["contract_sha256"]
    meta = {"aiready.rebuild": sha, "aiready.contract_sha256": sha}
    _swap_silver(paths.table("silver", dataset), stage / "silver" / dataset, meta)
    _swap_quarantine(paths.table("quarantine", dataset), stage / "quarantine" / dataset, meta)
    _swap_ledger(paths, dataset, stage)
    (stage / MARKER).unlink()
    shutil.rmtree(stage, ignore_errors=True)


def _empty_like(path: Path) -> pa.Table | None:
    dt = delta.table(path)
    return None if dt is None else pa.schema(dt.schema().to_arrow()).empty_table()


def _swap_silver(live: Path, staged: Path, meta: dict[str, str]) -> None:
    ds = delta.dataset(staged)
    if ds is not None:
        delta.overwrite(live, lambda: ds.scanner().to_reader(), meta)
    elif (empty := _empty_like(live)) is not None:  # every batch now fails its gate
        delta.overwrite(live, empty, meta)


def _swap_quarantine(live: Path, staged: Path, meta: dict[str, str]) -> None:
    table = delta.read(staged)
    if table is None:
        table = _empty_like(live)
        if table is None:
            return
    delta.overwrite(live, _keep_rejections(table, delta.read(live)), meta)


def _keep_rejections(staged: pa.Table, live: pa.Table | None) -> pa.Table:
    """Carry a reviewer's ``rejected`` over to the same (batch, row) if still quarantined."""
    if live is None or staged.num_rows == 0:
        return staged
    rejected = live.filter(pc.field("_status") == "rejected")
    if rejected.num_rows == 0:
        return staged
    keys = silver.QUARANTINE_KEYS
    prior = rejected.select([*keys, *REVIEW]).cast(
        pa.schema([*silver.KEY_SCHEMA, *(staged.schema.field(c) for c in REVIEW)])
    )
    prior = prior.rename_columns([*keys, *(f"__old{c}" for c in REVIEW)])
    order = pa.array(range(staged.num_rows), pa.int64())
    mine = staged.select(keys).cast(silver.KEY_SCHEMA).append_column("__order", order)
    joined = mine.join(prior, keys, join_type="left outer").sort_by("__order")
    for c in REVIEW:
        merged = pc.coalesce(joined.column(f"__old{c}"), staged.column(c))
        staged = staged.set_column(staged.schema.get_field_index(c), c, merged)
    return staged


def _swap_ledger(paths: Paths, dataset: str, stage: Path) -> None:
    """The dataset's refined rows become the staged ones (a batch whose gate fails is pending)."""
    staged = delta.read(stage / "_ledger" / "refined")
    records = staged.to_pylist() if staged is not None else []
    s_version = delta.version(paths.table("silver", dataset))
    q_version = delta.version(paths.table("quarantine", dataset))
    for r in records:
        r["silver_version"], r["quarantine_version"] = s_version, q_version
    table = pa.Table.from_pylist(records, schema=ledger.REFINED_SCHEMA)
    delta.replace_where(paths.refined_ledger, table, f"dataset = {lit(dataset)}")
