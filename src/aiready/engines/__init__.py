"""Engine registry: the core asks for an engine by name and never imports one directly."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any, Literal, Protocol

import pyarrow as pa

from aiready.config.models import ENGINE_NAMES
from aiready.errors import ConfigError

if TYPE_CHECKING:
    from aiready.contracts import CompiledContract
    from aiready.engines.duckdb.gate import GateOutcome
    from aiready.storage.delta import Snapshot

ENGINES: dict[str, str] = {
    "duckdb": "aiready.engines.duckdb:DuckDBGate",
    "spark": "aiready.engines.spark:SparkGate",
}
assert tuple(ENGINES) == ENGINE_NAMES, "aiready.config names the engines this registry holds"
EXTRAS = {"spark": "pyspark"}
"""The package an engine needs beyond the core, for the error that says how to install it."""


class GateEngine(Protocol):
    """What an engine offers the layers: gate one batch, and run a gold model's SQL."""

    name: str

    def check(
        self,
        contract: CompiledContract,
        batch: pa.Table | Snapshot,
        batch_id: str,
        present: list[str],
        silver: Snapshot | None,
        mode: Literal["append", "merge"],
        dataset: str,
        source_file: str,
        references: dict[str, Snapshot | None] | None = None,
    ) -> GateOutcome: ...

    def query(self, sql: str, tables: dict[str, list[str] | pa.Table]) -> pa.Table:
        """Run a model's DuckDB-dialect SELECT; ``tables`` maps ``layer.name`` to its data."""
        ...


def get_engine(name: str = "duckdb", **options: Any) -> GateEngine:
    """Instantiate the gate engine registered under ``name`` (``options`` go to its constructor)."""
    try:
        module, _, attr = ENGINES[name].partition(":")
    except KeyError as exc:
        raise ConfigError(
            f"unknown engine {name!r}; known: {sorted(ENGINES)}", key="engine"
        ) from exc
    _require_extra(name)
    try:
        loaded = importlib.import_module(module)
    except ImportError as exc:
        if name not in EXTRAS or exc.name is None or not exc.name.startswith(EXTRAS[name]):
            raise
        raise _missing(name, exc) from exc
    engine: GateEngine = getattr(loaded, attr)(**options)
    return engine


def _require_extra(name: str) -> None:
    """Import the engine's extra package on its own first, so a missing or broken install (any
    ImportError, also of its own dependencies such as py4j) is a config error, not an internal one;
    an ImportError in our engine module after that stays an internal error."""
    if name not in EXTRAS:
        return
    try:
        importlib.import_module(EXTRAS[name])
    except ImportError as exc:
        raise _missing(name, exc) from exc


def _missing(name: str, exc: ImportError) -> ConfigError:
    return ConfigError(
        f"engine {name!r} needs {EXTRAS[name]}, which cannot be imported ({exc}): "
        f"pip install 'aiready[{name}]'",
        key="engine",
    )
