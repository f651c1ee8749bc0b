"""Rich renderings of result objects."""

from __future__ import annotations

from rich.markup import escape
from rich.table import Table

from aiready.cli._common import console
from aiready.layers.gold import PublishResult
from aiready.layers.results import IngestResult, RefineResult


def ingest(results: list[IngestResult]) -> None:
    table = Table(title="ingest → bronze")
    for col in ("dataset", "file", "status", "rows", "malformed", "batch / message"):
        table.add_column(col, justify="right" if col in ("rows", "malformed") else "left")
    for result in results:
        for f in result.files:
            style = {"failed": "red", "skipped": "dim"}.get(f.status, "")
            table.add_row(
                result.dataset,
                f.file,
                f"[{style}]{f.status}[/]" if style else f.status,
                str(f.rows),
                str(f.malformed),
                f.message or str(f.batch_id or ""),
            )
    console.print(table)


def refine(results: list[RefineResult]) -> None:
    table = Table(title="refine → silver + quarantine")
    for col in ("dataset", "batch", "result", "in", "silver", "quarantined", "dropped", "warned"):
        table.add_column(
            col,
            justify="right"
            if col in ("in", "silver", "quarantined", "dropped", "warned")
            else "left",
        )
    for result in results:
        if not result.reports:
            table.add_row(result.dataset, "-", "[dim]nothing pending[/]", "", "", "", "", "")
        for r in result.reports:
            verdict = "[green]passed[/]" if r.passed else "[red]FAILED[/]"
            table.add_row(
                result.dataset,
                r.batch_id,
                verdict,
                str(r.rows_in),
                str(r.rows_out),
                str(r.rows_quarantined),
                str(r.rows_dropped),
                str(r.rows_warned),
            )
    console.print(table)
    for result in results:
        for r in result.reports:
            for failure in r.failures:
                console.print(f"[red]✗ {result.dataset} {r.batch_id}:[/] {escape(failure)}")
            for warning in r.warnings:
                console.print(f"[yellow]! {result.dataset} {r.batch_id}:[/] {escape(warning)}")
            if r.unknown_columns:
                console.print(
                    f"[yellow]! {result.dataset}:[/] source columns not in the contract "
                    f"(kept in bronze only): {', '.join(r.unknown_columns)}"
                )
        for item in result.not_executed:
            verdict = "documentation" if item["documentation"] else "not executed by aiready"
            console.print(
                f"[yellow]! {result.dataset}: {verdict}:[/] {escape(item['path'])}: "
                f"{escape(item['item'])} ({escape(item['reason'])})"
            )
        if result.replay is not None:
            rp = result.replay
            console.print(
                f"replay {result.dataset}: checked {rp.checked}, released {rp.released}, "
                f"still open {rp.still_open}, not replayable (malformed) {rp.not_replayable}, "
                f"superseded by newer silver rows {rp.superseded}"
            )


def publish(results: list[PublishResult]) -> None:
    table = Table(title="publish → gold")
    for col in ("model", "result", "rows", "gold version", "inputs"):
        table.add_column(col)
    for r in results:
        verdict = "[green]published[/]" if r.published else "[red]FAILED[/] (previous kept)"
        version = str(r.gold_version if r.published else r.previous_version)
        inputs = ", ".join(f"{k}@v{v}" for k, v in r.inputs.items())
        table.add_row(r.model, verdict, str(r.rows), version, inputs)
    console.print(table)
    for r in results:
        for reason in r.reasons:
            console.print(f"[red]✗ {r.model}:[/] {escape(reason)}")
