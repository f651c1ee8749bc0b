"""Governance evidence in MLflow: what each step logs (params, metrics, dataset versions, reports).

The facade runs the steps; this module decides what a governance reader finds in the MLflow UI
for each of them, so a new field of evidence is one edit here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from aiready.certification.certify import Certificate
from aiready.config.models import DatasetConfig, ModelConfig
from aiready.config.paths import Paths
from aiready.contracts import CompiledContract
from aiready.gates import html
from aiready.layers.batches import BatchChange
from aiready.layers.gold import PublishResult
from aiready.layers.results import IngestResult, RefineResult
from aiready.tracking.mlflow_tracker import Tracker


@dataclass(frozen=True)
class Evidence:
    """Writes one step's evidence into its MLflow run."""

    tracker: Tracker
    paths: Paths
    engine: str

    def ingest(self, run_id: str | None, ds: DatasetConfig, result: IngestResult) -> None:
        done = [f for f in result.files if f.status == "ingested"]
        self.tracker.log(
            run_id,
            params={
                "source": ds.source,
                "kind": ds.kind,
                "format": ds.format,
                "bronze_version_written": result.bronze_version,
                "batches": ",".join(str(f.batch_id) for f in done),
            },
            metrics={
                "rows_in": result.rows,
                "rows_out": result.rows,
                "rows_malformed": sum(f.malformed for f in done),
                "files_ingested": len(done),
                "files_skipped": sum(f.status == "skipped" for f in result.files),
                "files_failed": sum(f.status == "failed" for f in result.files),
            },
            tags={"aiready.result": "failed" if result.errors else "passed"},
        )
        self.tracker.log_table(
            run_id,
            f"bronze.{ds.name}",
            str(self.paths.table("bronze", ds.name)),
            result.bronze_version,
            "bronze",
        )
        self.tracker.log_json(run_id, result.asdict(), "ingest_result.json")

    def refine(
        self,
        run_id: str | None,
        ds: DatasetConfig,
        contract: CompiledContract,
        bronze_version: int | None,
        result: RefineResult,
    ) -> None:
        self.tracker.log(
            run_id,
            params={
                **_contract_params(contract),
                "kind": ds.kind,
                "engine": self.engine,
                "bronze_version_read": bronze_version,
                "silver_version_written": result.silver_version,
                "quarantine_version_written": result.quarantine_version,
                "batches": ",".join(r.batch_id for r in result.reports),
                "rebuild": result.rebuilt,
                "schema_changes": json.dumps([c.asdict() for c in result.schema_changes]),
            },
            metrics=_refine_metrics(result),
            tags={
                **_result_tags(result.passed, contract),
                "aiready.not_executed": str(
                    sum(not i.documentation for i in contract.not_executed)
                ),
            },
        )
        self.tracker.log_json(run_id, result.not_executed, "not_executed.json")
        for layer, version in (
            ("bronze", bronze_version),
            ("silver", result.silver_version),
            ("quarantine", result.quarantine_version),
        ):
            self.tracker.log_table(
                run_id,
                f"{layer}.{ds.name}",
                str(self.paths.table(layer, ds.name)),  # type: ignore[arg-type]
                version,
                layer,
                [c.name for c in contract.columns],
            )
        reports = [r.asdict() for r in result.reports]
        self.tracker.log_json(run_id, reports, "gate_report.json")
        self.tracker.log_text(run_id, html.render(reports, f"refine {ds.name}"), "gate_report.html")

    def publish(
        self,
        run_id: str | None,
        model: ModelConfig,
        contract: CompiledContract,
        result: PublishResult,
    ) -> None:
        self.tracker.log(
            run_id,
            params={
                **_contract_params(contract),
                "sql": model.sql,
                "engine": self.engine,
                "strategic": model.strategic,
                "gold_version_written": result.gold_version,
                **{f"input.{k}": v for k, v in result.inputs.items()},
            },
            metrics=_publish_metrics(result),
            tags=_result_tags(result.published, contract),
        )
        for name, version in result.inputs.items():
            layer, table = name.split(".", 1)
            self.tracker.log_table(
                run_id,
                name,
                str(self.paths.table(layer, table)),  # type: ignore[arg-type]
                version,
                layer,
            )
        self.tracker.log_table(
            run_id,
            f"gold.{model.name}",
            str(self.paths.table("gold", model.name)),
            result.gold_version,
            "gold",
            [c.name for c in contract.columns],
        )
        self.tracker.log_json(run_id, result.asdict(), "gate_report.json")
        if result.report is not None:
            page = html.render([result.report.asdict()], f"publish {model.name}")
            self.tracker.log_text(run_id, page, "gate_report.html")

    def certificate(self, run_id: str | None, cert: Certificate) -> None:
        metrics = {
            "certified": float(cert.certified),
            "classification_coverage": cert.classification_coverage,
        }
        if cert.freshness_lag_s is not None:
            metrics["freshness_lag_s"] = cert.freshness_lag_s
        self.tracker.log(
            run_id,
            metrics=metrics,
            tags={
                "aiready.certified": str(cert.certified).lower(),
                "aiready.gold_version": str(cert.gold_version),
                "aiready.certificate.reasons": "; ".join(cert.reasons)[:4000] or "none",
            },
        )
        self.tracker.log_json(run_id, cert.asdict(), "certificate.json")

    def batch_change(self, run_id: str | None, change: BatchChange) -> None:
        self.tracker.log(
            run_id,
            params={
                "batch_id": change.batch_id,
                "file": change.file,
                "by": change.by,
                "reason": change.reason,
                "superseded_by": change.superseded_by,
            },
            metrics={k: float(v) for k, v in batch_counts(change).items()},
            tags={"aiready.result": change.state, "aiready.batch_id": change.batch_id},
        )
        self.tracker.log_json(run_id, change.asdict(), "batch_change.json")


def batch_counts(change: BatchChange) -> dict[str, int]:
    """The rows a batch decision moved, by where they went."""
    keys = ("rows_silver_removed", "rows_quarantine_removed", "rows_restored")
    return {k: int(getattr(change, k)) for k in keys}


def batch_summary(change: BatchChange) -> str:
    """One line for the audit log: what was decided about which batch, and what it moved."""
    text = f"{change.state} batch {change.batch_id} ({change.file})"
    if change.superseded_by:
        text += f" by {change.superseded_by}"
    text += ": " + ", ".join(f"{k} {v}" for k, v in batch_counts(change).items())
    if change.reason:
        text += f"; {change.reason}"
    return text


def feedback_metrics(data: dict[str, Any]) -> dict[str, float]:
    """The feedback report's rates as metrics: a time series across reports in MLflow."""
    metrics: dict[str, float] = {}
    for row in data["failures"]:
        prefix = f"{row['dataset']}.v{row['gold_version']}"
        for key in ("retrieval_failure_rate", "hallucination_rate"):
            if row[key] is not None:
                metrics[f"{prefix}.{key}"] = row[key]
    for row in data["decisions"]:
        prefix = f"{row['dataset']}.v{row['gold_version']}.{row['model_version']}"
        metrics[f"{prefix}.acceptance_rate"] = row["acceptance_rate"]
        if row["outcome_value_mean"] is not None:
            metrics[f"{prefix}.outcome_value_mean"] = row["outcome_value_mean"]
    metrics["unanswered_groups"] = len(data["unanswered"])
    return metrics


def _contract_params(contract: CompiledContract) -> dict[str, Any]:
    return {
        "contract_id": contract.id,
        "contract_version": contract.version,
        "contract_sha256": contract.sha256,
    }


def _result_tags(passed: bool, contract: CompiledContract) -> dict[str, str]:
    return {
        "aiready.result": "passed" if passed else "failed",
        "aiready.contract": f"{contract.id}@{contract.version}",
    }


def _refine_metrics(result: RefineResult) -> dict[str, float]:
    metrics: dict[str, float] = {k: float(v) for k, v in result.totals().items()}
    for report in result.reports:
        for rule in report.rules:
            key = f"rule.{rule.rule}.failed"
            metrics[key] = metrics.get(key, 0.0) + rule.failed
    metrics["batches_refined"] = sum(r.passed for r in result.reports)
    metrics["batches_failed"] = sum(not r.passed for r in result.reports)
    if result.replay is not None:
        metrics["rows_released"] = result.replay.released
    return metrics


def _publish_metrics(result: PublishResult) -> dict[str, float]:
    report = result.report
    metrics: dict[str, float] = {
        "published": float(result.published),
        "rows_out": float(result.rows),
    }
    if report is not None:
        metrics.update(
            rows_in=report.rows_in,
            rows_warned=report.rows_warned,
            rows_failing=report.rows_in - report.rows_out,
        )
        metrics.update({f"rule.{r.rule}.failed": r.failed for r in report.rules})
    return metrics
