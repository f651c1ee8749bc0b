"""Where a workspace keeps its state (a public interface: other tools read these tables)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

Layer = Literal["bronze", "silver", "quarantine", "gold"]


@dataclass(frozen=True)
class Paths:
    """Every path under ``<workspace>/.aiready``."""

    root: Path

    @property
    def state(self) -> Path:
        return self.root / ".aiready"

    @property
    def lake(self) -> Path:
        return self.state / "lake"

    def table(self, layer: Layer, dataset: str) -> Path:
        """``.aiready/lake/<layer>/<name>`` (bronze, silver, quarantine, gold)."""
        return self.lake / layer / dataset

    @property
    def ingested_ledger(self) -> Path:
        """One row per bronze batch (a source file ingested once)."""
        return self.lake / "_ledger" / "ingested"

    @property
    def refined_ledger(self) -> Path:
        """One row per bronze batch whose silver and quarantine output is complete."""
        return self.lake / "_ledger" / "refined"

    @property
    def batch_ledger(self) -> Path:
        """One row per batch event: failed gate, retracted, superseded, abandoned."""
        return self.lake / "_ledger" / "batches"

    @property
    def certificates(self) -> Path:
        """One row per certification of a gold version."""
        return self.lake / "_certificates"

    @property
    def lineage(self) -> Path:
        """OpenLineage event files, one per event."""
        return self.state / "lineage"

    @property
    def retrieval_log(self) -> Path:
        """The retrieval log (telemetry): one row per retrieval, read by feedback and drift."""
        return self.lake / "_retrievals"

    @property
    def locks(self) -> Path:
        return self.state / "locks"

    @property
    def mlflow_db(self) -> Path:
        return self.state / "mlflow.db"

    @property
    def mlflow_artifacts(self) -> Path:
        return self.state / "mlartifacts"
