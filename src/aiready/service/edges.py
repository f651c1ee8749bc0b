"""What stands between the network and the service's logic: a body limit, bounded maps, counters.

The body limit is a pure ASGI middleware, outside everything that parses, so a body over
``MAX_BODY`` is refused with 413 while it streams (chunked or with a ``Content-Length``) and is
never held whole; authentication, routing and parsing run only on what it lets through.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from typing import Any, Generic, TypeVar

MAX_BODY = 1 << 20
"""Bytes; a larger request body is refused with 413 before it is read on."""

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

K = TypeVar("K")
V = TypeVar("V")


class Bounded(Generic[K, V]):
    """A map that keeps at most ``size`` entries, dropping the least recently touched.

    Not thread-safe on its own: its owners (limiter, sessions) hold their lock around it.
    """

    def __init__(self, size: int) -> None:
        if size < 1:
            raise ValueError("a bounded map holds at least one entry")
        self.size = size
        self._items: OrderedDict[K, V] = OrderedDict()

    def get(self, key: K) -> V | None:
        found = self._items.get(key)
        if found is not None:
            self._items.move_to_end(key)
        return found

    def peek(self, key: K) -> V | None:
        """The value without touching its recency."""
        return self._items.get(key)

    def put(self, key: K, value: V) -> None:
        self._items[key] = value
        self._items.move_to_end(key)
        while len(self._items) > self.size:
            self._items.popitem(last=False)

    def pop(self, key: K) -> V | None:
        return self._items.pop(key, None)

    def items(self) -> Iterator[tuple[K, V]]:
        return iter(list(self._items.items()))

    def __len__(self) -> int:
        return len(self._items)


class Counters:
    """Monotonic event counters of one service, shown at ``/metrics`` (Prometheus text)."""

    NAMES = {
        "auth_failures": "requests refused 401: missing, unknown, wrong or revoked key",
        "rate_limited": "requests refused 429 after repeated failed authentications",
        "body_too_large": "requests refused 413: body over the limit",
    }

    def __init__(self) -> None:
        self._counts = dict.fromkeys(self.NAMES, 0)
        self._lock = threading.Lock()

    def add(self, name: str) -> None:
        with self._lock:
            self._counts[name] += 1  # KeyError on a name not declared above

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return dict(self._counts)

    def prometheus(self) -> str:
        lines = []
        for name, value in self.snapshot().items():
            metric = f"aiready_{name}_total"
            lines += [f"# HELP {metric} {self.NAMES[name]}", f"# TYPE {metric} counter"]
            lines.append(f"{metric} {value}")
        return "\n".join(lines) + "\n"


class _TooLarge(Exception):
    """Raised into the app from ``receive`` once the body passes the limit."""


class BodyLimit:
    """Refuse request bodies over ``limit`` bytes with 413, counting them as they arrive."""

    def __init__(self, app: ASGIApp, limit: int = MAX_BODY, counters: Counters | None = None):
        self.app, self.limit, self.counters = app, limit, counters

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self._declared_too_large(scope):
            await self._refuse(send)
            return
        await self._guarded(scope, receive, send)

    def _declared_too_large(self, scope: Scope) -> bool:
        for name, value in scope.get("headers", ()):
            if name.lower() == b"content-length":
                return not value.isdigit() or int(value) > self.limit
        return False

    async def _guarded(self, scope: Scope, receive: Receive, send: Send) -> None:
        seen = 0
        over = started = False

        async def counted() -> Message:
            nonlocal seen, over
            if over:
                raise _TooLarge
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    over = True
                    raise _TooLarge
            return message

        async def watched(message: Message) -> None:
            nonlocal started
            if over:  # whatever the app makes of the cut-off body, the answer is 413
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, watched)
        except Exception:
            if not over:  # what the app made of the cut-off body does not matter
                raise
        if over and not started:
            await self._refuse(send)

    async def _refuse(self, send: Send) -> None:
        if self.counters is not None:
            self.counters.add("body_too_large")
        body = f'{{"error": "request body over {self.limit} bytes"}}'.encode()
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"connection", b"close"),
        ]
        await send({"type": "http.response.start", "status": 413, "headers": headers})
        await send({"type": "http.response.body", "body": body})
