"""Lineage: OpenLineage events for every step, and walks over them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiready.lineage.graph import LineageGraph, load_runs
from aiready.lineage.refs import DatasetRef

if TYPE_CHECKING:
    from aiready.lineage.events import LineageEmitter

__all__ = ["DatasetRef", "LineageEmitter", "LineageGraph", "load_runs"]


def __getattr__(name: str) -> Any:
    """``LineageEmitter`` loads openlineage, so it is imported when first asked for."""
    if name == "LineageEmitter":
        from aiready.lineage.events import LineageEmitter

        return LineageEmitter
    raise AttributeError(name)
