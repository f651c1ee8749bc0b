"""Certificates: may an AI system consume this gold version, and if not, why not.

A gold version is certified only if its contract gate passed at publish time, the contract is
unchanged since, an owner is named, the data is fresh per the contract's ``latency`` SLA, every
PII-tagged column is classified, and every upstream gold input was certified. Each evaluation is
appended to ``.aiready/lake/_certificates``; a version goes stale when its SLA lapses.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.compute as pc

from aiready.contracts import CompiledContract
from aiready.contracts import sla as sla_units
from aiready.errors import NotFoundError
from aiready.layers import ledger
from aiready.storage import delta

if TYPE_CHECKING:  # a runtime import would load the whole workspace package first
    from aiready.config.paths import Paths

SCHEMA = pa.schema(
    [
        ("model", pa.string()),
        ("gold_version", pa.int64()),
        ("certified", pa.bool_()),
        ("reasons", pa.list_(pa.string())),
        ("evaluated_at", pa.timestamp("us", tz="UTC")),
        ("contract_id", pa.string()),
        ("contract_version", pa.string()),
        ("contract_sha256", pa.string()),
        ("gate_passed", pa.bool_()),
        ("gate", pa.string()),
        ("inputs", pa.string()),
        ("owners", pa.list_(pa.string())),
        ("freshness_lag_s", pa.float64()),
        ("fresh_until", pa.timestamp("us", tz="UTC")),
        ("classification_coverage", pa.float64()),
        ("corrections", pa.list_(pa.string())),
    ]
)


@dataclass
class Certificate:
    """One evaluation of one gold version."""

    model: str
    gold_version: int
    certified: bool
    reasons: list[str]
    evaluated_at: datetime
    contract_id: str
    contract_version: str
    contract_sha256: str
    gate_passed: bool
    gate: dict[str, Any] = field(default_factory=dict)
    inputs: dict[str, Any] = field(default_factory=dict)
    owners: list[str] = field(default_factory=list)
    freshness_lag_s: float | None = None
    fresh_until: datetime | None = None
    classification_coverage: float = 1.0
    corrections: list[str] = field(default_factory=list)
    """Feedback ids of reviewed corrections that first reach gold in this version."""
    not_executed: list[dict[str, Any]] = field(default_factory=list)
    """What the model's contract declares that aiready does not execute (path, item, reason)."""

    def asdict(self) -> dict[str, Any]:
        return asdict(self)

    def row(self) -> dict[str, Any]:
        data = self.asdict()
        gate = {**self.gate, "not_executed": data.pop("not_executed")}  # kept in the gate JSON
        data["gate"], data["inputs"] = json.dumps(gate), json.dumps(self.inputs)
        return data


def latency_sla(contract_raw: dict[str, Any]) -> tuple[str, float] | None:
    """(column, seconds) from the contract's ``slaProperties`` latency entry, if any."""
    for sla in contract_raw.get("slaProperties") or []:
        if str(sla.get("property", "")).lower() in ("latency", "freshness"):
            seconds = sla_units.seconds(sla)
            if seconds is None:
                continue  # not a usable limit: the contract's compile check names it
            element = str(sla.get("element", "")).split(",")[0].strip()
            return element.rsplit(".", 1)[-1], seconds
    return None


def classification_coverage(contract_raw: dict[str, Any]) -> tuple[float, list[str]]:
    """Share of PII-tagged columns that carry a classification, and the ones that do not."""
    tagged, missing = 0, []
    for obj in contract_raw.get("schema") or []:
        for prop in obj.get("properties") or []:
            tags = [str(t).lower() for t in prop.get("tags") or []]
            if any(t == "pii" or t.startswith("pii:") for t in tags):
                tagged += 1
                if not prop.get("classification"):
                    missing.append(str(prop.get("name")))
    return (1.0 if tagged == 0 else (tagged - len(missing)) / tagged), missing


def input_lineage(paths: Paths, inputs: dict[str, int]) -> dict[str, Any]:
    """silver versions ← bronze batches ← source files (sha256); gold inputs and their status."""
    out: dict[str, Any] = {}
    for name, version in inputs.items():
        layer, table = name.split(".", 1)
        if layer == "silver":
            refined = ledger.refined(paths.refined_ledger, table)
            files = {b.batch_id: b for b in ledger.ingested(paths.ingested_ledger, table)}
            batches = [
                {
                    "batch_id": bid,
                    "source_file": files[bid].source_file,
                    "sha256": files[bid].source_sha256,
                }
                for bid, r in sorted(refined.items())
                if r["silver_version"] is not None
                and r["silver_version"] <= version
                and bid in files
            ]
            out[name] = {"version": version, "batches": batches}
        else:
            cert = latest(paths, table, version)
            out[name] = {"version": version, "certified": bool(cert and cert["certified"])}
    return out


def evaluate(
    paths: Paths,
    model: str,
    version: int,
    contract: CompiledContract,
    contract_raw: dict[str, Any],
    gate: dict[str, Any],
    inputs: dict[str, int],
    now: datetime | None = None,
    policy_gaps: list[str] | None = None,
    as_of: datetime | None = None,
) -> Certificate:
    """Decide whether gold ``model`` at ``version`` may be consumed, with every reason if not.

    ``policy_gaps``: why the access policies do not protect this model as they protect its
    inputs (a row-filtered input without a filter or waiver of its own). ``as_of``: the
    declared time of historic data; freshness is measured then, and the version never goes stale.
    """
    now = now or datetime.now(UTC)
    reasons: list[str] = list(policy_gaps or [])
    gate_passed = bool(gate.get("passed"))
    if not gate_passed:
        reasons.append("contract gate did not pass at publish")
    if gate.get("contract_sha256") not in (None, contract.sha256):
        reasons.append("contract changed since this version was published: publish again")
    if not contract.owners:
        reasons.append("no owner: the contract's team has no member with role owner")
    coverage, unclassified = classification_coverage(contract_raw)
    if unclassified:
        reasons.append(f"PII columns without classification: {', '.join(unclassified)}")
    lineage = input_lineage(paths, inputs)
    for name, info in lineage.items():
        if name.startswith("gold.") and not info["certified"]:
            reasons.append(f"input {name}@v{info['version']} is not certified")
    for finding in _unclassified_pii(paths, model, version, contract_raw):
        reasons.append(
            f"column {finding.column} holds PII ({finding.kind}, "
            f"{finding.share:.0%} of sampled values) but is not classified"
        )
    lag, fresh_until = _freshness(paths, model, version, contract_raw, as_of or now, reasons)
    if as_of is not None:
        fresh_until = None  # a declared as-of time does not pass
    return Certificate(
        model,
        version,
        not reasons,
        reasons,
        now,
        contract.id,
        contract.version,
        contract.sha256,
        gate_passed,
        gate,
        lineage,
        list(contract.owners),
        lag,
        fresh_until,
        coverage,
        not_executed=[i.asdict() for i in contract.not_executed],
    )


def _unclassified_pii(
    paths: Paths, model: str, version: int, contract_raw: dict[str, Any]
) -> list[Any]:
    """PII the scanner finds in a sample of this gold version that the contract does not declare."""
    from aiready.catalog.pii import sample, scan_table

    dt = delta.table(paths.table("gold", model), version)
    if dt is None:
        return []
    rows = sample(dt.to_pyarrow_dataset())
    return [f for f in scan_table(model, rows, contract_raw) if not f.classified]


def _freshness(
    paths: Paths,
    model: str,
    version: int,
    contract_raw: dict[str, Any],
    now: datetime,
    reasons: list[str],
) -> tuple[float | None, datetime | None]:
    sla = latency_sla(contract_raw)
    if sla is None:
        return None, None
    column, seconds = sla
    dt = delta.table(paths.table("gold", model), version)
    if dt is None or column not in pa.schema(dt.schema().to_arrow()).names:
        reasons.append(f"latency SLA names column {column!r}, which gold {model} lacks")
        return None, None
    newest = pc.max(dt.to_pyarrow_dataset().to_table(columns=[column]).column(0)).as_py()
    if newest is None:
        reasons.append(f"no value in {column!r} to measure freshness")
        return None, None
    if not isinstance(newest, datetime):
        newest = datetime(newest.year, newest.month, newest.day, tzinfo=UTC)
    newest = newest if newest.tzinfo else newest.replace(tzinfo=UTC)
    fresh_until = newest + timedelta(seconds=seconds)
    lag = (now - newest).total_seconds()
    if now > fresh_until:
        reasons.append(
            f"stale: newest {column} is {describe_lag(lag)} old, the SLA allows "
            f"{describe_lag(seconds)}"
        )
    return lag, fresh_until


def describe_lag(seconds: float | None) -> str:
    """``93784`` → ``1 d 2 h``: a freshness lag a person reads at a glance (two units at most)."""
    if seconds is None:
        return "-"
    left = int(round(abs(seconds)))
    parts: list[str] = []
    for unit, size in (("y", 365 * 86400), ("d", 86400), ("h", 3600), ("min", 60), ("s", 1)):
        if left >= size or (unit == "s" and not parts):
            parts.append(f"{left // size} {unit}")
            left %= size
        if len(parts) == 2:
            break
    return ("-" if seconds < 0 else "") + " ".join(parts)


def record(paths: Paths, cert: Certificate) -> None:
    delta.append(paths.certificates, pa.Table.from_pylist([cert.row()], schema=SCHEMA))


def history(paths: Paths, model: str) -> list[dict[str, Any]]:
    """Every certificate of ``model``, oldest first (re-read only when the table changed)."""
    rows = _all(paths.certificates, _log_head(paths.certificates))
    return [dict(r) for r in rows if r["model"] == model]


def _log_head(path: Path) -> str:
    """The newest commit file of a Delta table: a cheap cache key for its current version."""
    log = path / "_delta_log"
    if not log.is_dir():
        return ""
    return max((e.name for e in os.scandir(log) if e.name.endswith(".json")), default="")


@lru_cache(maxsize=16)
def _all(path: Path, head: str) -> tuple[dict[str, Any], ...]:
    table = delta.read(path)
    rows = [] if table is None else table.to_pylist()
    return tuple(sorted(rows, key=lambda r: r["evaluated_at"]))


def first(paths: Paths, model: str, version: int) -> dict[str, Any] | None:
    """The publish-time certificate of ``model`` at ``version`` (it holds the gate result)."""
    rows = [r for r in history(paths, model) if r["gold_version"] == version]
    return rows[0] if rows else None


def latest(paths: Paths, model: str, version: int | None = None) -> dict[str, Any] | None:
    """The most recent certificate of ``model`` (at ``version`` if given)."""
    rows = [r for r in history(paths, model) if version is None or r["gold_version"] == version]
    return rows[-1] if rows else None


def certified_version(paths: Paths, model: str, now: datetime | None = None) -> int:
    """The newest gold version whose latest certificate is certified and still fresh."""
    now = now or datetime.now(UTC)
    by_version: dict[int, dict[str, Any]] = {}
    for row in history(paths, model):
        by_version[row["gold_version"]] = row
    for version in sorted(by_version, reverse=True):
        row = by_version[version]
        if row["certified"] and (row["fresh_until"] is None or now <= row["fresh_until"]):
            return version
    raise NotFoundError(f"gold {model} has no certified, fresh version", model=model)
