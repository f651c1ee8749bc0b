"""The audit log of every policy decision.

Examples:
  aiready audit verify        # exit 1 naming the record, file or Delta commit that changed

verify checks the keyed (HMAC) chain, the head anchored at every fold in .aiready/audit.head and
the newest head anchored in MLflow, then anchors the verified head in MLflow.
"""

from __future__ import annotations

import typer

from aiready.cli._common import JsonOpt, WorkspaceOpt, console, emit_json, load

app = typer.Typer(help=__doc__, no_args_is_help=True)


@app.command()
def verify(workspace: WorkspaceOpt = None, as_json: JsonOpt = False) -> int:
    """Check the audit log's keyed chain against its anchors."""
    result = load(workspace).check_audit(anchor=True)
    if as_json:
        emit_json({"ok": True, **result.asdict()})
        return 0
    head = "" if result.head is None else f", head anchored at record {result.head.seq}"
    console.print(f"[green]audit log intact[/]: {result.records} records{head}")
    if result.legacy:
        sealed = (
            f"sealed by keyed record {result.legacy}"
            if result.sealed
            else "not sealed yet: the next decision seals them"
        )
        console.print(
            f"[yellow]note[/]: records 0..{result.legacy - 1} predate the keyed chain and are "
            f"checked with the old unkeyed sha256 chain only ({sealed})"
        )
    return 0
