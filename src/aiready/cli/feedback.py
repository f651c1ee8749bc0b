"""Feedback on AI answers: add it, review corrections, and read what it says.

Examples:
  aiready feedback add rating --principal alice --data '{"purpose": "support", "score": 0.5}'
  aiready feedback list correction --status pending
  aiready feedback review 6f1c… --accept --by steward@example.com --note "checked the invoice"
  aiready feedback report --json          # failure rates, unanswered queries, decisions
"""

from __future__ import annotations

import json
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.table import Table

from aiready.cli._common import JsonOpt, WorkspaceOpt, console, emit_json, load
from aiready.errors import ConfigError
from aiready.feedback import KINDS

app = typer.Typer(help=__doc__, no_args_is_help=True)


@app.command()
def add(
    kind: Annotated[str, typer.Argument(help=f"One of {', '.join(KINDS)}.")],
    principal: Annotated[str, typer.Option("--principal")],
    data: Annotated[str, typer.Option("--data", help="The payload as JSON.")],
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> int:
    """Store one piece of feedback (the same payload twice is stored once)."""
    if kind not in KINDS:
        raise ConfigError(f"unknown feedback kind {kind!r}; known: {list(KINDS)}", kind=kind)
    try:
        item = KINDS[kind].model_validate({**json.loads(data), "kind": kind})
    except (ValueError, ValidationError) as exc:
        raise ConfigError(f"invalid {kind} payload: {exc}", kind=kind) from exc
    stored = load(workspace).add_feedback(item, principal)
    out = {"id": stored.id, "kind": stored.kind, "created": stored.created}
    if as_json:
        emit_json(out)
    else:
        console.print(f"{'stored' if stored.created else 'already stored'} {kind} {stored.id}")
    return 0


@app.command("list")
def list_(
    kind: Annotated[str, typer.Argument()] = "correction",
    status: Annotated[str | None, typer.Option("--status")] = None,
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> int:
    """Stored feedback of one kind (corrections by default)."""
    rows = load(workspace).feedback.rows(kind, status)
    if as_json:
        emit_json(rows)
        return 0
    table = Table("id", "principal", "dataset", "key", "column", "status", "created")
    for r in rows:
        table.add_row(
            r["id"], r["principal"], r["dataset"] or "", r["record_key"] or "",
            r["column"] or "", r["status"], str(r["created_at"])[:19],
        )  # fmt: skip
    console.print(table)
    return 0


@app.command()
def review(
    feedback_id: str,
    by: Annotated[str, typer.Option("--by", help="Reviewer.")],
    accept: Annotated[bool, typer.Option("--accept/--reject")] = True,
    note: Annotated[str | None, typer.Option("--note")] = None,
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> int:
    """Accept a correction (it becomes a bronze batch of its dataset) or reject it."""
    result = load(workspace).review_correction(feedback_id, accept, by, note)
    if as_json:
        emit_json(result.__dict__)
    elif result.status == "accepted":
        console.print(
            f"accepted: {result.dataset}.{result.column} correction is bronze batch "
            f"{result.batch_id}; run `aiready refine {result.dataset}` to gate it into silver"
        )
    else:
        console.print(f"rejected {feedback_id}")
    return 0


@app.command()
def report(workspace: WorkspaceOpt = None, as_json: JsonOpt = False) -> int:
    """Failure rates, unanswered queries, decision quality, rule suggestions (logged to MLflow)."""
    data = load(workspace).feedback_report()
    if as_json:
        emit_json(data)
        return 0
    for title, rows in data.items():
        console.print(f"[bold]{title}[/bold]: {len(rows)}")
        for row in rows[:10]:
            console.print(f"  {json.dumps(row, default=str)}", soft_wrap=True, highlight=False)
    return 0
