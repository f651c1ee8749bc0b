"""Values as JSON numbers where JSON can hold them exactly.

DuckDB returns ``SUM`` of a DECIMAL column as a Python ``Decimal``, which ``json`` cannot write;
written as text it reaches a caller as a string. A Decimal becomes an int when integral, a float
when it has at most 15 significant digits (every such decimal survives a double round trip), and
stays text only beyond that, where a double would round it.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

EXACT_DIGITS = 15


def json_value(value: Any) -> Any:
    """``value`` with Decimals turned into exact JSON numbers (see the module docstring)."""
    if isinstance(value, Decimal):
        if not value.is_finite():
            return str(value)
        if value == value.to_integral_value():
            return int(value)
        digits = len(value.normalize().as_tuple().digits)
        return float(value) if digits <= EXACT_DIGITS else str(value)
    if isinstance(value, dict):
        return {k: json_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [json_value(v) for v in value]
    return value


def json_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: json_value(v) for k, v in row.items()} for row in rows]
