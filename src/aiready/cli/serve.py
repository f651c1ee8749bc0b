"""Serve the workspace to AI systems: governed query, retrieval and feedback over HTTP.

Examples:
  aiready serve                       # http://127.0.0.1:8765, OpenAPI docs at /docs
  aiready serve --host 0.0.0.0 --port 9000
Create keys first: aiready keys create --principal P
"""

from __future__ import annotations

from typing import Annotated

import typer
import uvicorn

from aiready.cli._common import WorkspaceOpt, err_console, load
from aiready.service.app import create_app


def serve(
    workspace: WorkspaceOpt = None,
    host: Annotated[str, typer.Option("--host")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port")] = 8765,
) -> int:
    ws = load(workspace)
    err_console.print(f"aiready serving {ws.config.name} on http://{host}:{port} (docs: /docs)")
    uvicorn.run(create_app(ws), host=host, port=port, log_level="warning")
    return 0
