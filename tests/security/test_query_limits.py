"""A governed query past its time limit is stopped; the server answers; SIGTERM stops it."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from tests.security.conftest import build_fortress
from tests.serving import free_port

ENDLESS = (
    "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 1000000000000) "
    "SELECT count(*) AS n FROM r"
)


def test_slow_query_is_stopped_and_the_server_stays_responsive(tmp_path: Path) -> None:
    fortress = build_fortress(tmp_path)
    with (tmp_path / "aiready.yaml").open("a") as f:
        f.write("query:\n  timeout_seconds: 2\n")
    port = free_port()
    env = {**os.environ, "MLFLOW_DISABLE_TELEMETRY": "true"}
    server = subprocess.Popen(
        [sys.executable, "-m", "aiready", "serve", "--port", str(port), "-w", str(tmp_path)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    headers = {"Authorization": f"Bearer {fortress.key}"}
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        answers: list[httpx.Response] = []

        def slow() -> None:
            body = {"sql": ENDLESS, "purpose": "analytics"}
            answers.append(httpx.post(f"{url}/query", json=body, headers=headers, timeout=60))

        worker = threading.Thread(target=slow)
        worker.start()
        time.sleep(0.5)
        assert httpx.get(f"{url}/health", timeout=5).status_code == 200  # not blocked
        worker.join(timeout=60)
        [answer] = answers
        assert answer.status_code == 400
        assert "time limit of 2 s" in answer.json()["message"]
        # a second endless query in flight, then SIGTERM: the server stops, the query with it
        worker = threading.Thread(target=lambda: _ignore(slow))
        worker.start()
        time.sleep(0.5)
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=30) is not None
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()


def _ignore(call: Callable[[], None]) -> None:
    with contextlib.suppress(httpx.HTTPError):  # the server went away mid-request, as asked
        call()
