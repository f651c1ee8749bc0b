"""ODCS ``slaProperties`` units in seconds: one table for the compile checks, contract diff,
certificates and vacuum, so ``unit: week`` means the same to each of them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

DEFAULT_UNIT = "d"
"""The unit of an SLA that names none: days, as in the standard's examples."""

UNIT_SECONDS: dict[str, int] = {
    **dict.fromkeys(("s", "sec", "second", "seconds"), 1),
    **dict.fromkeys(("m", "min", "minute", "minutes"), 60),
    **dict.fromkeys(("h", "hr", "hour", "hours"), 3600),
    **dict.fromkeys(("d", "day", "days"), 86400),
    **dict.fromkeys(("w", "week", "weeks"), 604800),
    **dict.fromkeys(("y", "yr", "year", "years"), 31536000),
}


def unit_of(entry: Mapping[str, Any]) -> str:
    """The entry's unit as looked up in UNIT_SECONDS (lower case, default days)."""
    return str(entry.get("unit") or DEFAULT_UNIT).strip().lower()


def seconds(entry: Mapping[str, Any]) -> float | None:
    """``value`` times ``unit`` in seconds, or None when the value is no number or the unit is
    unknown (the compile checks name those; here they simply give no limit)."""
    value, unit = entry.get("value"), unit_of(entry)
    if isinstance(value, bool) or not isinstance(value, int | float) or unit not in UNIT_SECONDS:
        return None
    return float(value) * UNIT_SECONDS[unit]
