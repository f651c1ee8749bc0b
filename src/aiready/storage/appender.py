"""Background group commit for telemetry tables (the retrieval log): ``put`` never waits on Delta.

Rows are appended in batches by one thread per table; ``flush()`` waits for everything queued so
far, and the process flushes at exit. Use it only for records whose loss in a hard crash is
acceptable (telemetry), never for audit or feedback, which commit before the caller returns.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa

from aiready.storage import delta
from aiready.storage.group_commit import Telemetry, shared

Appender = Telemetry[dict[str, Any]]


def appender(path: Path, schema: pa.Schema) -> Appender:
    """The process's appender for ``path``."""

    def commit(rows: list[dict[str, Any]]) -> None:
        delta.append(path, pa.Table.from_pylist(rows, schema=schema))

    return shared(("append", path), lambda: Appender(f"append-{path.name}", commit))
