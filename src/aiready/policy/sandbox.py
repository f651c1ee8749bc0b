"""The sandbox user SQL runs in: a DuckDB connection that can see nothing but what it was given.

Governed SQL and retrieval filters are untrusted text. Instead of proving that a query cannot
name a file, a table function or another table (a check an unexpected query shape slips past),
the query runs where there is nothing else to name: a fresh in-memory connection holding only the
Arrow relations registered for this request — already masked, filtered and cut to the permitted
columns — with external access disabled and the configuration locked, so no file, URL, extension,
``ATTACH``, ``COPY`` or setting can be reached. What remains reachable (``query('…')``,
``duckdb_settings()``) can only see those same relations.

Every query has a time limit; past it the connection is interrupted from a timer thread.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

import duckdb
import pyarrow as pa

from aiready.policy.errors import PolicyError

DEFAULT_TIMEOUT_S = 30.0


class QueryTimeout(PolicyError):
    """A governed query ran past its time limit and was interrupted."""

    exit_code = 1


def _connect() -> duckdb.DuckDBPyConnection:
    return duckdb.connect(
        ":memory:",
        config={
            "autoinstall_known_extensions": False,
            "autoload_known_extensions": False,
            "allow_community_extensions": False,
        },
    )


def _lock(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """No file, URL or setting from here on: registered relations are all there is."""
    con.execute("SET enable_external_access = false")
    con.execute("SET lock_configuration = true")
    return con


def open_sandbox(relations: Mapping[str, Any]) -> duckdb.DuckDBPyConnection:
    """A connection that sees only ``relations`` (name → Arrow table or dataset)."""
    con = _connect()
    con.execute("SET TimeZone = 'UTC'")
    for name, relation in relations.items():
        con.register(name, relation)
    return _lock(con)


_shared: duckdb.DuckDBPyConnection | None = None
_shared_lock = threading.Lock()


def cursor(relations: Mapping[str, Any]) -> duckdb.DuckDBPyConnection:
    """A cursor on one shared, locked sandbox that sees only ``relations`` (registered on the
    cursor, so no other cursor sees them); close it when done.

    For the SQL aiready writes itself over those relations (masks, bound row filters), where a
    new connection per call (~30 ms) would dominate; user SQL gets its own ``open_sandbox``.
    """
    global _shared
    with _shared_lock:
        if _shared is None:
            base = _connect()
            base.execute("SET GLOBAL TimeZone = 'UTC'")
            _shared = _lock(base)
        cur = _shared.cursor()
    for name, relation in relations.items():
        cur.register(name, relation)
    return cur


def run(con: duckdb.DuckDBPyConnection, sql: str, timeout_s: float = DEFAULT_TIMEOUT_S) -> pa.Table:
    """Run ``sql`` in ``con``; interrupt it after ``timeout_s`` seconds."""
    expired = threading.Event()
    lock = threading.Lock()  # the timer never interrupts a connection being closed
    done = False

    def stop() -> None:
        with lock:
            if not done:
                expired.set()
                con.interrupt()

    timer = threading.Timer(timeout_s, stop)
    timer.daemon = True
    timer.start()
    try:
        return con.sql(sql).to_arrow_table()
    except duckdb.Error as exc:
        if expired.is_set():
            raise QueryTimeout(
                f"query ran past its time limit of {timeout_s:g} s and was stopped",
                timeout_s=timeout_s,
            ) from None
        first = str(exc).splitlines()[0]
        raise PolicyError(f"query failed: {first}") from None
    finally:
        timer.cancel()
        with lock:
            done = True
            con.close()
