"""Publish gold models: run each model's SQL, gate the result, write a new version all-or-nothing.

Models run in dependency order (read from their SQL). Exit code 1 when a model's gate failed: its
previous gold version stays current.

Examples:
  aiready publish
  aiready publish customer_value --json
"""

from __future__ import annotations

from typing import Annotated

import typer

from aiready.cli import render
from aiready.cli._common import EngineOpt, JsonOpt, WorkspaceOpt, emit_json, load, progress


def publish(
    model: Annotated[str | None, typer.Argument(help="Model name (default: all).")] = None,
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
    engine: EngineOpt = None,
) -> int:
    ws = load(workspace, engine)
    with progress(not as_json, "publishing") as report:
        results = ws.publish(model, report)
    if as_json:
        emit_json([r.asdict() for r in results])
    else:
        render.publish(results)
    return 0 if all(r.published for r in results) else 1
