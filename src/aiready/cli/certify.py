"""Re-evaluate the certificate of gold models' current versions (an SLA may have lapsed).

Exit code 1 when a model's current version is not certified; the reasons are listed.

Examples:
  aiready certify
  aiready certify customer_value --json
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from aiready.certification.certify import describe_lag
from aiready.cli._common import JsonOpt, WorkspaceOpt, console, emit_json, load


def certify(
    model: Annotated[str | None, typer.Argument(help="Model name (default: all).")] = None,
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> int:
    certificates = load(workspace).certify(model)
    if as_json:
        emit_json([c.asdict() for c in certificates])
    else:
        table = Table(title="certificates")
        for col in ("model", "gold version", "certified", "freshness lag", "reasons"):
            table.add_column(col)
        for c in certificates:
            lag = "" if c.freshness_lag_s is None else describe_lag(c.freshness_lag_s)
            verdict = "[green]yes[/]" if c.certified else "[red]no[/]"
            table.add_row(c.model, str(c.gold_version), verdict, lag, "; ".join(c.reasons))
        console.print(table)
    return 0 if all(c.certified for c in certificates) else 1
