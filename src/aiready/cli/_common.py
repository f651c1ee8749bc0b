"""Shared CLI options and output: Rich for people, ``--json`` for machines."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from aiready.workspace import Workspace

console = Console()
err_console = Console(stderr=True)

WorkspaceOpt = Annotated[
    Path | None,
    typer.Option(
        "-w",
        "--workspace",
        help="Workspace folder (default: $AIREADY_WORKSPACE, else the nearest folder upwards "
        "with an aiready.yaml).",
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the result object as JSON.")]
EngineOpt = Annotated[
    str | None,
    typer.Option(
        "--engine",
        envvar="AIREADY_ENGINE",
        help="Engine for gates and models: duckdb or spark (default: aiready.yaml's `engine:`).",
    ),
]


def load(workspace: Path | None, engine: str | None = None) -> Workspace:
    return Workspace.load(workspace, engine)


def emit_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")


@contextmanager
def progress(enabled: bool, label: str) -> Iterator[Callable[[str], None] | None]:
    """A Rich spinner naming the file or batch being worked on (off for --json)."""
    if not enabled:
        yield None
        return
    with Progress(
        SpinnerColumn(),
        TextColumn("[bold]{task.description}"),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
    ) as bar:
        task = bar.add_task(label)
        yield lambda item: bar.update(task, description=f"{label} {item}")
