"""Review quarantined rows: list them, or reject the ones nobody will fix.

Examples:
  aiready quarantine payments                      # open rows, with reasons
  aiready quarantine payments --reason type_mismatch --json --limit 100 --offset 200
  aiready quarantine summary payments              # per rule: rows, and a few examples
  aiready quarantine reject payments --reason malformed_record --by alice
  aiready quarantine reject payments --row 20261125T101500000000-1a2b3c4d:17 --by alice
After fixing a contract or source, `aiready refine DATASET --replay-quarantine`
releases the rows that now pass.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from aiready.cli._common import JsonOpt, WorkspaceOpt, console, emit_json, load
from aiready.errors import ConfigError


def quarantine(
    args: Annotated[
        list[str], typer.Argument(help="DATASET, `summary DATASET` or `reject DATASET`.")
    ],
    reason: Annotated[
        str | None, typer.Option("--reason", help="Only rows with this code.")
    ] = None,
    status: Annotated[str, typer.Option("--status", help="open|released|rejected|all")] = "open",
    by: Annotated[str | None, typer.Option("--by", help="Reviewer (reject).")] = None,
    row: Annotated[list[str] | None, typer.Option("--row", help="BATCH:ROW to reject.")] = None,
    limit: Annotated[
        int | None,
        typer.Option(
            "--limit", min=0, help="Rows to show (default: 50 in the table, all in JSON)."
        ),
    ] = None,
    offset: Annotated[int, typer.Option("--offset", min=0, help="Rows to skip first.")] = 0,
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
    if args[0] == "summary":
        if len(args) != 2:
            raise ConfigError("usage: aiready quarantine summary DATASET [--status S]")
        return _summary(
            ws.quarantine_summary(args[1], None if status == "all" else status),
            args[1],
            status,
            as_json,
        )
    if len(args) != 1:
        raise ConfigError("usage: aiready quarantine DATASET [--reason CODE]")
    every = ws.quarantine(args[0], reason, None if status == "all" else status)
    shown = (
        every[offset:]
        if limit is None and as_json
        else every[offset : offset + (50 if limit is None else limit)]
    )
    if as_json:
        emit_json(shown)
        return 0
    title = f"quarantine {args[0]}: {len(every)} {status} rows"
    if len(shown) < len(every):
        title += f", showing {offset + 1}-{offset + len(shown)} (--offset/--limit for more)"
    table = Table(title=title)
    for col in ("batch:row", "file", "action", "status", "reasons"):
        table.add_column(col)
    for r in shown:
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


def _summary(groups: list[dict[str, Any]], dataset: str, status: str, as_json: bool) -> int:
    if as_json:
        emit_json({"dataset": dataset, "status": status, "rules": groups})
        return 0
    table = Table(title=f"quarantine {dataset}: {status} rows per failed rule")
    for col in ("rule", "code", "column", "rows", "examples"):
        table.add_column(col)
    for g in groups:
        examples = "\n".join(f"{e['row']}: {e['message']}" for e in g["examples"])
        table.add_row(
            escape(g["rule"]),
            g["code"],
            escape(g["column"] or ""),
            str(g["rows"]),
            escape(examples),
        )
    console.print(table)
    return 0


def _row(text: str) -> tuple[str, int]:
    batch, _, row = text.rpartition(":")
    if not batch or not row.isdigit():
        raise ConfigError(f"--row must be BATCH:ROW, got {text!r}")
    return batch, int(row)
