"""ODCS ``slaProperties`` units in seconds: one table for the compile checks, contract diff,
certificates and vacuum, so ``unit: week`` means the same to each of them."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

DEFAULT_UNIT = "d"
"""The unit of an SLA that names none: days, as in the standard's examples."""

UNIT_SECONDS: dict[str, float] = {
    **dict.fromkeys(("ms", "millisecond", "milliseconds"), 0.001),
    **dict.fromkeys(("s", "sec", "secs", "second", "seconds"), 1),
    **dict.fromkeys(("m", "min", "mins", "minute", "minutes"), 60),
    **dict.fromkeys(("h", "hr", "hrs", "hour", "hours"), 3600),
    **dict.fromkeys(("d", "day", "days"), 86400),
    **dict.fromkeys(("w", "week", "weeks"), 604800),
    **dict.fromkeys(("y", "yr", "yrs", "year", "years"), 31536000),
}
"""Months are left out on purpose: their length varies, so ``unit: month`` is refused with
a hint to write days, rather than guessed."""


def unit_of(entry: Mapping[str, Any]) -> str:
    """The entry's unit as looked up in UNIT_SECONDS (lower case, default days)."""
    return str(entry.get("unit") or DEFAULT_UNIT).strip().lower()


def number(value: Any) -> float | None:
    """An SLA value as a number: ODCS types ``value`` loosely, so ``"4"`` is 4; None otherwise."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            return None
    if not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return float(value)


def seconds(entry: Mapping[str, Any]) -> float | None:
    """``value`` times ``unit`` in seconds, or None when the value is no number or the unit is
    unknown (the compile checks name those; here they simply give no limit)."""
    value, unit = number(entry.get("value")), unit_of(entry)
    if value is None or unit not in UNIT_SECONDS:
        return None
    return value * UNIT_SECONDS[unit]
