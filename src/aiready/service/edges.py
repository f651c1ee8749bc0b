"""What stands between the network and the service's logic: a body limit, bounded maps, counters.

The body limit is a pure ASGI middleware, outside everything that parses, so a body over
``MAX_BODY`` is refused with 413 while it streams (chunked or with a ``Content-Length``) and is
never held past the limit; routing, authentication and parsing run only on what it lets through.
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


class BodyLimit:
    """Refuse request bodies over ``limit`` bytes with 413, counting them as they arrive.

    The body is read (at most ``limit`` bytes of it) before the app runs and handed to it whole:
    an endpoint that ignores bodies cannot let a huge one through, and nothing the app does
    (authentication included) happens for a request that is refused.
    """

    def __init__(self, app: ASGIApp, limit: int = MAX_BODY, counters: Counters | None = None):
        self.app, self.limit, self.counters = app, limit, counters

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self._declared_too_large(scope):
            await self._refuse(send)
            return
        body = await self._read(receive)
        if body is None:
            await self._refuse(send)
            return
        if isinstance(body, bytes):
            await self.app(scope, _replay(body, receive), send)
        # else the client left before its body was complete: nobody to answer

    def _declared_too_large(self, scope: Scope) -> bool:
        for name, value in scope.get("headers", ()):
            if name.lower() == b"content-length":
                return not value.isdigit() or int(value) > self.limit
        return False

    async def _read(self, receive: Receive) -> bytes | None | bool:
        """The whole body; None past the limit; False if the client disconnected first."""
        chunks: list[bytes] = []
        seen = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return False
            chunk = message.get("body", b"")
            seen += len(chunk)
            if seen > self.limit:
                return None
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)

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


def _replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that gives the read body once, then what the server says next."""
    given = False

    async def replayed() -> Message:
        nonlocal given
        if given:
            return await receive()
        given = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replayed
