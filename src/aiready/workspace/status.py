"""``aiready status``: what is in each layer, what is waiting, who owns it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

from aiready.certification import certify
from aiready.config import DatasetConfig
from aiready.config.source import Configured
from aiready.errors import AireadyError
from aiready.layers import figures, ledger
from aiready.storage import delta

if TYPE_CHECKING:
    from aiready.contracts import CompiledContract
    from aiready.layers.batches import BatchInfo
    from aiready.tracking import Tracker


class StatusSource(Configured, Protocol):
    """What ``status`` reads: configuration, paths, contracts, batches and the tracker."""

    @property
    def tracker(self) -> Tracker: ...

    def dataset(self, name: str) -> DatasetConfig: ...

    def contract(self, name: str) -> CompiledContract: ...

    def model_contract(self, name: str) -> CompiledContract: ...

    def batches(self, dataset: str) -> list[BatchInfo]: ...


def dataset_status(ws: StatusSource, name: str) -> dict[str, Any]:
    """The status record of one dataset (keys documented in the README)."""
    ds = ws.dataset(name)
    p = ws.paths
    batches = ledger.ingested(p.ingested_ledger, name)
    refined = ledger.refined(p.refined_ledger, name)
    held = figures.quarantine_by_status(p, name)
    entry: dict[str, Any] = {
        "dataset": name,
        "kind": ds.kind,
        "rows": {
            "bronze": delta.count(p.table("bronze", name)),
            "silver": delta.count(p.table("silver", name)),
            "quarantine": delta.count(p.table("quarantine", name)),
        },
        "quarantine": held,
        "quarantine_open": held["open"],
        "versions": {
            layer: delta.version(p.table(layer, name))
            for layer in ("bronze", "silver", "quarantine")
        },
        "batches": _batches(ws, name),
        "last_ingested_at": max((b.ingested_at for b in batches), default=None),
        "last_refined_at": max((r["refined_at"] for r in refined.values()), default=None),
    }
    try:
        contract = ws.contract(name)
        entry.update(
            contract={"id": contract.id, "version": contract.version, "sha256": contract.sha256},
            owners=list(contract.owners),
        )
    except AireadyError as exc:
        entry.update(contract=None, owners=[], contract_error=exc.message)
    return entry


def _batches(ws: StatusSource, name: str) -> dict[str, Any]:
    """Batch counts by state; failed batches with what to do (``aiready batch list`` has all)."""
    infos = ws.batches(name)
    by_state: dict[str, int] = {}
    for b in infos:
        by_state[b.state] = by_state.get(b.state, 0) + 1
    return {
        "ingested": len(infos),
        "refined": by_state.get("refined", 0),
        "pending": [b.batch_id for b in infos if b.state in ("pending", "failed-gate")],
        "failed": [
            {"batch_id": b.batch_id, "file": b.file, "hint": b.hint}
            for b in infos
            if b.state == "failed-gate"
        ],
        "states": by_state,
    }


def model_status(ws: StatusSource, name: str) -> dict[str, Any]:
    """The status record of one gold model (keys documented in the README)."""
    path = ws.paths.table("gold", name)
    version = delta.version(path)
    cert = certify.latest(ws.paths, name, version) if version is not None else None
    try:
        certified_version: int | None = certify.certified_version(ws.paths, name)
    except AireadyError:
        certified_version = None
    fresh_until = cert["fresh_until"] if cert else None
    entry: dict[str, Any] = {
        "model": name,
        "strategic": ws.config.models[name].strategic,
        "rows": delta.count(path),
        "gold_version": version,
        "certified": bool(cert and cert["certified"]),
        "certified_version": certified_version,
        "stale": bool(fresh_until is not None and datetime.now(UTC) > fresh_until),
        "freshness_lag_s": cert["freshness_lag_s"] if cert else None,
        "certificate_reasons": list(cert["reasons"]) if cert else [],
        "last_certified_at": cert["evaluated_at"] if cert else None,
        "drift": _drift(ws, name, version),
    }
    try:
        contract = ws.model_contract(name)
        entry.update(
            contract={"id": contract.id, "version": contract.version, "sha256": contract.sha256},
            owners=list(contract.owners),
        )
    except AireadyError as exc:
        entry.update(contract=None, owners=[], contract_error=exc.message)
    return entry


def _drift(ws: StatusSource, name: str, version: int | None) -> dict[str, Any] | None:
    """The newest drift check of the current gold version: ``drifted`` marks it for its owner."""
    from aiready.drift import latest

    found = latest(ws.paths, name)
    if found is None or found["current_version"] != version:
        return None
    drifted = [c["column"] for c in found["columns"] if c["drifted"]]
    return {
        "drifted": found["drifted"],
        "share": found["share"],
        "columns": drifted,
        "against": found["reference"],
        "checked_at": found["checked_at"],
    }


def last_runs(ws: StatusSource) -> dict[str, dict[str, Any]]:
    """The newest MLflow run per dataset/model: {run_id, step, result, at} (one search)."""
    if not ws.paths.mlflow_db.is_file():
        return {}
    client = ws.tracker.client
    experiment = client.get_experiment_by_name(ws.config.name)
    if experiment is None:
        return {}
    out: dict[str, dict[str, Any]] = {}
    runs = client.search_runs(
        [experiment.experiment_id], order_by=["attributes.start_time DESC"], max_results=500
    )
    for run in runs:
        name = run.data.tags.get("aiready.dataset")
        if name and name not in out:
            out[name] = {
                "run_id": run.info.run_id,
                "step": run.data.tags.get("aiready.step"),
                "result": run.data.tags.get("aiready.result", run.info.status.lower()),
                "at": datetime.fromtimestamp(run.info.start_time / 1000, UTC),
            }
    return out


def workspace_status(ws: StatusSource) -> dict[str, Any]:
    runs = last_runs(ws)
    datasets = [dataset_status(ws, n) for n in ws.config.datasets]
    models = [model_status(ws, n) for n in ws.config.models]
    for entry in datasets:
        entry["last_run"] = runs.get(entry["dataset"])
    for entry in models:
        entry["last_run"] = runs.get(entry["model"])
    return {
        "workspace": ws.config.name,
        "root": str(ws.root),
        "datasets": datasets,
        "models": models,
    }
