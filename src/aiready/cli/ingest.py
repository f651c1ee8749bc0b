"""Ingest new source files into bronze (append-only, one batch per new file).

Examples:
  aiready ingest                 # every dataset
  aiready ingest payments --json
  aiready ingest flights --supersede   # a corrected file under the same name replaces its batch
"""

from __future__ import annotations

from typing import Annotated

import typer

from aiready.cli import render
from aiready.cli._common import JsonOpt, WorkspaceOpt, emit_json, load, progress


def ingest(
    dataset: Annotated[str | None, typer.Argument(help="Dataset name (default: all).")] = None,
    supersede: Annotated[
        bool,
        typer.Option(
            "--supersede",
            help="A file that changed under the same name replaces (retracts) its earlier batch.",
        ),
    ] = False,
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> int:
    ws = load(workspace)
    with progress(not as_json, "ingesting") as report:
        results = ws.ingest(dataset, report, supersede=supersede)
    if as_json:
        emit_json([r.asdict() for r in results])
    else:
        render.ingest(results)
    for r in results:
        r.raise_on_failure()
    return 0
