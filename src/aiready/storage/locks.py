"""Per-dataset advisory locks, so two aiready processes never interleave one dataset's steps.

Delta itself loses no appends under concurrency; the lock is what keeps the *protocol* (ledger
check → write → ledger entry) atomic between processes on one machine, e.g. two `ingest` runs
seeing the same new file.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from aiready import _env
from aiready.errors import StorageError


@contextmanager
def dataset_lock(lock_dir: Path, name: str) -> Iterator[None]:
    """Hold the exclusive lock of dataset ``name`` for the duration of the block."""
    lock_dir.mkdir(parents=True, exist_ok=True)
    timeout = float(os.environ.get(_env.AIREADY_LOCK_TIMEOUT_S, "600"))
    deadline = time.monotonic() + timeout
    with open(lock_dir / f"{name}.lock", "a+") as handle:
        while True:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError as exc:
                if time.monotonic() > deadline:
                    raise StorageError(
                        "another aiready process holds the lock", dataset=name
                    ) from exc
                time.sleep(0.05)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
