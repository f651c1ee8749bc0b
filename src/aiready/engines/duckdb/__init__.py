"""DuckDB engine (the embedded default)."""

from aiready.engines.duckdb.gate import DuckDBGate, GateOutcome, SqlGate
from aiready.engines.runner import DuckDBRunner, SqlRunner, connect

__all__ = ["DuckDBGate", "DuckDBRunner", "GateOutcome", "SqlGate", "SqlRunner", "connect"]
