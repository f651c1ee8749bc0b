"""One self-contained HTML report (no network needed to open it), also logged to MLflow.

Examples:
  aiready report                   # writes report.html in the workspace
  aiready report -o /tmp/shop.html
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from aiready.cli._common import JsonOpt, WorkspaceOpt, console, emit_json, load


def report(
    output: Annotated[Path | None, typer.Option("-o", "--output")] = None,
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> int:
    ws = load(workspace)
    path = ws.report(output or ws.root / "report.html")
    if as_json:
        emit_json({"report": str(path)})
    else:
        console.print(f"report written: {path}")
    return 0
