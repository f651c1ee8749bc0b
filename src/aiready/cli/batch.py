"""Bronze batches: list them with their state; retract, supersede or abandon one.

Bronze keeps every batch (it is append-only); these commands decide what silver makes of it.
Each decision is audited (`aiready audit`) and recorded as an MLflow run.

Examples:
  aiready batch list flights          # file, sha256, rows, state, rows in silver/quarantine
  aiready batch retract flights 20261125T1015 --by alice --reason "wrong export"
  aiready batch supersede flights OLD_BATCH NEW_BATCH --by alice
  aiready batch abandon flights 20261125T1015 --by alice   # a failed batch: never refine it
A changed file dropped in again under the same name is refused until
`aiready ingest DATASET --supersede` (or `on_changed_file:` in aiready.yaml).
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from aiready.cli._common import JsonOpt, WorkspaceOpt, console, emit_json, load
from aiready.layers.batches import BatchChange

app = typer.Typer(help=__doc__, no_args_is_help=True)
ByOpt = Annotated[str, typer.Option("--by", help="Who decides this (audited).")]
ReasonOpt = Annotated[str | None, typer.Option("--reason", help="Why (audited).")]
_STYLE = {"refined": "green", "failed-gate": "red", "pending": "yellow"}


@app.command("list")
def list_batches(dataset: str, workspace: WorkspaceOpt = None, as_json: JsonOpt = False) -> int:
    """Every bronze batch of DATASET with its state and where its rows are now."""
    infos = load(workspace).batches(dataset)
    if as_json:
        emit_json([b.asdict() for b in infos])
        return 0
    table = Table(title=f"batches of {dataset}")
    for col in ("batch", "file", "sha256", "rows", "state", "silver", "quarantine", "dropped"):
        table.add_column(
            col, justify="right" if col in ("rows", "silver", "quarantine") else "left"
        )
    for b in infos:
        style = _STYLE.get(b.state, "dim")
        table.add_row(
            b.batch_id,
            escape(b.file),
            b.sha256[:12],
            str(b.rows),
            f"[{style}]{b.state}[/]",
            str(b.silver_rows),
            str(b.quarantine_rows),
            str(b.dropped),
        )
    console.print(table)
    for b in infos:
        if b.hint:
            console.print(f"[yellow]! {b.batch_id}:[/] {escape(b.hint)}")
    return 0


@app.command()
def retract(
    dataset: str,
    batch_id: str,
    by: ByOpt,
    reason: ReasonOpt = None,
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> int:
    """Take BATCH_ID's rows out of silver and quarantine (bronze keeps them, marked retracted)."""
    _show(load(workspace).retract_batch(dataset, batch_id, by, reason), as_json)
    return 0


@app.command()
def supersede(
    dataset: str,
    batch_id: str,
    new_batch: str,
    by: ByOpt,
    reason: ReasonOpt = None,
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> int:
    """Retract BATCH_ID as superseded by the already ingested NEW_BATCH."""
    _show(load(workspace).supersede_batch(dataset, batch_id, new_batch, by, reason), as_json)
    return 0


@app.command()
def abandon(
    dataset: str,
    batch_id: str,
    by: ByOpt,
    reason: ReasonOpt = None,
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> int:
    """Never refine BATCH_ID (a failed or pending batch); it stops failing refine and run."""
    _show(load(workspace).abandon_batch(dataset, batch_id, by, reason), as_json)
    return 0


def _show(change: BatchChange, as_json: bool) -> None:
    if as_json:
        emit_json(change.asdict())
        return
    note = " (already; finished what was left)" if change.already else ""
    console.print(
        f"{change.state} batch {change.batch_id} of {change.dataset}{note}: "
        f"silver -{change.rows_silver_removed} (restored {change.rows_restored}), "
        f"quarantine -{change.rows_quarantine_removed}"
    )
