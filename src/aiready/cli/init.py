"""Create a workspace with an example operational and strategic dataset and their contracts.

Examples:
  aiready init shop
  cd shop && aiready run && aiready status
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from aiready.cli._common import JsonOpt, console, emit_json
from aiready.demo import write_workspace
from aiready.errors import ConfigError


def init(
    directory: Annotated[Path, typer.Argument(help="Folder to create the workspace in.")],
    name: Annotated[str | None, typer.Option("--name", help="Workspace name.")] = None,
    as_json: JsonOpt = False,
) -> int:
    if (directory / "aiready.yaml").exists():
        raise ConfigError("a workspace already exists here", file=str(directory / "aiready.yaml"))
    ws_name = name or "".join(c if c.isalnum() else "_" for c in directory.resolve().name) or "shop"
    if not ws_name[0].isalpha():
        ws_name = f"ws_{ws_name}"
    write_workspace(directory, ws_name, payments=1000, customers=200)
    if as_json:
        emit_json({"workspace": ws_name, "path": str(directory.resolve())})
    else:
        console.print(
            f"created workspace [bold]{ws_name}[/] in {directory}\n"
            f"next: aiready run -w {directory} && aiready status -w {directory}"
        )
    return 0
