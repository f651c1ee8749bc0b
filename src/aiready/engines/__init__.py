"""Engine registry: the core asks for an engine by name and never imports one directly."""

from __future__ import annotations

import importlib
from typing import Any

from aiready.errors import ConfigError

ENGINES: dict[str, str] = {"duckdb": "aiready.engines.duckdb:DuckDBGate"}


def get_engine(name: str = "duckdb") -> Any:
    """Instantiate the gate engine registered under ``name``."""
    try:
        module, _, attr = ENGINES[name].partition(":")
    except KeyError as exc:
        raise ConfigError(
            f"unknown engine {name!r}; known: {sorted(ENGINES)}", key="engine"
        ) from exc
    return getattr(importlib.import_module(module), attr)()
