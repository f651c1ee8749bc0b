"""A real uvicorn on 127.0.0.1 in a thread, for tests that talk HTTP to an app in-process."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import uvicorn

from aiready.service import server as service_server


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serving(app: Any, trusted_proxies: tuple[str, ...] = ()) -> Iterator[str]:
    """Serve ``app`` as `aiready serve` would until the block ends; yields its base URL once
    /health answers."""
    port = free_port()
    config = service_server.config(app, "127.0.0.1", port, trusted_proxies, "critical")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.1)
    try:
        yield url
    finally:
        server.should_exit = True
        thread.join(timeout=10)
