"""`aiready ui` serves MLflow's UI over the workspace's own store on 127.0.0.1."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import WorkspaceFactory

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - loopback only
        return bytes(response.read())


def test_ui_shows_the_workspace_experiment(
    make_workspace: WorkspaceFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AIREADY_MLFLOW__ENABLED", "true")
    ws = make_workspace(files={"data/a.csv": "id,amount,currency\n1,2,EUR\n"})
    ws.run()
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "aiready", "ui", "-w", str(ws.root), "--port", str(port)],
        env={**os.environ},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                assert get(f"{base}/health") == b"OK"
                break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise
                time.sleep(0.5)
        found = json.loads(
            get(f"{base}/api/2.0/mlflow/experiments/get-by-name?experiment_name=testws")
        )
        assert found["experiment"]["name"] == "testws"
        assert Path(ws.root / ".aiready/mlflow.db").is_file()
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.communicate(timeout=30)
