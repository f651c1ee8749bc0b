"""The in-process DuckDB every part of aiready starts from: in memory, in UTC, offline.

Engines run gates and models on it, and governed relations are read through it from a
snapshot's Parquet files before they are handed to the sandbox (``policy/sandbox.py``).
"""

from __future__ import annotations

from typing import Any

import duckdb


def connect(
    memory_limit: str | None = None, temp_directory: str | None = None
) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB that never tries to download an extension, in UTC.

    With ``memory_limit``, DuckDB spills what does not fit to ``temp_directory`` (never to its
    default, ``.tmp`` in whatever directory the process was started from).
    """
    config: dict[str, Any] = {
        "autoinstall_known_extensions": False,
        "autoload_known_extensions": False,
    }
    if memory_limit is not None:
        config["memory_limit"] = memory_limit
    if temp_directory is not None:
        config["temp_directory"] = temp_directory
    con = duckdb.connect(config=config)
    con.execute("SET TimeZone = 'UTC'")
    return con
