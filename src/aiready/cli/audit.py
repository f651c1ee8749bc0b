"""The audit log of every policy decision.

Examples:
  aiready audit verify        # exit 1 naming the first edited, removed or reordered record
"""

from __future__ import annotations

import typer

from aiready.cli._common import JsonOpt, WorkspaceOpt, console, emit_json, load

app = typer.Typer(help=__doc__, no_args_is_help=True)


@app.command()
def verify(workspace: WorkspaceOpt = None, as_json: JsonOpt = False) -> int:
    """Check the audit log's hash chain."""
    count = load(workspace).verify_audit()
    if as_json:
        emit_json({"ok": True, "records": count})
    else:
        console.print(f"[green]audit log intact[/]: {count} records")
    return 0
