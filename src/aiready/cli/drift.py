"""Data drift of a gold model's newest version (against its certified one) or of a dataset's
newest silver batch, with Evidently's tests (Wasserstein / Jensen-Shannon, or KS / chi-square).

Examples:
  aiready drift customer_value          # exit 1 when the dataset drifted
  aiready drift payments --json
  aiready drift --behaviour 24         # AI use: the last 24 h against the 24 h before
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

import typer
from rich.table import Table

from aiready.cli._common import JsonOpt, WorkspaceOpt, console, emit_json, load


def drift(
    name: Annotated[
        str, typer.Argument(help="Gold model or dataset (omit with --behaviour).")
    ] = "",
    behaviour: Annotated[
        float | None,
        typer.Option("--behaviour", help="Hours: AI use in the last window vs the one before."),
    ] = None,
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> int:
    if behaviour is not None:
        data = load(workspace).behaviour_drift(timedelta(hours=behaviour))
        if as_json:
            emit_json(data)
        else:
            for key, value in data.items():
                if key.endswith("_rate") or key in ("retrievals", "drifted"):
                    console.print(f"{key}: {value}")
        return 1 if data["drifted"] else 0
    if not name:
        raise typer.BadParameter("name a gold model or dataset, or use --behaviour HOURS")
    result = load(workspace).drift(name)
    if as_json:
        emit_json(result.asdict())
    else:
        table = Table("column", "kind", "test", "value", "threshold", "drift")
        for c in result.report.columns:
            mark = "[red]drift[/]" if c.drifted else "[green]ok[/]"
            table.add_row(c.column, c.kind, c.method, f"{c.value:.4g}", str(c.threshold), mark)
        console.print(table)
        verdict = "[red]DRIFTED[/]" if result.report.drifted else "[green]no dataset drift[/]"
        console.print(
            f"{result.layer} {name} {result.current} vs {result.reference}: {verdict} "
            f"({result.report.share:.0%} of columns)"
        )
    return 1 if result.report.drifted else 0
