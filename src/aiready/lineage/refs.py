"""What a step read and wrote, as plain data: the lineage events are built from it on emit.

Kept apart from ``events`` so that importing aiready does not import openlineage (~0.3 s).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

FILE_NAMESPACE = "file"


@dataclass
class DatasetRef:
    """One input or output of a step, with what lineage needs to know of it."""

    name: str
    version: int | str | None = None
    namespace: str | None = None
    """None: the workspace namespace."""
    fields: list[tuple[str, str]] = field(default_factory=list)
    rows: int | None = None
    batches: list[dict[str, Any]] = field(default_factory=list)
    assertions: list[dict[str, Any]] = field(default_factory=list)
    """OpenLineage data-quality assertions as keyword arguments (assertion, success, column…)."""
    columns: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    """Column lineage of an output: column → [(input dataset, input column)]."""
    overwrite: bool = False
    """The write replaced the whole table (gold): older versions do not flow into this one."""
