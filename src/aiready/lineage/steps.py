"""What each step read and wrote, as lineage ``DatasetRef``s (built from the step's result)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa

from aiready.config.paths import Paths
from aiready.contracts import CompiledContract
from aiready.gates.report import GateReport
from aiready.layers.results import IngestResult, RefineResult
from aiready.lineage.columns import Schema, column_lineage
from aiready.lineage.refs import FILE_NAMESPACE, DatasetRef
from aiready.storage import delta

REPLAY_BATCH = "replay"
"""The batch id a quarantine replay's gate report carries."""


def table_fields(path: Path) -> list[tuple[str, str]]:
    """A Delta table's columns and Arrow types (metadata only)."""
    dt = delta.table(path)
    if dt is None:
        return []
    schema = pa.schema(dt.schema().to_arrow())
    return [(f.name, str(f.type)) for f in schema]


def _contract_fields(contract: CompiledContract) -> list[tuple[str, str]]:
    return [(c.name, c.sql_type) for c in contract.columns]


def ingest(
    paths: Paths, root: Path, result: IngestResult
) -> tuple[list[DatasetRef], list[DatasetRef]]:
    done = [f for f in result.files if f.status == "ingested"]
    inputs = [
        DatasetRef(
            name=str((root / f.file).resolve()),
            namespace=FILE_NAMESPACE,
            version=f.sha256,
            fields=[(c, "string") for c in f.columns],
            rows=f.rows,
        )
        for f in done
    ]
    batches = [
        {
            "batch_id": f.batch_id,
            "file": str((root / f.file).resolve()),
            "sha256": f.sha256,
            "rows": f.rows,
        }
        for f in done
    ]
    outputs = []
    if done:
        bronze = paths.table("bronze", result.dataset)
        outputs.append(
            DatasetRef(
                name=f"bronze.{result.dataset}",
                version=result.bronze_version,
                fields=table_fields(bronze),
                rows=result.rows,
                batches=batches,
            )
        )
    return inputs, outputs


def _assertions(reports: list[GateReport]) -> list[dict[str, Any]]:
    failed: dict[str, int] = {}
    first: dict[str, Any] = {}
    for report in reports:
        for rule in report.rules:
            failed[rule.rule] = failed.get(rule.rule, 0) + rule.failed
            first.setdefault(rule.rule, rule)
    return [
        {
            "assertion": rule_id,
            "success": failed[rule_id] == 0,
            "column": first[rule_id].columns[0] if len(first[rule_id].columns) == 1 else None,
            "severity": "warning" if first[rule_id].action == "warn" else "error",
            "actual": str(failed[rule_id]),
            "expected": "0",
        }
        for rule_id in sorted(failed)
    ]


def refine(
    contract: CompiledContract,
    bronze_version: int | None,
    replay_from: int | None,
    result: RefineResult,
) -> tuple[list[DatasetRef], list[DatasetRef]]:
    """Bronze batches (and a replay's quarantine version) → silver + quarantine."""
    done = [r for r in result.reports if r.passed]
    if not done:
        return [], []
    name = result.dataset
    totals = result.totals()
    batches = [r for r in done if r.batch_id != REPLAY_BATCH]
    inputs = []
    if batches:
        inputs.append(
            DatasetRef(
                name=f"bronze.{name}",
                version=bronze_version,
                rows=sum(r.rows_in for r in batches),
                batches=[{"batch_id": r.batch_id} for r in batches],
                assertions=_assertions(batches),
            )
        )
    replays = [r for r in done if r.batch_id == REPLAY_BATCH]
    if replays and replay_from is not None:
        inputs.append(
            DatasetRef(
                name=f"quarantine.{name}",
                version=replay_from,
                rows=sum(r.rows_in for r in replays),
                assertions=_assertions(replays),
            )
        )
    outputs = []
    released = result.replay.released if result.replay else 0
    if totals["rows_out"] or released:  # a batch whose rows all failed wrote no silver version
        outputs.append(
            DatasetRef(
                name=f"silver.{name}",
                version=result.silver_version,
                fields=_contract_fields(contract),
                rows=totals["rows_out"],
            )
        )
    if totals["rows_quarantined"] or replays:
        outputs.append(
            DatasetRef(
                name=f"quarantine.{name}",
                version=result.quarantine_version,
                rows=totals["rows_quarantined"],
            )
        )
    return inputs, outputs


def publish(
    paths: Paths,
    model: str,
    sql: str,
    contract: CompiledContract,
    inputs: dict[str, int],
    gold_version: int | None,
    rows: int,
) -> tuple[list[DatasetRef], list[DatasetRef]]:
    refs = []
    schema: Schema = {}
    for table, version in sorted(inputs.items()):
        layer, name = table.split(".", 1)
        fields = table_fields(paths.table(layer, name))  # type: ignore[arg-type]
        schema.setdefault(layer, {})[name] = {n: "TEXT" for n, _ in fields}
        refs.append(DatasetRef(name=table, version=version, fields=fields))
    if gold_version is None:
        return refs, []
    columns = [c.name for c in contract.columns]
    out = DatasetRef(
        name=f"gold.{model}",
        version=gold_version,
        fields=_contract_fields(contract),
        rows=rows,
        overwrite=True,
        columns=column_lineage(sql, columns, schema),
    )
    return refs, [out]
