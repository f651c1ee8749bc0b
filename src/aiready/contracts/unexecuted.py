"""What a contract declares that aiready accepts but does not execute, each with a reason.

Nothing is ignored silently: a quality item aiready cannot run (``type: custom``, an ``engine``
of another tool, an unknown library metric), a ``type: text`` item (documentation in ODCS), and
declared options aiready does not enforce are recorded with their YAML path. ``strict`` turns
every item that is not documentation into a ContractError.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

from aiready.errors import ContractError

# logicalTypeOptions keys the gate enforces (rules.py); every other declared key is reported.
ENFORCED_TYPE_OPTIONS = frozenset(
    {
        "minimum",
        "maximum",
        "exclusiveMinimum",
        "exclusiveMaximum",
        "minLength",
        "maxLength",
        "pattern",
    }
)
# slaProperties aiready acts on: latency/freshness (refine warns, certificates), retention (vacuum).
ENFORCED_SLA = frozenset({"latency", "freshness", "retention"})
# v3.0.x library rules (``rule:``) read as today's metrics; other v3.0 names are not executed.
V30_RULES = {"nullCheck": "nullValues", "duplicateCount": "duplicateValues", "rowCount": "rowCount"}
LIBRARY_METRICS = frozenset(
    {"nullValues", "missingValues", "invalidValues", "duplicateValues", "rowCount"}
)


@dataclass(frozen=True)
class NotExecuted:
    """A declared item aiready does not execute: where, what, why."""

    path: str
    """YAML path in the contract (``schema[0].properties[1].quality[0]``)."""
    item: str
    """What was declared (``quality type custom (engine soda)``)."""
    reason: str
    documentation: bool = False
    """True for ``type: text``: ODCS documentation, nothing to execute (strict accepts it)."""

    def asdict(self) -> dict[str, Any]:
        return asdict(self)

    def describe(self) -> str:
        return f"{self.path}: {self.item} — {self.reason}"


def metric_of(item: dict[str, Any]) -> Any:
    """The library metric of an item: ``metric``, or a v3.0.x ``rule`` read as today's name."""
    rule = item.get("rule")
    return item.get("metric") or (V30_RULES.get(rule, rule) if isinstance(rule, str) else rule)


def quality_item(item: dict[str, Any], where: str) -> NotExecuted | None:
    """The record for a quality item aiready will not run, or None if it runs."""
    kind = item.get("type", "library")
    label = item.get("id") or item.get("name")
    named = f" {label!r}" if label else ""
    if kind == "text":
        return NotExecuted(where, f"text item{named}", "documentation only in ODCS", True)
    engine = item.get("engine")
    if kind == "custom" or (engine and kind not in ("library", "sql")):
        return NotExecuted(
            where,
            f"custom item{named}" + (f" (engine {engine})" if engine else ""),
            f"runs only in {engine}" if engine else "vendor-specific check",
        )
    if kind not in ("library", "sql"):
        return NotExecuted(where, f"quality type {kind!r}{named}", "not executable by aiready")
    if kind == "library":
        metric = metric_of(item)
        if metric not in LIBRARY_METRICS:
            return NotExecuted(
                where,
                f"library metric {metric!r}{named}",
                "not a metric aiready executes (nullValues, missingValues, invalidValues, "
                "duplicateValues, rowCount); use logicalTypeOptions or a type: sql rule",
            )
    return None


def property_options(
    prop: dict[str, Any], where: str, also: frozenset[str] = frozenset()
) -> list[NotExecuted]:
    """Declared logicalTypeOptions the gate does not enforce (``also``: keys it enforces for
    this column, such as a supported ``format``), and nested properties."""
    out = [
        NotExecuted(
            f"{where}.logicalTypeOptions.{key}",
            f"logicalTypeOptions {key}: {value!r}",
            "declared but not enforced by aiready's gate",
        )
        for key, value in (prop.get("logicalTypeOptions") or {}).items()
        if key not in ENFORCED_TYPE_OPTIONS | also
    ]
    if prop.get("properties") or prop.get("items"):
        out.append(
            NotExecuted(
                f"{where}.{'properties' if prop.get('properties') else 'items'}",
                f"nested fields of {prop.get('name')!r}",
                "only the column as a whole (JSON) is checked, not its nested fields",
            )
        )
    return out


def sla_properties(raw: dict[str, Any]) -> list[NotExecuted]:
    """SLA properties aiready does not act on."""
    return [
        NotExecuted(
            f"slaProperties[{i}]",
            f"SLA {sla.get('property')!r}",
            "declared but not checked by aiready (it acts on latency/freshness and retention)",
        )
        for i, sla in enumerate(raw.get("slaProperties") or [])
        if isinstance(sla, dict) and str(sla.get("property", "")).lower() not in ENFORCED_SLA
    ]


def refuse_if_strict(items: Iterable[NotExecuted], file: str) -> None:
    """Strict mode: every item that is not documentation is a ContractError naming each."""
    refused = [i for i in items if not i.documentation]
    if refused:
        raise ContractError(
            "strict: the contract declares what aiready does not execute: "
            + "; ".join(i.describe() for i in refused),
            file=file,
            path=refused[0].path,
        )
