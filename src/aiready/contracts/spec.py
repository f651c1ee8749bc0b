"""The compiled form of a contract: plain, engine-free Column, Rule and Limit objects.

``rules.compile_contract`` builds them; engines turn them into SQL. Nothing here knows about
DuckDB, Spark or YAML.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from aiready.contracts import formats
from aiready.contracts.unexecuted import NotExecuted
from aiready.reasons import ReasonCode

Action = Literal["warn", "drop", "quarantine", "fail"]
RuleKind = Literal[
    "type",
    "not_null",
    "unique",
    "range",
    "length",
    "pattern",
    "format",
    "valid_values",
    "missing_values",
    "sql_row",
    "relationship",
    "row_count",
    "sql_dataset",
    "freshness",
]
TypeFamily = Literal[
    "string", "integer", "decimal", "float", "boolean", "date", "timestamp", "json"
]
ACTIONS: tuple[Action, ...] = ("warn", "drop", "quarantine", "fail")
DATASET_KINDS = frozenset({"row_count", "sql_dataset", "freshness"})


@dataclass(frozen=True)
class Column:
    """A contract property as the engine needs it."""

    name: str
    family: TypeFamily
    sql_type: str
    """Target type in DuckDB SQL (``BIGINT``, ``DECIMAL(12,2)``, ``TIMESTAMPTZ`` …)."""
    scale: int | None = None
    description: str | None = None
    classification: str | None = None
    missing: tuple[str, ...] = ()
    """Tokens that mean "no value" here (``NA``, ``n/a`` …): NULL before any type check."""
    integral_floats: bool = True
    """An integer column accepts ``517.0`` and ``1e3`` (lossless); ``517.5`` stays a mismatch."""
    format: formats.DatePattern | None = None
    """Dates and timestamps: the pattern values are written in (else ISO 8601)."""


@dataclass(frozen=True)
class Limit:
    """An ODCS operator read as a batch limit on a rule's metric."""

    operator: str
    value: Any
    unit: Literal["rows", "percent"] = "rows"

    def holds(self, metric: float) -> bool:
        """True when ``metric`` satisfies the operator."""
        v, op = self.value, self.operator
        if op in ("mustBeBetween", "mustNotBeBetween"):
            inside = bool(v[0] <= metric <= v[1])
            return inside if op == "mustBeBetween" else not inside
        compare: dict[str, Callable[[float, Any], bool]] = {
            "mustBe": lambda m, x: bool(m == x),
            "mustNotBe": lambda m, x: bool(m != x),
            "mustBeGreaterThan": lambda m, x: bool(m > x),
            "mustBeGreaterOrEqualTo": lambda m, x: bool(m >= x),
            "mustBeLessThan": lambda m, x: bool(m < x),
            "mustBeLessOrEqualTo": lambda m, x: bool(m <= x),
        }
        return compare[op](metric, v)

    def describe(self) -> str:
        return f"{self.operator} {self.value}{' %' if self.unit == 'percent' else ''}"


@dataclass(frozen=True)
class Rule:
    """One check: a row predicate (row rules) or a metric compared with a limit (dataset rules)."""

    id: str
    kind: RuleKind
    reason: ReasonCode
    action: Action
    columns: tuple[str, ...] = ()
    params: dict[str, Any] = field(default_factory=dict)
    limit: Limit | None = None
    """Batch limit (circuit breaker) for row rules; the pass condition for dataset rules."""
    description: str = ""

    @property
    def column(self) -> str | None:
        return self.columns[0] if len(self.columns) == 1 else None

    @property
    def row_level(self) -> bool:
        return self.kind not in DATASET_KINDS


@dataclass(frozen=True)
class CompiledContract:
    """What a gate needs from a contract."""

    id: str
    version: str
    sha256: str
    path: str
    object_name: str
    columns: tuple[Column, ...]
    rules: tuple[Rule, ...]
    primary_key: tuple[str, ...]
    owners: tuple[str, ...]
    not_executed: tuple[NotExecuted, ...] = ()
    """Declared items aiready accepts but does not execute, each with its reason and YAML path."""

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)
