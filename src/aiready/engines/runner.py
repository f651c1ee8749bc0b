"""Where gate and model SQL runs. The SQL is written once, in DuckDB's dialect; a runner executes
it, and a runner for another engine transpiles it first (``aiready.engines.spark``).

The gate only needs a handful of operations: name a relation (from Parquet files, an Arrow table
or a query), materialise one, and read results as Arrow. Keeping that surface small is what lets
DuckDB and Spark run the same plan and give the same answer.
"""

from __future__ import annotations

from typing import Any, Protocol

import duckdb
import pyarrow as pa

from aiready.localdb import connect as connect  # re-exported: engines start from it
from aiready.sqltext import lit


class SqlRunner(Protocol):
    """Executes DuckDB-dialect SQL against named temporary relations."""

    name: str
    errors: tuple[type[BaseException], ...]
    """Exceptions that mean "this SQL failed" (turned into ContractError/ConfigError)."""

    def files_view(self, name: str, files: list[str], where: str | None = None) -> None:
        """``name`` reads exactly these Parquet files (a Delta snapshot), unioned by name."""

    def table_view(self, name: str, table: pa.Table) -> None:
        """``name`` reads an Arrow table."""

    def view(self, name: str, select: str) -> None:
        """``name`` is a (lazy) view over ``select``."""

    def materialize(self, name: str, select: str) -> None:
        """``name`` holds the result of ``select``, computed once."""

    def one(self, select: str) -> tuple[Any, ...]:
        """The first row of ``select``."""

    def reader(self, select: str) -> pa.RecordBatchReader:
        """The result of ``select`` as a stream."""

    def table(self, select: str) -> pa.Table:
        """The result of ``select`` as a table."""

    def drop(self, *names: str) -> None:
        """Forget these relations (missing ones are ignored)."""


class DuckDBRunner:
    """The embedded default: one in-memory DuckDB connection."""

    name = "duckdb"
    errors: tuple[type[BaseException], ...] = (duckdb.Error,)

    def __init__(self, con: duckdb.DuckDBPyConnection | None = None) -> None:
        self.con = con or connect()
        self._kinds: dict[str, str] = {}

    def files_view(self, name: str, files: list[str], where: str | None = None) -> None:
        listed = ", ".join(lit(f) for f in files)
        condition = f" WHERE {where}" if where else ""
        self.view(name, f"SELECT * FROM read_parquet([{listed}], union_by_name = true){condition}")

    def table_view(self, name: str, table: pa.Table) -> None:
        self.con.register(name, table)
        self._kinds[name] = "registered"

    def view(self, name: str, select: str) -> None:
        self.con.execute(f"CREATE OR REPLACE TEMP VIEW {name} AS {select}")
        self._kinds[name] = "VIEW"

    def materialize(self, name: str, select: str) -> None:
        self.con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS {select}")
        self._kinds[name] = "TABLE"

    def one(self, select: str) -> tuple[Any, ...]:
        rows = self.con.execute(select).fetchall()  # fully consumed (DuckDB 2.0 requires it)
        return tuple(rows[0]) if rows else ()

    def reader(self, select: str) -> pa.RecordBatchReader:
        result: pa.RecordBatchReader = self.con.sql(select).arrow()
        return result

    def table(self, select: str) -> pa.Table:
        result: pa.Table = self.con.sql(select).to_arrow_table()
        return result

    def drop(self, *names: str) -> None:
        for name in names:
            kind = self._kinds.pop(name, None)
            if kind == "registered":
                self.con.unregister(name)
            elif kind is not None:
                self.con.execute(f"DROP {kind} IF EXISTS {name}")
