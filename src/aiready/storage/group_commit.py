"""Group commit: one daemon thread per target drains a queue and commits what is queued as a batch.

A burst of concurrent writes becomes a handful of commits, not one racing commit each. Every
item gets a Future, resolved with its result when its batch commits, or with the batch's error
(which reaches exactly the callers of that batch; the writer goes on with the next one).

Two modes, chosen by the class so a writer cannot be used the wrong way:

- ``Durable`` (the audit, feedback): ``put`` waits for the item's commit, so an answered request
  is a durable record.
- ``Telemetry`` (the retrieval log): ``put`` returns at once; ``flush`` waits for everything
  queued so far. Only for records whose loss in a hard crash is acceptable.

Every writer is flushed when the process exits. ``shared`` keeps one writer (or the object that
owns it) per target and process.
"""

from __future__ import annotations

import atexit
import logging
import queue
import threading
from collections.abc import Callable, Hashable, Sequence
from concurrent.futures import Future
from typing import Any, Generic, TypeVar, cast

T = TypeVar("T")
R = TypeVar("R")
S = TypeVar("S")
log = logging.getLogger(__name__)

_Entry = tuple[T, Future[R]]


class GroupCommit(Generic[T, R]):
    """The queue, its thread and ``flush``; ``commit`` gets a batch's items and returns one
    result per item, in order. ``tick`` (the audit's fold) runs after every committed batch and
    after ``idle`` seconds without one."""

    def __init__(
        self,
        name: str,
        commit: Callable[[list[T]], Sequence[R]],
        tick: Callable[[], None] | None = None,
        idle: float | None = None,
    ) -> None:
        self.name = name
        self._commit, self._tick, self._idle = commit, tick, idle
        self._queue: queue.Queue[_Entry[T, R] | Future[None]] = queue.Queue()
        threading.Thread(target=self._run, name=name, daemon=True).start()
        atexit.register(self.flush)

    def submit(self, item: T) -> Future[R]:
        """Queue ``item``; the Future resolves with its result once its batch is committed."""
        future: Future[R] = Future()
        self._queue.put((item, future))
        return future

    def flush(self, timeout: float | None = 60.0) -> None:
        """Wait until everything queued before this call is committed; raises the error of the
        batch this call's marker was committed with."""
        done: Future[None] = Future()
        self._queue.put(done)
        done.result(timeout=timeout)

    def _run(self) -> None:
        while True:
            try:
                batch = [self._queue.get(timeout=self._idle)]
            except queue.Empty:
                self._ticked()
                continue
            while True:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            if self._committed(batch):
                self._ticked()

    def _committed(self, batch: list[_Entry[T, R] | Future[None]]) -> bool:
        entries = [e for e in batch if not isinstance(e, Future)]
        flushes = [e for e in batch if isinstance(e, Future)]
        try:
            results = self._commit([item for item, _ in entries]) if entries else []
            if len(results) != len(entries):
                raise RuntimeError(f"{self.name}: {len(results)} results for {len(entries)} items")
        except BaseException as exc:  # noqa: BLE001 - every caller of the batch gets the error
            for _, future in entries:
                future.set_exception(exc)
            for done in flushes:
                done.set_exception(exc)
            return False
        for (_, future), result in zip(entries, results, strict=True):
            future.set_result(result)
        for done in flushes:
            done.set_result(None)
        return True

    def _ticked(self) -> None:
        if self._tick is None:
            return
        try:
            self._tick()
        except Exception:  # the writer must outlive a failing tick
            log.exception("%s: tick failed", self.name)


class Durable(GroupCommit[T, R]):
    """``put`` returns once the item is committed (its result), or raises its batch's error."""

    def put(self, item: T, timeout: float | None = None) -> R:
        return self.submit(item).result(timeout=timeout)


class Telemetry(GroupCommit[T, None]):
    """``put`` returns at once; call ``flush`` to wait (and see a failed commit)."""

    def __init__(self, name: str, commit: Callable[[list[T]], object]) -> None:
        def each(items: list[T]) -> list[None]:
            commit(items)
            return [None] * len(items)

        super().__init__(name, each)

    def put(self, item: T) -> None:
        self.submit(item)


_shared: dict[Hashable, Any] = {}
_shared_lock = threading.Lock()


def shared(key: Hashable, make: Callable[[], S]) -> S:
    """The process's one object for ``key`` (a writer's target), made by ``make`` on first use."""
    with _shared_lock:
        if key not in _shared:
            _shared[key] = make()
        return cast(S, _shared[key])


def every(kind: type[S]) -> list[S]:
    """The shared objects of type ``kind`` made so far."""
    with _shared_lock:
        return [v for v in _shared.values() if isinstance(v, kind)]
