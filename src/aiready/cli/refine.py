"""Refine pending bronze batches into silver, with quality gates and quarantine.

Exit code 1 when a gate rejected a batch as a whole (it stays pending; nothing of it is published).

Examples:
  aiready refine
  aiready refine payments --replay-quarantine   # after fixing a contract or source
  aiready refine payments --rebuild   # after a narrowing contract change: re-derive from bronze
  aiready refine payments --strict    # refuse what the contract declares but aiready cannot run
"""

from __future__ import annotations

from typing import Annotated

import typer

from aiready.cli import render
from aiready.cli._common import EngineOpt, JsonOpt, WorkspaceOpt, emit_json, load, progress


def refine(
    dataset: Annotated[str | None, typer.Argument(help="Dataset name (default: all).")] = None,
    replay_quarantine: Annotated[
        bool,
        typer.Option(
            "--replay-quarantine", help="Re-check open quarantined rows; release those that pass."
        ),
    ] = False,
    rebuild: Annotated[
        bool,
        typer.Option(
            "--rebuild",
            help="Re-derive silver and quarantine from bronze under the current contract "
            "(one new Delta version of each; history keeps the old).",
        ),
    ] = False,
    strict: Annotated[
        bool,
        typer.Option(
            "--strict",
            help="Refuse a contract that declares anything aiready does not execute "
            "(custom or engine-specific quality items, unknown metrics, unenforced options).",
        ),
    ] = False,
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
    engine: EngineOpt = None,
) -> int:
    ws = load(workspace, engine)
    with progress(not as_json, "refining") as report:
        results = ws.refine(dataset, replay_quarantine, report, rebuild=rebuild, strict=strict)
    if as_json:
        emit_json([r.asdict() for r in results])
    else:
        render.refine(results)
    return 0 if all(r.passed for r in results) else 1
