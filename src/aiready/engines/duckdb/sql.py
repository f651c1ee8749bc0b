"""Rules → DuckDB SQL fragments. Identifiers and literals are quoted by sqlglot.

Each row rule becomes a *violation* predicate wrapped as ``coalesce(pred, false)``: a NULL never
counts as a violation of a value rule (``required`` is what forbids NULLs).
"""

from __future__ import annotations

from typing import Any

import sqlglot

from aiready.contracts.formats import (
    DatePattern,
    date_pattern,
    field_sql,
    iso_text,
    iso_time,
    temporal_bound,
)
from aiready.contracts.rules import Column, Rule
from aiready.sqltext import ident as ident  # re-exported: the gate builds on them
from aiready.sqltext import lit as lit

_INT = r"[+-]?[0-9]+"
_FLOAT = r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?"
_DATE = r"[0-9]{4}-[0-9]{2}-[0-9]{2}"
# an offset is at most ±18:00 with minutes 00-59 (ISO 8601, java.time): +24:00 or +00:60 would
# otherwise be read as some other instant
_OFFSET = r"[+-]((0[0-9]|1[0-7])(:?[0-5][0-9])?|18(:?00)?)"
# timestamps are stored to the microsecond: digits past the sixth may only be zeros, so no
# instant is silently cut (.123456789 is refused, as 517.5 is for an integer)
_FRACTION = r"\.[0-9]{1,6}0{0,3}"
_TS = _DATE + r"([T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(" + _FRACTION + r")?)?)?(Z|z|" + _OFFSET + ")?"


def cast_ok(column: Column, s: str) -> str:
    """Predicate: the trimmed string ``s`` converts to the column type *exactly* (no rounding)."""
    t = column.sql_type
    if column.family == "string":
        return "TRUE"
    if column.family == "json":
        return f"(json_valid({s}) AND NOT regexp_matches({_json_residue(s)}, {lit(_LENIENT)}))"
    if column.family == "boolean":
        return f"lower({s}) IN ('true', 'false', '1', '0')"
    if column.family == "integer":
        if column.integral_floats:
            return f"({integral(s)} AND {cast_value(column, s)} IS NOT NULL)"
        return f"(regexp_full_match({s}, {lit(_INT)}) AND TRY_CAST({s} AS {t}) IS NOT NULL)"
    if column.family == "decimal":
        scale = column.scale or 0
        # trailing zeros are exact (123.450 is a DECIMAL(5,2)), as 517.0 is an integer
        shape = (
            r"[+-]?[0-9]+(\.0*)?"
            if scale == 0
            else rf"[+-]?([0-9]+(\.[0-9]{{0,{scale}}}0*)?|\.[0-9]{{1,{scale}}}0*)"
        )
        return f"(regexp_full_match({s}, {lit(shape)}) AND TRY_CAST({s} AS {t}) IS NOT NULL)"
    if column.family == "float":
        return f"(regexp_full_match({s}, {lit(_FLOAT)}) AND isfinite(TRY_CAST({s} AS {t})))"
    if column.format is not None:  # the contract's own pattern replaces ISO 8601
        iso = iso_text(column.format, s, column.family == "timestamp")
        shape = f"regexp_full_match({s}, {lit(column.format.regex)})"
        clock = clock_ok(column.format, s)
        return f"({shape} AND {clock} AND TRY_CAST({iso} AS {t}) IS NOT NULL)"
    if column.family == "date":
        return f"(regexp_full_match({s}, {lit(_DATE)}) AND TRY_CAST({s} AS DATE) IS NOT NULL)"
    return f"(regexp_full_match({s}, {lit(_TS)}) AND TRY_CAST({s} AS TIMESTAMPTZ) IS NOT NULL)"


# DuckDB's json_valid also accepts trailing commas and NaN/Infinity; strict JSON (RFC 8259) does
# not, and neither does Spark. With strings emptied and numbers and literals replaced, whatever
# is left that looks like either is refused, so both engines apply the same rule.
_JSON_STRING = r'"(?:[^"\\]|\\.)*"'
_JSON_TOKEN = r"-?[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?|true|false|null"
_LENIENT = r",\s*[\]}]|[A-Za-z]"


def _json_residue(s: str) -> str:
    emptied = f"regexp_replace({s}, {lit(_JSON_STRING)}, '\"\"', 'g')"
    return f"regexp_replace({emptied}, {lit(_JSON_TOKEN)}, '0', 'g')"


_POINT_ZERO = r"[+-]?[0-9]+(\.0*)?"
_EXPONENT = r"[+-]?[0-9]+(\.[0-9]*)?[eE][+-]?[0-9]{1,3}"


def integral(s: str) -> str:
    """Predicate: ``s`` is an integer as tools write one: ``517``, ``517.0``, ``1e3``, ``2.5e1``.

    Decided on the text, never through a float (``9007199254740993.0`` stays exact): an exponent
    form is integral when its significant fraction digits are no more than its exponent. A CASE,
    so the common shapes cost one regular expression and only exponent forms pay for the rest.
    """
    digits = f"length(rtrim(regexp_extract({s}, '\\.([0-9]*)', 1), '0'))"
    power = f"TRY_CAST(regexp_extract({s}, '[eE]([+-]?[0-9]+)', 1) AS INTEGER)"
    return (
        f"(CASE WHEN regexp_full_match({s}, {lit(_POINT_ZERO)}) THEN TRUE "
        f"WHEN regexp_full_match({s}, {lit(_EXPONENT)}) THEN coalesce({digits} <= {power}, FALSE) "
        "ELSE FALSE END)"
    )


def cast_value(column: Column, s: str) -> str:
    """The typed value of ``s`` (only evaluated where ``cast_ok`` holds)."""
    if column.family in ("string", "json"):
        return s
    if column.family == "integer" and column.integral_floats:
        # the text is integral here, so both casts are exact; the first one serves digits (and
        # DuckDB's 517.0), the DECIMAL route engines whose integer cast refuses a point (Spark)
        t = column.sql_type
        return f"coalesce(TRY_CAST({s} AS {t}), TRY_CAST(TRY_CAST({s} AS DECIMAL(38,0)) AS {t}))"
    if column.family == "boolean":
        return f"(lower({s}) IN ('true', '1'))"
    if column.format is not None:
        iso = iso_text(column.format, s, column.family == "timestamp")
        return f"TRY_CAST({iso} AS {column.sql_type})"
    return f"TRY_CAST({s} AS {column.sql_type})"


def clock_ok(pattern: DatePattern, s: str) -> str:
    """Hours 0-23, minutes and seconds 0-59: engines differ on ``24:00`` (DuckDB reads the
    next midnight), so the plan decides."""
    limits = {"hour": 23, "minute": 59, "second": 59}
    parts = [
        f"coalesce(TRY_CAST({field_sql(pattern, s, name, '0')} AS INTEGER) <= {top}, FALSE)"
        for name, top in limits.items()
        if name in pattern.fields
    ]
    return "(" + (" AND ".join(parts) or "TRUE") + ")"


def _bound(column: Column, value: Any) -> str:
    if column.family in ("date", "timestamp"):
        return temporal_bound(value, column.sql_type, column.format)
    return lit(value)


def violation(rule: Rule, columns: dict[str, Column], raw: dict[str, str]) -> str:
    """Predicate true when a row violates a (non-type, non-unique) row rule."""
    c = ident(rule.columns[0]) if rule.columns else ""
    p = rule.params
    if rule.kind == "not_null":
        return " OR ".join(f"{ident(col)} IS NULL" for col in rule.columns)
    if rule.kind == "range":
        col = columns[rule.columns[0]]
        checks = {
            "minimum": "<",
            "maximum": ">",
            "exclusiveMinimum": "<=",
            "exclusiveMaximum": ">=",
        }
        parts = [f"{c} {checks[k]} {_bound(col, v)}" for k, v in p.items()]
        return f"coalesce({' OR '.join(parts)}, FALSE)"
    if rule.kind == "length":
        parts = []
        if "minLength" in p:
            parts.append(f"length({c}) < {int(p['minLength'])}")
        if "maxLength" in p:
            parts.append(f"length({c}) > {int(p['maxLength'])}")
        return f"coalesce({' OR '.join(parts)}, FALSE)"
    if rule.kind == "pattern":
        # JSON Schema (and so ODCS) patterns search: they match anywhere unless anchored
        return f"coalesce(NOT regexp_matches(CAST({c} AS VARCHAR), {lit(p['pattern'])}), FALSE)"
    if rule.kind == "format" and p.get("time"):  # a time of day in the contract's pattern
        text, pattern = f"CAST({c} AS VARCHAR)", date_pattern(p["format"])
        iso = "'2000-01-01T' || " + iso_time(pattern, text)
        shape = f"regexp_full_match({text}, {lit(pattern.regex)})"
        valid = f"{clock_ok(pattern, text)} AND TRY_CAST({iso} AS TIMESTAMP) IS NOT NULL"
        return f"coalesce(NOT ({shape} AND {valid}), FALSE)"
    if rule.kind == "format":  # a named form is the whole value
        return f"coalesce(NOT regexp_full_match(CAST({c} AS VARCHAR), {lit(p['pattern'])}), FALSE)"
    if rule.kind == "valid_values":
        values = [v for v in p["values"] if v is not None]
        listed = ", ".join(lit(str(v)) for v in values) or "NULL"
        return f"coalesce(CAST({c} AS VARCHAR) NOT IN ({listed}), FALSE)"
    if rule.kind == "missing_values":
        s = raw[rule.columns[0]]
        values = [str(v) for v in p["values"] if v is not None]
        parts = [f"{s} IN ({', '.join(lit(v) for v in values)})"] if values else []
        if None in p["values"] or "" in values:
            parts.append(f"{s} IS NULL OR {s} = ''")
        return f"coalesce({' OR '.join(parts) or 'FALSE'}, FALSE)"
    if rule.kind == "sql_row":
        condition = sqlglot.parse_one(p["condition"], dialect="duckdb").sql("duckdb")
        return f"coalesce(({condition}), FALSE)"
    raise ValueError(f"not a row predicate: {rule.kind}")
