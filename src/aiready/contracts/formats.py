"""``logicalTypeOptions.format``: what ODCS lets a contract say about a value's form.

ODCS gives ``format`` three meanings, by logical type:

- strings: a named form (``email``, ``uuid``, ``uri``, ``hostname``, ``ipv4``, ``ipv6``,
  ``byte`` = base64), checked per value with the RE2 expressions below, which are deliberately
  simple and whole-value (an email is ``local@domain.tld`` with no spaces, not RFC 5322);
- dates, timestamps and times of day: a JDK ``DateTimeFormatter`` pattern (``dd/MM/yyyy``).
  Values are then read by that pattern instead of ISO 8601, so ``05/01/2024`` is 5 January.
  Numeric fields, quoted literals and zone offsets are supported; month and day names are not;
- integers: a Rust width (``i8`` … ``u64``), checked as a range.

Anything else (``password``, ``binary``, float widths, 128-bit integers) is reported as not
executed by aiready rather than ignored.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import duckdb

from aiready.localdb import connect
from aiready.sqltext import lit

STRING_FORMATS: dict[str, str] = {
    "email": r"[^@\s]+@[^@\s.]+(\.[^@\s.]+)+",
    "uuid": r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}",
    "uri": r"[A-Za-z][A-Za-z0-9+.\-]*:[^\s]+",
    "hostname": r"[A-Za-z0-9]([A-Za-z0-9\-]{0,61}[A-Za-z0-9])?"
    r"(\.[A-Za-z0-9]([A-Za-z0-9\-]{0,61}[A-Za-z0-9])?)*",
    "ipv4": r"((25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\.){3}"
    r"(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])",
    "ipv6": r"(([0-9a-fA-F]{1,4}:){7}[0-9a-fA-F]{1,4}|(([0-9a-fA-F]{1,4}:){0,7}[0-9a-fA-F]{0,4})?"
    r"::(([0-9a-fA-F]{1,4}:){0,7}[0-9a-fA-F]{1,4})?)",
    "byte": r"([A-Za-z0-9+/]{4})*([A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?",
}
"""Named string formats → a whole-value RE2 expression (no anchors: the gate full-matches)."""

INTEGER_FORMATS: dict[str, tuple[int, int]] = {
    "i8": (-(2**7), 2**7 - 1),
    "i16": (-(2**15), 2**15 - 1),
    "i32": (-(2**31), 2**31 - 1),
    "i64": (-(2**63), 2**63 - 1),
    "u8": (0, 2**8 - 1),
    "u16": (0, 2**16 - 1),
    "u32": (0, 2**32 - 1),
    "u64": (0, 2**63 - 1),
}
"""Rust integer widths → (minimum, maximum). ``u64`` stops at 2^63 - 1: values are BIGINT."""

_DIGITS = {"year": 4, "month": 2, "day": 2, "hour": 2, "minute": 2, "second": 2}
_HH = "(?:0[0-9]|1[0-7])"  # offsets are at most ±18:00, minutes 00-59
_ZONES = {
    "XXX": f"Z|[+-](?:{_HH}:[0-5][0-9]|18:00)",
    "XX": f"Z|[+-](?:{_HH}[0-5][0-9]|1800)",
    "X": f"Z|[+-](?:{_HH}(?:[0-5][0-9])?|18(?:00)?)",
    "xxx": f"[+-](?:{_HH}:[0-5][0-9]|18:00)",
    "xx": f"[+-](?:{_HH}[0-5][0-9]|1800)",
    "x": f"[+-](?:{_HH}(?:[0-5][0-9])?|18(?:00)?)",
    "Z": f"[+-](?:{_HH}[0-5][0-9]|1800)",
}
_FIELDS = {"y": "year", "u": "year", "M": "month", "d": "day", "H": "hour", "m": "minute"}
_FIELDS.update({"s": "second", "S": "fraction"})
_TOKEN = re.compile(r"'(?:[^']|'')*'|([A-Za-z])\1*|.", re.S)
_META = set("\\.^$|?*+()[]{}")


@dataclass(frozen=True)
class DatePattern:
    """A JDK ``DateTimeFormatter`` pattern as a whole-value regular expression.

    ``regex`` has one capturing group per field, named in ``fields`` (year, month, day, hour,
    minute, second, fraction, zone, and ``year2`` for ``yy``); the engine rebuilds ISO 8601
    text from the groups and converts that, so both engines read a value the same way and
    ``dd`` means exactly two digits, as in Java.
    """

    jdk: str
    regex: str
    fields: tuple[str, ...]
    widths: tuple[int | None, ...]
    """Per field: the digits ISO needs when the pattern allows fewer (``d`` → 2), else None."""


def date_pattern(jdk: str) -> DatePattern:
    """Parse a JDK pattern; ValueError names an unsupported letter or a repeated field."""
    regex: list[str] = []
    fields: list[str] = []
    widths: list[int | None] = []
    for token in _TOKEN.finditer(jdk):
        text = token.group(0)
        letter = token.group(1)
        if text.startswith("'"):
            literal = "'" if text == "''" else text[1:-1].replace("''", "'")
            regex.append("".join("\\" + c if c in _META else c for c in literal))
        elif letter is None:
            regex.append("\\" + text if text in _META else text)
        elif text in _ZONES:
            fields.append("zone")
            widths.append(None)
            regex.append(f"({_ZONES[text]})")
        elif letter in _FIELDS:
            field, n = _FIELDS[letter], len(text)
            if letter in "yu" and n == 2:
                field = "year2"
            elif letter in "yu" and n != 4:
                raise ValueError(f"year pattern {text!r} in {jdk!r}: use yyyy or yy")
            if field in fields:
                raise ValueError(f"{field} appears twice in {jdk!r}")
            fields.append(field)
            full = _DIGITS.get(field)
            if full is not None and field != "year" and n > full:
                raise ValueError(f"{text!r} in {jdk!r}: names of months and days are not supported")
            if field == "fraction":  # stored to the microsecond: digits past six are zeros
                regex.append(f"([0-9]{{{min(n, 6)}}}0{{{max(n - 6, 0)}}})")
                widths.append(None)
            elif full is not None and n == 1:
                regex.append(f"([0-9]{{1,{full}}})")
                widths.append(full)
            else:
                regex.append(f"([0-9]{{{n}}})")
                widths.append(None)
        else:
            raise ValueError(f"pattern letter {letter!r} of {jdk!r} is not supported")
    return DatePattern(jdk, "".join(regex), tuple(fields), tuple(widths))


def field_sql(pattern: DatePattern, s: str, name: str, default: str) -> str:
    """One field of a patterned value as ISO needs it (zero-padded), or ``default`` (SQL)."""
    if name not in pattern.fields:
        return lit(default)
    i = pattern.fields.index(name)
    text = f"regexp_extract({s}, {lit(pattern.regex)}, {i + 1})"
    width = pattern.widths[i]
    return f"lpad({text}, {width}, '0')" if width else text


def iso_time(pattern: DatePattern, s: str) -> str:
    """``HH:MM:SS[.fff]`` from a value written in ``pattern`` (SQL over ``s``)."""
    out = " || ':' || ".join(field_sql(pattern, s, f, "00") for f in ("hour", "minute", "second"))
    if "fraction" in pattern.fields:
        out += " || '.' || " + field_sql(pattern, s, "fraction", "0")
    return out


def iso_text(pattern: DatePattern, s: str, timestamp: bool) -> str:
    """ISO 8601 text of a value written in a contract's date pattern (SQL over ``s``).

    Built from the pattern's groups, so the engines' ISO casts decide validity (30 February
    is refused by both) and no engine-specific date parser is involved.
    """
    year = field_sql(pattern, s, "year", "")
    if "year" not in pattern.fields:
        year = "'20' || " + field_sql(pattern, s, "year2", "")  # yy, as Java reads it: 2000-2099
    date = f"{year} || '-' || {field_sql(pattern, s, 'month', '')} || '-' || "
    date += field_sql(pattern, s, "day", "")
    if not timestamp:
        return f"({date})"
    out = f"{date} || 'T' || {iso_time(pattern, s)}"
    if "zone" in pattern.fields:
        z = field_sql(pattern, s, "zone", "")
        out += (
            f" || (CASE WHEN length({z}) = 3 THEN {z} || ':00' WHEN length({z}) = 5 THEN "
            f"substr({z}, 1, 3) || ':' || substr({z}, 4, 2) ELSE {z} END)"
        )
    return f"({out})"


def temporal_bound(value: Any, sql_type: str, pattern: DatePattern | None) -> str:
    """A date or timestamp bound (``minimum: 2024-01-01``) as the gate compares it (SQL).

    Written ISO 8601, or in the column's own pattern when it has one. The compiler evaluates
    this very expression (``bound_seconds``), so a bound the gate cannot read never reaches it.
    """
    text = lit(str(value))
    if pattern is None:
        return f"CAST({text} AS {sql_type})"
    patterned = iso_text(pattern, text, sql_type != "DATE")
    return f"coalesce(TRY_CAST({text} AS {sql_type}), TRY_CAST({patterned} AS {sql_type}))"


@lru_cache(maxsize=1024)
def bound_seconds(value: str, sql_type: str, pattern: DatePattern | None) -> float | None:
    """Seconds since 1970 of a date or timestamp bound as the gate reads it (None: infinite).

    Asked when a contract is compiled: ValueError says why the gate could not read the bound
    (``2024-02-30``, ``yesterday``), which would otherwise fail or be ignored mid-refine.
    """
    bound = temporal_bound(value, sql_type, pattern)
    kind = "date" if sql_type == "DATE" else "timestamp"
    written = "ISO 8601" + (f" or {pattern.jdk!r}" if pattern is not None else "")
    try:
        with _db().cursor() as con:
            row = con.execute(f"SELECT {bound} IS NULL, epoch({bound})").fetchone()
    except duckdb.Error as exc:
        why = str(exc).split("\n")[0].removeprefix("Conversion Error: ")
        raise ValueError(f"{value!r} is not a {kind} written {written} ({why})") from exc
    if row is None or row[0]:
        raise ValueError(f"{value!r} is not a {kind} written {written}")
    return None if row[1] is None else float(row[1])


@lru_cache(maxsize=1024)
def regex_error(pattern: str) -> str | None:
    """Why RE2 (the engine's regular expressions) refuses ``pattern``, or None if it compiles.

    Asked when a contract is compiled, so a bad pattern is named with its YAML path rather than
    failing mid-gate. ECMA-262 features RE2 lacks (look-behind, back-references) are refused.
    """
    try:
        with _db().cursor() as con:
            con.execute("SELECT regexp_matches('', ?)", [pattern]).fetchone()
    except duckdb.Error as exc:
        return str(exc).split("\n")[0].removeprefix("Invalid Input Error: ")
    return None


@lru_cache(maxsize=1)
def _db() -> duckdb.DuckDBPyConnection:
    """One in-memory database for compile-time checks; each use takes its own cursor, since a
    DuckDB connection is not to be shared between threads (the service compiles in many)."""
    return connect()
