"""Remove old Delta files per each contract's `retention` SLA; certified versions stay readable.

Examples:
  aiready vacuum --dry-run
  aiready vacuum --json
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from aiready.cli._common import JsonOpt, WorkspaceOpt, console, emit_json, load


def vacuum(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only list what would go.")] = False,
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> int:
    report = load(workspace).vacuum(dry_run)
    if as_json:
        emit_json(report)
        return 0
    table = Table(title="vacuum" + (" (dry run)" if dry_run else ""))
    for col in ("table", "retention h", "protected versions", "files removed"):
        table.add_column(col)
    for r in report:
        table.add_row(
            r["table"],
            str(r["retention_hours"]),
            str(r["protected_versions"]),
            str(r["files_removed"]),
        )
    console.print(table if report else "no table has a retention SLA")
    return 0
