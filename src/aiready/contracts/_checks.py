"""Checks a contract must pass to compile: what would otherwise fail mid-refine or mean
something else than written (a string read as a list of letters, ``mustBe: "0"``, a bound the
gate cannot cast, a range no value satisfies). Each raises a ContractError with the YAML path,
so ``aiready contract lint`` names the line.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, Protocol, TypeGuard

from aiready.contracts import formats
from aiready.contracts import sla as sla_units
from aiready.contracts.spec import Column
from aiready.errors import ContractError


class Errors(Protocol):
    """Builds a ContractError for a YAML path of the contract being compiled."""

    def error(self, message: str, where: str) -> ContractError: ...


OPERATORS = (
    "mustBe",
    "mustNotBe",
    "mustBeGreaterThan",
    "mustBeGreaterOrEqualTo",
    "mustBeLessThan",
    "mustBeLessOrEqualTo",
    "mustBeBetween",
    "mustNotBeBetween",
)


KIND_NAMES = {
    "string": "a string",
    "integer": "an integer",
    "decimal": "a decimal",
    "float": "a number",
    "boolean": "a boolean",
    "date": "a date (YYYY-MM-DD)",
    "timestamp": "a timestamp (ISO 8601)",
    "json": "JSON",
}


def unique_name(
    ctx: Errors, prop: dict[str, Any], column: Column, where: str, seen: dict[str, str]
) -> None:
    """Column names differ in more than case: the engine's tables have one column per name,
    and neither DuckDB nor ingest tells ``code`` from ``CODE``."""
    key = "physicalName" if prop.get("physicalName") else "name"
    here = f"{where}.{key}"
    first = seen.setdefault(column.name.lower(), here)
    if first != here:
        raise ctx.error(
            f"column {column.name!r} is declared twice in this object (first at {first}); "
            "column names must differ in more than case",
            here,
        )


def pattern(ctx: Errors, pattern: Any, where: str) -> None:
    error = formats.regex_error(str(pattern))
    if error is not None:
        raise ctx.error(
            f"pattern {pattern!r} is not a regular expression aiready runs: {error}", where
        )


def options(
    ctx: Errors, written: dict[str, Any], opts: dict[str, Any], col: Column, where: str
) -> None:
    """Bounds the gate can compare with, and ranges some value satisfies.

    Otherwise a refine fails on a cast (``minimum: 2024-02-30``) or every row breaks the rule
    (``minimum: 10, maximum: 1``); as compile errors, lint names them with their lines.
    ``written`` is the options as in the file, ``opts`` as read (ODCS v3.0 flags applied).
    """

    def path(key: str) -> str:
        return f"{where}.{_written_key(written, key)}"

    ranks = {k: _bound_rank(ctx, opts[k], col, path(k)) for k in _RANGE_KEYS if k in opts}
    _check_interval(ctx, ranks, opts, _RANGE_KEYS[:2], _RANGE_KEYS[2:], path)
    lengths: dict[str, float | None] = {
        k: _length(ctx, opts[k], path(k)) for k in ("minLength", "maxLength") if k in opts
    }
    _check_interval(ctx, lengths, opts, ("minLength",), ("maxLength",), path)


_RANGE_KEYS = ("minimum", "exclusiveMinimum", "maximum", "exclusiveMaximum")


_NUMERIC = ("integer", "decimal", "float")


def _written_key(written: dict[str, Any], key: str) -> str:
    """The key as written: ODCS v3.0 ``exclusiveMaximum: true`` makes ``maximum`` the bound."""
    if key.startswith("exclusive") and isinstance(written.get(key), bool):
        return "minimum" if key == "exclusiveMinimum" else "maximum"
    return key


def _bound_rank(ctx: Errors, value: Any, col: Column, where: str) -> float | None:
    """A bound's place on the column's scale (None: not compared), or a ContractError when the
    gate cannot compare the column with it."""
    key = where.rpartition(".")[2]
    kind = f"{KIND_NAMES[col.family]} ({col.sql_type})"
    if col.family in _NUMERIC:
        if not is_number(value):
            raise ctx.error(f"{key} of {kind} must be a number, found {value!r}", where)
        return float(value)
    if col.family in ("date", "timestamp"):
        if not isinstance(value, str):
            raise ctx.error(f"{key} of {kind} must be written as text, found {value!r}", where)
        try:
            return formats.bound_seconds(value, col.sql_type, col.format)
        except ValueError as exc:
            raise ctx.error(f"{key} {exc}", where) from exc
    if col.family in ("string", "json") and not isinstance(value, str):
        # a number makes the engine compare every value as a number: refine fails on text
        raise ctx.error(f"{key} of a text column must be text, found {value!r}", where)
    return None


def _length(ctx: Errors, value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        key = where.rpartition(".")[2]
        raise ctx.error(f"{key} must be a whole number, 0 or more, found {value!r}", where)
    return value


def _check_interval(
    ctx: Errors,
    ranks: dict[str, float | None],
    values: dict[str, Any],
    lower: tuple[str, ...],
    upper: tuple[str, ...],
    path: Callable[[str], str],
) -> None:
    """Some value lies between every lower and every upper bound (else no row can pass).

    ``ranks`` place the bounds on one scale (None: not comparable); ``values`` are as written.
    """
    for hi in (k for k in upper if ranks.get(k) is not None):
        for lo in (k for k in lower if ranks.get(k) is not None):
            a, b = ranks[lo], ranks[hi]
            assert a is not None and b is not None
            strict = lo.startswith("exclusive") or hi.startswith("exclusive")
            if a > b or (a == b and strict):
                hi_key, lo_key = path(hi).rpartition(".")[2], path(lo).rpartition(".")[2]
                raise ctx.error(
                    f"{hi_key} {values[hi]!r} is {'not above' if strict else 'below'} "
                    f"{lo_key} {values[lo]!r}: no value satisfies both, every row would break "
                    "the rule",
                    path(hi),
                )


def is_number(value: Any) -> TypeGuard[int | float]:
    """A finite int or float; not a bool (YAML ``true`` is no number) and not text (``"0"``)."""
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def list_of_values(ctx: Errors, value: Any, where: str, mappings: bool = False) -> list[Any]:
    """A YAML sequence of single values (or mappings, where ODCS allows them).

    A string would be read character by character (``validValues: new`` as n, e, w).
    """
    key = where.rpartition(".")[2]
    if not isinstance(value, list):
        found = "text" if isinstance(value, str) else type(value).__name__
        raise ctx.error(
            f"{key} must be a list (a YAML sequence such as [a, b]), found {found} {value!r}",
            where,
        )
    for k, item in enumerate(value):
        if isinstance(item, list) or (isinstance(item, dict) and not mappings):
            raise ctx.error(f"{key} items must be single values, found {item!r}", f"{where}[{k}]")
    return value


def thresholds(ctx: Errors, item: dict[str, Any], where: str) -> None:
    """Operators compare a count, a percentage or a query's number: their values are numbers.

    ``mustBe: "0"`` would never equal the count 0 and fail every batch.
    """
    for op in (o for o in OPERATORS if o in item):
        value, at = item[op], f"{where}.{op}"
        if op not in ("mustBeBetween", "mustNotBeBetween"):
            if not is_number(value):
                raise ctx.error(f"{op} must be a number, found {value!r}", at)
            continue
        if not isinstance(value, list) or len(value) != 2:
            raise ctx.error(f"{op} must be a list of two numbers, found {value!r}", at)
        for k, bound in enumerate(value):
            if not is_number(bound):
                raise ctx.error(f"{op} items must be numbers, found {bound!r}", f"{at}[{k}]")
        if value[0] > value[1]:
            raise ctx.error(f"{op} lists the smallest number first, found {value!r}", at)


def sla_seconds(ctx: Errors, sla: dict[str, Any], where: str) -> float:
    """The SLA's age limit in seconds: a positive number in a known unit (a limit of 0 or
    less would call every batch stale)."""
    unit = sla_units.unit_of(sla)
    if unit not in sla_units.UNIT_SECONDS:
        hint = " (months vary in length: write days)" if unit.startswith("mo") else ""
        known = ", ".join(sla_units.UNIT_SECONDS)
        raise ctx.error(f"SLA unit must be one of {known}; found {unit!r}{hint}", f"{where}.unit")
    value = sla_units.number(sla.get("value"))
    if value is None or value <= 0:
        found = sla.get("value")
        raise ctx.error(f"SLA value must be a number above 0, found {found!r}", f"{where}.value")
    return value * sla_units.UNIT_SECONDS[unit]


def temporal(ctx: Errors, column: Column, where: str) -> None:
    """Freshness is the age of the newest date or timestamp: any other column cannot be aged
    (a text column would fail the batch on its first value that is no timestamp)."""
    if column.family not in ("date", "timestamp"):
        raise ctx.error(
            f"freshness is measured on a date or timestamp column; {column.name!r} is "
            f"{KIND_NAMES[column.family]}",
            where,
        )


_LIST_ARGUMENTS = ("validValues", "missingValues", "properties")


def arguments(ctx: Errors, args: Any, where: str) -> dict[str, Any]:
    """A library metric's ``arguments``, its lists checked to be lists."""
    if not isinstance(args, dict):
        raise ctx.error(f"arguments must be a mapping, found {args!r}", where)
    for key in (k for k in _LIST_ARGUMENTS if k in args):
        list_of_values(ctx, args[key], f"{where}.{key}")
    if args.get("validValues") == []:
        raise ctx.error("validValues is empty: no value could pass", f"{where}.validValues")
    if "property" in args and not isinstance(args["property"], str):
        raise ctx.error(f"property must be a name, found {args['property']!r}", f"{where}.property")
    return args
