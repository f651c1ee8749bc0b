"""The description an LLM or agent needs to use a dataset correctly, as the caller may see it.

Examples:
  aiready context customer_value --principal churn-bot --purpose churn --format markdown
  aiready context payments --principal alice --purpose fraud --format json
"""

from __future__ import annotations

import sys
from typing import Annotated, Literal

import typer

from aiready.catalog import to_markdown
from aiready.cli._common import WorkspaceOpt, emit_json, load


def context(
    name: Annotated[str, typer.Argument(help="Dataset or model.")],
    principal: Annotated[str, typer.Option("--principal")],
    purpose: Annotated[str, typer.Option("--purpose")] = "",
    fmt: Annotated[Literal["json", "markdown"], typer.Option("--format")] = "markdown",
    workspace: WorkspaceOpt = None,
) -> int:
    ctx = load(workspace).context(name, principal, purpose)
    if fmt == "json":
        emit_json(ctx)
    else:
        sys.stdout.write(to_markdown(ctx))
    return 0
