"""Lineage: OpenLineage events for every step, and walks over them."""

from aiready.lineage.events import DatasetRef, LineageEmitter
from aiready.lineage.graph import LineageGraph, load_runs

__all__ = ["DatasetRef", "LineageEmitter", "LineageGraph", "load_runs"]
