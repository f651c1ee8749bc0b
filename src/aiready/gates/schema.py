"""``schema: strict``: a file whose columns differ from the contract's fails its batch.

Lenient (the default) keeps unknown columns in bronze only and fills absent optional ones with
nulls, with a warning; strict makes both a batch failure, so a renamed column is caught at the
gate instead of arriving in silver as an empty one.
"""

from __future__ import annotations

from aiready.contracts import CompiledContract
from aiready.gates.report import GateReport
from aiready.reasons import ReasonCode


def enforce_strict(report: GateReport, contract: CompiledContract, present: list[str]) -> None:
    """Turn column differences into failures of ``report`` (names every column concerned)."""
    unknown = [c for c in present if c not in {col.name for col in contract.columns}]
    required = {c for r in contract.rules if r.kind == "not_null" for c in r.columns}
    optional = [c.name for c in contract.columns if c.name not in set(present) | required]
    code = ReasonCode.MISSING_COLUMN.value
    if unknown:
        report.failures.append(
            f"{code}: schema is strict and {report.source_file} has columns the contract "
            f"does not declare: {unknown}"
        )
    if optional:  # an absent required column already fails the batch
        report.failures.append(
            f"{code}: schema is strict and {report.source_file} lacks the optional contract "
            f"columns {optional}"
        )
