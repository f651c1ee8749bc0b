"""Step results: ``asdict()`` for JSON/HTTP/MLflow, and ``raise_on_failure()``."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from aiready.errors import AireadyError, GateFailedError, SourceError
from aiready.gates.report import GateReport

FileStatus = Literal["ingested", "skipped", "failed"]


@dataclass
class FileIngest:
    """What happened to one source file."""

    file: str
    status: FileStatus
    sha256: str | None = None
    batch_id: str | None = None
    rows: int = 0
    malformed: int = 0
    columns: list[str] = field(default_factory=list)
    message: str = ""
    supersedes: list[str] = field(default_factory=list)
    """Earlier batches of this file name that this content replaces (``on_changed_file``)."""


@dataclass
class IngestResult:
    """Outcome of ``ingest`` for one dataset (bronze)."""

    dataset: str
    files: list[FileIngest] = field(default_factory=list)
    bronze_version: int | None = None
    run_id: str | None = None
    errors: list[dict[str, Any]] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return sum(f.rows for f in self.files if f.status == "ingested")

    def asdict(self) -> dict[str, Any]:
        return {**asdict(self), "rows": self.rows, "ok": not self.errors}

    def raise_on_failure(self) -> None:
        if self.errors:
            first = self.errors[0]
            raise SourceError(first["message"], dataset=self.dataset, file=first.get("file"))


@dataclass
class ReplayResult:
    """Outcome of re-checking open quarantined rows after a contract or source fix."""

    checked: int = 0
    released: int = 0
    still_open: int = 0
    not_replayable: int = 0
    """Malformed records: they have no parsed values to re-check."""
    superseded: int = 0
    """Passing rows not released: silver already holds a newer row (bronze order) for the key."""


@dataclass
class RefineResult:
    """Outcome of ``refine`` for one dataset (bronze → silver + quarantine)."""

    dataset: str
    reports: list[GateReport] = field(default_factory=list)
    pending: list[str] = field(default_factory=list)
    """Batches left unrefined because their gate failed."""
    silver_version: int | None = None
    quarantine_version: int | None = None
    replay: ReplayResult | None = None
    run_id: str | None = None
    schema_changes: list[Any] = field(default_factory=list)
    """``evolve.SchemaChange`` per silver column widened or added by this refine."""
    rebuilt: bool = False
    """Silver and quarantine were re-derived from bronze under the current contract."""
    not_executed: list[dict[str, Any]] = field(default_factory=list)
    """Declared contract items aiready did not execute, with YAML path and reason."""

    @property
    def passed(self) -> bool:
        return all(r.passed for r in self.reports)

    def totals(self) -> dict[str, int]:
        keys = ("rows_in", "rows_out", "rows_quarantined", "rows_dropped", "rows_warned")
        done = [r for r in self.reports if r.passed]
        return {k: sum(int(getattr(r, k)) for r in done) for k in keys}

    def asdict(self) -> dict[str, Any]:
        data = asdict(self)
        data["reports"] = [r.asdict() for r in self.reports]
        return {**data, "passed": self.passed, "totals": self.totals()}

    def raise_on_failure(self) -> None:
        for report in self.reports:
            report.raise_on_failure()


@dataclass
class RunResult:
    """Outcome of ``run``: ingest then refine for every dataset."""

    ingests: list[IngestResult] = field(default_factory=list)
    refines: list[RefineResult] = field(default_factory=list)
    publishes: list[Any] = field(default_factory=list)
    """PublishResult per gold model."""
    run_id: str | None = None
    errors: list[dict[str, Any]] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return (
            not self.errors
            and all(r.passed for r in self.refines)
            and all(p.published for p in self.publishes)
        )

    def asdict(self) -> dict[str, Any]:
        return {
            "ingests": [i.asdict() for i in self.ingests],
            "refines": [r.asdict() for r in self.refines],
            "publishes": [p.asdict() for p in self.publishes],
            "run_id": self.run_id,
            "errors": self.errors,
            "passed": self.passed,
        }

    def raise_on_failure(self) -> None:
        if self.errors:
            raise AireadyError(self.errors[0]["message"])
        for refine in self.refines:
            if not refine.passed:
                raise GateFailedError("a quality gate failed", dataset=refine.dataset)
        for published in self.publishes:
            published.raise_on_failure()
