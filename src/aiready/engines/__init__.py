"""Engine registry: the core asks for an engine by name and never imports one directly."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Literal, Protocol

import pyarrow as pa

from aiready.errors import ConfigError

if TYPE_CHECKING:
    from aiready.contracts import CompiledContract
    from aiready.engines.duckdb.gate import GateOutcome
    from aiready.storage.delta import Snapshot

ENGINES: dict[str, str] = {"duckdb": "aiready.engines.duckdb:DuckDBGate"}


class GateEngine(Protocol):
    """What an engine offers the layers: run a contract's rules over one batch."""

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
    ) -> GateOutcome: ...


def get_engine(name: str = "duckdb") -> GateEngine:
    """Instantiate the gate engine registered under ``name``."""
    try:
        module, _, attr = ENGINES[name].partition(":")
    except KeyError as exc:
        raise ConfigError(
            f"unknown engine {name!r}; known: {sorted(ENGINES)}", key="engine"
        ) from exc
    engine: GateEngine = getattr(importlib.import_module(module), attr)()
    return engine
