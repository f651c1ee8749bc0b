"""Serve the workspace to AI systems: governed query, retrieval and feedback over HTTP.

Examples:
  aiready serve                       # http://127.0.0.1:8765, OpenAPI docs at /docs
  aiready serve --host 0.0.0.0 --port 9000
  aiready serve --trusted-proxy 10.0.0.5   # believe X-Forwarded-For from that proxy only
Create keys first: aiready keys create --principal P
"""

from __future__ import annotations

from typing import Annotated

import typer

from aiready.cli._common import WorkspaceOpt, err_console, load


def serve(
    workspace: WorkspaceOpt = None,
    host: Annotated[str, typer.Option("--host")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port")] = 8765,
    trusted_proxy: Annotated[
        list[str] | None,
        typer.Option(
            "--trusted-proxy",
            help="A proxy address (or CIDR) whose X-Forwarded-For is believed; repeatable. "
            "Default: none, the client is the socket peer.",
        ),
    ] = None,
) -> int:
    import uvicorn  # the web stack loads only for `serve`, so other commands start fast

    from aiready.service import server
    from aiready.service.app import create_app

    ws = load(workspace)
    trusted = [*(trusted_proxy or []), *server.trusted_from_env()]
    err_console.print(f"aiready serving {ws.config.name} on http://{host}:{port} (docs: /docs)")
    uvicorn.Server(server.config(create_app(ws), host, port, trusted)).run()
    return 0
