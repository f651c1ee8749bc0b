"""Drift checks of gold versions and silver batches, recorded in ``.aiready/lake/_drift``.

A gold model's newest version is compared with its certified version (or, when the newest is the
certified one, with the certified version before it). A silver dataset's newest batch is compared
with every earlier row. A drifted gold version is shown as such by ``aiready status`` and in the
certificate view; it stays servable (drift is a warning to its owner, not a failed gate).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from aiready import templating
from aiready.certification import certify as certs
from aiready.config.paths import Paths
from aiready.drift.stats import ColumnDrift, DriftReport, compare
from aiready.errors import NotFoundError
from aiready.storage import delta

SCHEMA = pa.schema(
    [
        ("target", pa.string()),
        ("layer", pa.string()),
        ("reference", pa.string()),
        ("current", pa.string()),
        ("current_version", pa.int64()),
        ("share", pa.float64()),
        ("drifted", pa.bool_()),
        ("columns", pa.string()),
        ("checked_at", pa.timestamp("us", tz="UTC")),
    ]
)


@dataclass
class DriftResult:
    target: str
    layer: str
    reference: str
    """What was compared against: ``v3`` or ``batches before <id>``."""
    current: str
    current_version: int | None
    report: DriftReport

    def asdict(self) -> dict[str, Any]:
        data = asdict(self)
        data["report"] = self.report.asdict()
        return data


def table_path(paths: Paths) -> Path:
    return paths.lake / "_drift"


def _gold(paths: Paths, model: str) -> DriftResult:
    latest = delta.version(paths.table("gold", model))
    if latest is None:
        raise NotFoundError(f"gold {model} has no version yet", model=model)
    certified = sorted({r["gold_version"] for r in certs.history(paths, model) if r["certified"]})
    older = [v for v in certified if v < latest]
    if not older:
        raise NotFoundError(
            f"gold {model} has no earlier certified version to compare v{latest} with",
            model=model,
        )
    reference = older[-1]
    ref_table = delta.table(paths.table("gold", model), reference)
    cur_table = delta.table(paths.table("gold", model), latest)
    assert ref_table is not None and cur_table is not None
    report = compare(ref_table.to_pyarrow_table(), cur_table.to_pyarrow_table())
    return DriftResult(model, "gold", f"v{reference}", f"v{latest}", latest, report)


def _silver(paths: Paths, dataset: str) -> DriftResult:
    table = delta.read(paths.table("silver", dataset))
    if table is None or table.num_rows == 0:
        raise NotFoundError(f"silver {dataset} has no rows yet", dataset=dataset)
    batches = sorted(set(table.column("_batch_id").to_pylist()))
    if len(batches) < 2:
        raise NotFoundError(
            f"silver {dataset} has one batch: nothing earlier to compare it with", dataset=dataset
        )
    newest = batches[-1]
    is_new = pc.equal(table.column("_batch_id"), newest)
    report = compare(table.filter(pc.invert(is_new)), table.filter(is_new))
    version = delta.version(paths.table("silver", dataset))
    return DriftResult(
        dataset, "silver", f"batches before {newest}", f"batch {newest}", version, report
    )


def check(paths: Paths, target: str, is_model: bool) -> DriftResult:
    """Compare, record the result in ``_drift``, and return it."""
    result = _gold(paths, target) if is_model else _silver(paths, target)
    row = {
        "target": result.target,
        "layer": result.layer,
        "reference": result.reference,
        "current": result.current,
        "current_version": result.current_version,
        "share": result.report.share,
        "drifted": result.report.drifted,
        "columns": json.dumps([asdict(c) for c in result.report.columns]),
        "checked_at": datetime.now(UTC),
    }
    delta.append(table_path(paths), pa.Table.from_pylist([row], schema=SCHEMA))
    return result


def latest(paths: Paths, target: str) -> dict[str, Any] | None:
    """The newest drift check of ``target`` (None if never checked)."""
    table = delta.read(table_path(paths), filter=pc.field("target") == target)
    if table is None or table.num_rows == 0:
        return None
    row: dict[str, Any] = max(table.to_pylist(), key=lambda r: r["checked_at"])
    row["columns"] = json.loads(row["columns"])
    return row


def _bar_width(c: ColumnDrift) -> float:
    """The bar's width in percent: 50 is the threshold, a drifted column is past it."""
    if c.method in ("wasserstein", "jensenshannon"):
        scale = c.value / c.threshold
    else:
        scale = c.threshold / max(c.value, 1e-12)
    return min(100.0, 50.0 * scale)


def render(result: DriftResult) -> str:
    """A self-contained HTML page: one bar per column, scaled to its threshold."""
    columns = [(c, _bar_width(c)) for c in result.report.columns]
    return templating.render("aiready.drift", "drift_report.html", result=result, columns=columns)
