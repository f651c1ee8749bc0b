"""``aiready vacuum``: drop Delta files past retention, never what certified data needs.

Retention comes from the contract's ``slaProperties`` entry ``retention`` (default: keep
everything). Bronze is never rewritten, so vacuum only removes files that no version newer than
the retention window references. The window is stretched so that every certified gold version, and
the silver versions it was built from, stay readable by time travel.
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from aiready.certification import certify
from aiready.config.source import Configured
from aiready.contracts import sla as sla_units
from aiready.storage import delta


class VacuumSource(Configured, Protocol):
    """What ``vacuum`` reads: configuration, paths and each contract's retention SLA."""

    def load_contract_raw(self, relative: str) -> dict[str, Any]: ...


def retention_seconds(contract_raw: dict[str, Any]) -> float | None:
    for sla in contract_raw.get("slaProperties") or []:
        if str(sla.get("property", "")).lower() == "retention":
            return sla_units.seconds(sla)  # None (keep everything) if it is no usable limit
    return None


def _protected(ws: VacuumSource) -> dict[str, set[int]]:
    """table path → versions that certified gold (and its silver inputs) still need."""
    keep: dict[str, set[int]] = {}
    for model in ws.config.models:
        for row in certify.history(ws.paths, model):
            if not row["certified"]:
                continue
            keep.setdefault(str(ws.paths.table("gold", model)), set()).add(row["gold_version"])
            for name, info in json.loads(row["inputs"]).items():
                layer, table = name.split(".", 1)
                path = str(ws.paths.table(layer, table))
                keep.setdefault(path, set()).add(int(info["version"]))
    return keep


def _version_age(path: Path, version: int, now: datetime) -> float:
    for entry in delta.history(path):
        if entry.get("version") == version:
            return (now.timestamp() * 1000 - float(entry["timestamp"])) / 1000
    return 0.0


def vacuum(ws: VacuumSource, dry_run: bool = False) -> list[dict[str, Any]]:
    """Vacuum every table that has a retention SLA; returns what was (or would be) removed."""
    now = datetime.now(UTC)
    protected = _protected(ws)
    targets: list[tuple[Path, dict[str, Any]]] = []
    for name, ds in ws.config.datasets.items():
        raw = ws.load_contract_raw(ds.contract)
        for layer in ("bronze", "silver", "quarantine"):
            targets.append((ws.paths.table(layer, name), raw))
    for name, model in ws.config.models.items():
        targets.append((ws.paths.table("gold", name), ws.load_contract_raw(model.contract)))
    report = []
    for path, raw in targets:
        retention = retention_seconds(raw)
        dt = delta.table(path)
        if dt is None or retention is None:
            continue
        needed = protected.get(str(path), set())
        window = retention
        if needed:  # keep every file a protected version reads (plus an hour of margin)
            window = max(window, max(_version_age(path, v, now) for v in needed) + 3600)
        hours = math.ceil(window / 3600)
        removed = dt.vacuum(
            retention_hours=hours, dry_run=dry_run, enforce_retention_duration=False
        )
        report.append(
            {
                "table": str(path.relative_to(ws.root)),
                "retention_hours": hours,
                "protected_versions": sorted(needed),
                "files_removed": len(removed),
                "dry_run": dry_run,
            }
        )
    return report
