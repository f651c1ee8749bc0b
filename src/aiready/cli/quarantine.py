"""Review quarantined rows: list them, or reject the ones nobody will fix.

Examples:
  aiready quarantine payments                      # open rows, with reasons
  aiready quarantine payments --reason type_mismatch --json
  aiready quarantine reject payments --reason malformed_record --by alice
  aiready quarantine reject payments --row 20261125T101500000000-1a2b3c4d:17 --by alice
After fixing a contract or source, `aiready refine DATASET --replay-quarantine`
releases the rows that now pass.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from aiready.cli._common import JsonOpt, WorkspaceOpt, console, emit_json, load
from aiready.errors import ConfigError


def quarantine(
    args: Annotated[list[str], typer.Argument(help="DATASET, or `reject DATASET`.")],
    reason: Annotated[
        str | None, typer.Option("--reason", help="Only rows with this code.")
    ] = None,
    status: Annotated[str, typer.Option("--status", help="open|released|rejected|all")] = "open",
    by: Annotated[str | None, typer.Option("--by", help="Reviewer (reject).")] = None,
    row: Annotated[list[str] | None, typer.Option("--row", help="BATCH:ROW to reject.")] = None,
    limit: Annotated[int, typer.Option("--limit", help="Rows to show (table output).")] = 50,
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> int:
    ws = load(workspace)
    if args[0] == "reject":
        if len(args) != 2 or not by:
            raise ConfigError(
                "usage: aiready quarantine reject DATASET --by NAME "
                "[--reason CODE | --row BATCH:ROW]"
            )
        rows = [_row(r) for r in row] if row else None
        count = ws.reject(args[1], by, reason, rows)
        emit_json({"dataset": args[1], "rejected": count}) if as_json else console.print(
            f"rejected {count} rows of {args[1]}"
        )
        return 0
    if len(args) != 1:
        raise ConfigError("usage: aiready quarantine DATASET [--reason CODE]")
    rows_out = ws.quarantine(args[0], reason, None if status == "all" else status)
    if as_json:
        emit_json(rows_out)
        return 0
    table = Table(title=f"quarantine {args[0]} ({len(rows_out)} {status} rows)")
    for col in ("batch:row", "file", "action", "status", "reasons"):
        table.add_column(col)
    for r in rows_out[:limit]:
        reasons = "; ".join(f"{x['code']} [{x['rule']}] {x['message']}" for x in r["_reasons"])
        table.add_row(
            f"{r['_batch_id']}:{r['_source_row']}",
            r["_source_file"],
            r["_action"],
            r["_status"],
            reasons,
        )
    console.print(table)
    return 0


def _row(text: str) -> tuple[str, int]:
    batch, _, row = text.rpartition(":")
    if not batch or not row.isdigit():
        raise ConfigError(f"--row must be BATCH:ROW, got {text!r}")
    return batch, int(row)
