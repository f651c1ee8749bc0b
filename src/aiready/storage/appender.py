"""Background group commit for telemetry tables (the retrieval log): ``put`` never waits on Delta.

Rows are appended in batches by one thread per table; ``flush()`` waits for everything queued so
far, and the process flushes at exit. Use it only for records whose loss in a hard crash is
acceptable (telemetry), never for audit or feedback, which commit before the caller returns.
"""

from __future__ import annotations

import atexit
import queue
import threading
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import pyarrow as pa

from aiready.storage import delta


class Appender:
    def __init__(self, path: Path, schema: pa.Schema) -> None:
        self.path, self.schema = path, schema
        self._queue: queue.Queue[dict[str, Any] | Future[None]] = queue.Queue()
        threading.Thread(target=self._run, name=f"append-{path.name}", daemon=True).start()
        atexit.register(self.flush)

    def put(self, row: dict[str, Any]) -> None:
        self._queue.put(row)

    def flush(self, timeout: float = 60.0) -> None:
        done: Future[None] = Future()
        self._queue.put(done)
        done.result(timeout=timeout)

    def _run(self) -> None:
        while True:
            items = [self._queue.get()]
            while True:
                try:
                    items.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            rows = [i for i in items if isinstance(i, dict)]
            waiters = [i for i in items if isinstance(i, Future)]
            try:
                if rows:
                    delta.append(self.path, pa.Table.from_pylist(rows, schema=self.schema))
            except Exception as exc:  # noqa: BLE001 - reported to whoever flushes
                for waiter in waiters:
                    waiter.set_exception(exc)
                continue
            for waiter in waiters:
                waiter.set_result(None)


_appenders: dict[Path, Appender] = {}
_lock = threading.Lock()


def appender(path: Path, schema: pa.Schema) -> Appender:
    """The process's appender for ``path``."""
    with _lock:
        if path not in _appenders:
            _appenders[path] = Appender(path, schema)
        return _appenders[path]
