"""Current quality figures of a dataset, from the tables as they are now.

The refined ledger says what each batch's gate decided at the time; releases from quarantine and
rejections change that afterwards. Catalog, ``context`` (the text given to LLMs), console, score
and ``status`` all read these figures, so none of them shows a pass rate a replay has overtaken.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from aiready.config.paths import Paths
from aiready.layers import batches, ledger
from aiready.storage import delta

STATUSES = ("open", "released", "rejected", "superseded")


def quarantine_by_status(paths: Paths, dataset: str) -> dict[str, int]:
    """Quarantined rows per review status (``open``, ``released``, ``rejected``, ``superseded``)."""
    counts = dict.fromkeys(STATUSES, 0)
    table = delta.read(paths.table("quarantine", dataset), ["_status"])
    if table is None or table.num_rows == 0:
        return counts
    for row in pc.value_counts(table.column("_status")).to_pylist():
        counts[str(row["values"])] = int(row["counts"])
    return counts


def quality(paths: Paths, dataset: str) -> dict[str, Any]:
    """Rows in, rows admitted to silver now (gate passes plus releases), and quarantine by status.

    ``pass_rate`` is ``rows_out / rows_in``: the share of refined rows that are in silver today.
    """
    gone = batches.closed(paths, dataset)  # retracted or superseded: no longer counted
    refined = [
        r
        for r in ledger.refined(paths.refined_ledger, dataset).values()
        if r["batch_id"] not in gone
    ]
    rows_in = sum(int(r["rows_in"]) for r in refined)
    passed = sum(int(r["rows_out"]) for r in refined)
    status = quarantine_by_status(paths, dataset)
    out = passed + status["released"]
    return {
        "batches": len(refined),
        "rows_in": rows_in,
        "rows_out": out,
        "rows_passed_gate": passed,
        "quarantine": status,
        "pass_rate": round(out / rows_in, 4) if rows_in else None,
    }


def quarantine_summary(table: pa.Table, examples: int = 3) -> list[dict[str, Any]]:
    """Quarantined rows grouped by failed rule: code, rule, column, rows, a few examples.

    A row that failed two rules counts under both; ``rows`` is per rule, so the groups can add
    up to more than the rows in quarantine.
    """
    if table.num_rows == 0:
        return []
    reasons = table.column("_reasons")
    flat = pc.list_flatten(reasons)
    parent = pc.list_parent_indices(reasons).to_pylist()
    batch = table.column("_batch_id").to_pylist()
    row = table.column("_source_row").to_pylist()
    groups: dict[tuple[str, str], dict[str, Any]] = {}
    for i, reason in enumerate(flat.to_pylist()):
        key = (str(reason["code"]), str(reason["rule"]))
        group = groups.setdefault(
            key,
            {"code": key[0], "rule": key[1], "column": reason["column"], "rows": 0, "examples": []},
        )
        group["rows"] += 1
        if len(group["examples"]) < examples:
            at = parent[i]
            group["examples"].append(
                {"row": f"{batch[at]}:{row[at]}", "message": reason["message"]}
            )
    return sorted(groups.values(), key=lambda g: (-g["rows"], g["rule"]))
