"""DuckDB engine (the embedded default)."""

from aiready.engines.duckdb.gate import DuckDBGate, GateOutcome, connect

__all__ = ["DuckDBGate", "GateOutcome", "connect"]
