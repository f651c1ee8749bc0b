"""Open MLflow's UI on the workspace's store: runs per step, gate metrics, dataset inputs, reports.

Examples:
  aiready ui               # http://127.0.0.1:5000
  aiready ui --port 5050
"""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Annotated

import typer

from aiready import _env
from aiready.cli._common import WorkspaceOpt, console, load
from aiready.tracking import tracking_uri


def ui(
    workspace: WorkspaceOpt = None,
    host: Annotated[str, typer.Option("--host")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port")] = 5000,
) -> int:
    ws = load(workspace)
    ws.paths.mlflow_artifacts.mkdir(parents=True, exist_ok=True)
    uri = tracking_uri(ws.paths)
    experiment = ws.tracker.experiment_id  # created if no step ran yet, so the link works
    console.print(
        f"MLflow UI for workspace {ws.config.name} (store {uri}); its runs:\n"
        f"  http://{host}:{port}/#/experiments/{experiment}",
        soft_wrap=True,  # a link must survive a narrow terminal whole
    )
    env = {**os.environ, _env.MLFLOW_DISABLE_TELEMETRY: "true"}
    cmd = [
        sys.executable,
        "-m",
        "mlflow",
        "ui",
        "--backend-store-uri",
        uri,
        "--default-artifact-root",
        ws.paths.mlflow_artifacts.as_uri(),
        "--host",
        host,
        "--port",
        str(port),
    ]
    return subprocess.call(cmd, env=env)
