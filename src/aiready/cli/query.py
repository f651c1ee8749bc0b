"""Run SQL under policy: every table and column authorised, rows filtered and masked, audited.

Exit code 1 when policy denies the query (nothing is returned), 2 for SQL that does not parse,
writes, or reads anything but silver.<dataset> and gold.<model>.

Examples:
  aiready query "SELECT segment, count(*) FROM silver.customers GROUP BY 1" \\
      --principal alice --purpose analytics
  aiready query "SELECT * FROM gold.customer_value" --principal churn-bot --purpose churn --json
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from aiready.cli._common import JsonOpt, WorkspaceOpt, console, emit_json, load


def query(
    sql: Annotated[str, typer.Argument(help="One SELECT query.")],
    principal: Annotated[str, typer.Option("--principal")],
    purpose: Annotated[str, typer.Option("--purpose")] = "",
    limit: Annotated[int, typer.Option("--limit")] = 1000,
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> int:
    result = load(workspace).query(sql, principal, purpose, limit)
    if as_json:
        emit_json(result.asdict())
        return 0
    table = Table(title=f"{result.table.num_rows} rows")
    for name in result.table.column_names:
        table.add_column(name)
    for row in result.table.to_pylist():
        table.add_row(*(str(v) for v in row.values()))
    console.print(table)
    for column, mask in result.masked.items():
        console.print(f"[yellow]masked[/] {column} ({mask})")
    for dataset, condition in result.filtered.items():
        console.print(f"[yellow]row filter[/] {dataset}: {condition}")
    return 0
