"""The one door both the API and the console authenticate through.

It limits failed authentications per client, counts every refusal and audits it as a deny, so
a key guessed at over HTTP or through the console sign-in leaves the same trace. The client is
the socket peer: ``X-Forwarded-For`` counts only when the operator names trusted proxies (see
``service.server``). An IPv6 client is limited by its /64, the block one subscriber gets.
"""

from __future__ import annotations

import ipaddress
import threading
import time
from collections import deque
from pathlib import Path

from fastapi import HTTPException, Request

from aiready.config.paths import Paths
from aiready.policy import audit
from aiready.policy.engine import Decision
from aiready.service import keys
from aiready.service.edges import Bounded, Counters

MAX_CLIENTS = 10_000
"""Client addresses the limiter remembers; the least recently failing are forgotten first."""


class FailureLimiter:
    """At most ``limit`` failed authentications per client address in ``window`` seconds.

    Memory is bounded: at most ``clients`` addresses are remembered, and only failing ones.
    """

    def __init__(self, limit: int = 20, window: float = 60.0, clients: int = MAX_CLIENTS) -> None:
        self.limit, self.window = limit, window
        self._fails: Bounded[str, deque[float]] = Bounded(clients)
        self._lock = threading.Lock()

    def _recent(self, client: str, now: float) -> deque[float] | None:
        fails = self._fails.get(client)
        while fails and fails[0] < now - self.window:
            fails.popleft()
        return fails

    def blocked(self, client: str) -> bool:
        with self._lock:
            fails = self._recent(client, time.monotonic())
            return fails is not None and len(fails) >= self.limit

    def fail(self, client: str) -> None:
        with self._lock:
            now = time.monotonic()
            fails = self._recent(client, now)
            if fails is None:
                fails = deque(maxlen=self.limit)
                self._fails.put(client, fails)
            fails.append(now)

    def __len__(self) -> int:
        return len(self._fails)


def client_of(request: Request) -> str:
    """The address the limiter counts for ``request`` (an IPv6 peer by its /64)."""
    host = request.client.host if request.client else "unknown"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


class Gate:
    """Authentication with a limiter, counters and an audited deny for every refusal."""

    def __init__(
        self, paths: Paths, audit_path: Path, limiter: FailureLimiter, counters: Counters
    ) -> None:
        self.paths, self.audit_path = paths, audit_path
        self.limiter, self.counters = limiter, counters

    def admit(self, client: str) -> None:
        """Refuse a client that failed too often lately with 429 (before any key is checked)."""
        if self.limiter.blocked(client):
            self.counters.add("rate_limited")
            raise HTTPException(429, "too many failed authentications; try later")

    def identify(self, client: str, key: str, resource: str) -> keys.Identity:
        """Who ``key`` is; a refusal is counted, limited and audited before it is returned."""
        found = keys.authenticate(self.paths, key)
        if found.principal is None:
            self.limiter.fail(client)
            self.refused(found, resource)
        return found

    def refused(self, found: keys.Identity, resource: str) -> None:
        """Count and audit one refused authentication (principal: key id or anonymous)."""
        self.counters.add("auth_failures")
        decision = Decision(
            found.audited_as(), "authenticate", resource, "", False, [], found.reason
        )
        audit.append(self.audit_path, self.paths.locks, [decision])
