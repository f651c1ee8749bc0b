"""Run the whole pipeline: ingest then refine every dataset, under one MLflow parent run.

Examples:
  aiready run
  aiready run -w ./shop --json
"""

from __future__ import annotations

from rich.markup import escape

from aiready.cli import render
from aiready.cli._common import EngineOpt, JsonOpt, WorkspaceOpt, console, emit_json, load, progress


def run(workspace: WorkspaceOpt = None, as_json: JsonOpt = False, engine: EngineOpt = None) -> int:
    ws = load(workspace, engine)
    with progress(not as_json, "running") as report:
        result = ws.run(report)
    if as_json:
        emit_json(result.asdict())
    else:
        render.ingest(result.ingests)
        render.refine(result.refines)
        if result.publishes:
            render.publish(result.publishes)
        for error in result.errors:
            console.print(
                f"[red]✗ {escape(str(error.get('dataset')))}:[/] "
                + escape(f"{error.get('message')} {error.get('file', '')}")
            )
    if any(e.get("error") != "GateFailedError" for e in result.errors):
        return 2
    return 0 if result.passed else 1
