"""Check that a model's training data was certified gold then, and still is.

Exit code 1 when any gold version the model used was not certified at training time or has since
been decertified (e.g. its SLA lapsed, its contract changed).

Examples:
  aiready check-model models:/churn/3
  aiready check-model runs:/0a1b2c…/model --json
"""

from __future__ import annotations

from typing import Annotated

import typer

from aiready.cli._common import JsonOpt, WorkspaceOpt, console, emit_json, load


def check_model(
    model_uri: Annotated[str, typer.Argument(help="Run id, runs:/ or models:/ URI.")],
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> int:
    check = load(workspace).check_model(model_uri)
    if as_json:
        emit_json(check.asdict())
    else:
        for d in check.datasets:
            mark = (
                "[green]✓[/]" if d["certified_at_training"] and d["certified_now"] else "[red]✗[/]"
            )
            console.print(f"{mark} gold.{d['model']}@v{d['gold_version']}")
        for reason in check.reasons:
            console.print(f"[red]✗[/] {reason}")
        console.print("[green]ok[/]" if check.ok else "[red]not ok[/]")
    return 0 if check.ok else 1
