"""`aiready ui` starts the MLflow UI on the workspace's store and prints the link to its runs."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_ui_link_opens_on_the_workspace_experiment(tmp_path: Path) -> None:
    ws = tmp_path / "shop"
    env = {**os.environ, "MLFLOW_DISABLE_TELEMETRY": "true"}
    env.pop("AIREADY_MLFLOW__ENABLED", None)
    subprocess.run([sys.executable, "-m", "aiready", "init", str(ws)], check=True, env=env)
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "aiready", "ui", "-w", str(ws), "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
        start_new_session=True,
    )
    try:
        assert proc.stdout is not None
        head = proc.stdout.readline() + proc.stdout.readline()
        link = re.search(r"http://127\.0\.0\.1:(\d+)/#/experiments/(\d+)", head)
        assert link is not None, head
        assert int(link.group(1)) == port
        api = (
            f"http://127.0.0.1:{port}/ajax-api/2.0/mlflow/experiments/get"
            f"?experiment_id={link.group(2)}"
        )
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(api, timeout=5) as response:
                    body = json.load(response)
                break
            except OSError:
                assert time.monotonic() < deadline, "MLflow UI did not answer"
                time.sleep(0.5)
        assert body["experiment"]["name"] == "shop"
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.communicate(timeout=30)  # also closes the stdout pipe
