"""Gate results as data: what each rule found and what happened to the batch."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from aiready.errors import GateFailedError


@dataclass
class RuleResult:
    """One rule's outcome on one batch."""

    rule: str
    kind: str
    code: str
    category: str
    action: str
    columns: list[str]
    failed: int
    """Violating rows (row rules) or 1/0 (dataset rules)."""
    metric: float | None = None
    """What the limit was compared with (rows, percent, or the SQL/rowCount value)."""
    limit: str | None = None
    limit_ok: bool = True
    examples: list[str] = field(default_factory=list)
    """A few failing values (relationships: keys missing from the referenced dataset)."""


@dataclass
class GateReport:
    """What one gate run on one bronze batch decided; JSON for MLflow/HTTP, Rich for the CLI."""

    dataset: str
    layer: str
    batch_id: str
    source_file: str
    contract_id: str
    contract_version: str
    contract_sha256: str
    rows_in: int = 0
    rows_out: int = 0
    rows_quarantined: int = 0
    rows_dropped: int = 0
    rows_warned: int = 0
    rows_malformed: int = 0
    rules: list[RuleResult] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    """Why the batch was rejected as a whole (empty when it passed)."""
    warnings: list[str] = field(default_factory=list)
    unknown_columns: list[str] = field(default_factory=list)
    """Source columns the contract does not declare: kept in bronze, not in silver."""
    not_executed: list[dict[str, Any]] = field(default_factory=list)
    """Declared contract items aiready did not execute (``NotExecuted.asdict()``: path, reason)."""

    @property
    def passed(self) -> bool:
        return not self.failures

    def asdict(self) -> dict[str, Any]:
        data = asdict(self)
        data["passed"] = self.passed
        return data

    def raise_on_failure(self) -> None:
        if self.failures:
            raise GateFailedError(
                "; ".join(self.failures),
                dataset=self.dataset,
                batch=self.batch_id,
                file=self.source_file,
            )
