"""How the service is put on the network: one uvicorn configuration, for `aiready serve` and tests.

uvicorn trusts ``X-Forwarded-For`` from 127.0.0.1 (or ``$FORWARDED_ALLOW_IPS``) by default, which
lets any local client pick the address the failure limiter counts. Here proxy headers are read
only when the operator names the proxies, and then only from those addresses.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import uvicorn

from aiready._env import AIREADY_SERVICE__TRUSTED_PROXIES


def trusted_from_env() -> list[str]:
    """Proxy addresses named in ``AIREADY_SERVICE__TRUSTED_PROXIES`` (comma-separated)."""
    raw = os.environ.get(AIREADY_SERVICE__TRUSTED_PROXIES, "")
    return [p.strip() for p in raw.split(",") if p.strip()]


def config(
    app: Any,
    host: str = "127.0.0.1",
    port: int = 8765,
    trusted_proxies: Sequence[str] = (),
    log_level: str = "warning",
) -> uvicorn.Config:
    """A uvicorn configuration that reads proxy headers only from ``trusted_proxies``."""
    trusted = [p.strip() for p in trusted_proxies if p.strip()]
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level=log_level,
        proxy_headers=bool(trusted),
        forwarded_allow_ips=trusted,
    )
