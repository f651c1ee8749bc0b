"""Contract rules suggested by repeated corrections of one column (3 or more).

Examples:
  aiready suggest            # prints a YAML quality rule per column to paste into its contract
  aiready suggest --json
"""

from __future__ import annotations

from aiready.cli._common import JsonOpt, WorkspaceOpt, console, emit_json, load
from aiready.feedback.report import suggestions


def suggest(workspace: WorkspaceOpt = None, as_json: JsonOpt = False) -> int:
    found = suggestions(load(workspace))
    if as_json:
        emit_json(found)
        return 0
    if not found:
        console.print("no column has been corrected 3 times or more")
    for s in found:
        console.print(f"[bold]{s['dataset']}.{s['column']}[/bold]: {s['corrections']} corrections")
        console.print(s["rule"], highlight=False)
    return 0
