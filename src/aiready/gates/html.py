"""Gate reports as a self-contained HTML page (an MLflow artifact people read, no network)."""

from __future__ import annotations

from typing import Any

from aiready import templating


def render(reports: list[dict[str, Any]], title: str) -> str:
    """One page: per batch, the verdict, row counts and every rule's result."""
    return templating.render("aiready.gates", "gate_report.html", reports=reports, title=title)
