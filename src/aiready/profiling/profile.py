"""Profile a bronze-shaped (all-string) table with DuckDB, judged by the gate's own predicates.

Every column is standardised as refine standardises it (trimmed, empty text and missing-value
tokens NULL), and a type is chosen only when the gate's own ``cast_ok`` holds for every non-null
value, so what the profile says is what refine will accept, not what a sniffer guesses.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import Any

import pyarrow as pa

from aiready.catalog.pii import SAMPLE, THRESHOLD, detect
from aiready.contracts.formats import STRING_FORMATS
from aiready.contracts.rules import Column, TypeFamily
from aiready.engines.duckdb.sql import cast_ok, cast_value, ident, lit
from aiready.localdb import connect

MISSING_LOOKALIKES = ("NA", "N/A", "NAN", "NULL", "NONE", "NIL", "-", "?", "#N/A")
"""Spellings (compared upper-cased) that tools write for "no value"; the gate hints at the same."""
VALUE_SET_MAX = 10
"""A string column with at most this many distinct values, each seen twice on average, gets
``validValues``."""
PATTERNS: tuple[tuple[str, str, str], ...] = (
    # the same expressions the gate enforces for `format: uuid|email` (contracts/formats.py)
    ("uuid", f"^(?:{STRING_FORMATS['uuid']})$", "uuid"),
    ("email", f"^(?:{STRING_FORMATS['email']})$", "email"),
    ("ISO date", "^[0-9]{4}-[0-9]{2}-[0-9]{2}$", ""),
    ("digits", "^[0-9]+$", ""),
)
"""Common formats of string columns: (label, anchored RE2/ECMA pattern, ODCS ``format``)."""

_DECIMAL_SHAPE = r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)"
_LEADING_ZERO = r"[+-]?0[0-9].*"
_MAX_SCALE = 9
_MAX_DOUBLE_DIGITS = 17  # a double holds any 17-significant-digit decimal text exactly enough


@dataclass
class ColumnProfile:
    """What the data says about one column, after refine's standardisation."""

    name: str
    rows: int
    nulls: int
    """NULL after trimming, empty text and missing tokens (what ``required`` sees)."""
    distinct: int
    family: TypeFamily
    sql_type: str
    scale: int | None = None
    type_reason: str = ""
    missing_tokens: dict[str, int] = field(default_factory=dict)
    """Tokens declared missing for this column, with their counts."""
    kept_tokens: dict[str, int] = field(default_factory=dict)
    """Marker-like values kept as data (with why in ``type_reason``)."""
    minimum: Any = None
    maximum: Any = None
    max_length: int | None = None
    pattern: tuple[str, str, str] | None = None
    values: dict[str, int] | None = None
    """The value set with counts, when small and repeated."""
    pii: tuple[str, float, int] | None = None
    """(kind, share, sampled) from aiready's PII scanner."""
    json_kind: str | None = None
    """``object`` or ``array`` for JSON columns."""

    @property
    def non_null(self) -> int:
        return self.rows - self.nulls

    @property
    def unique(self) -> bool:
        return self.rows >= 2 and self.nulls == 0 and self.distinct == self.rows

    def asdict(self) -> dict[str, Any]:
        out = asdict(self)
        for key in ("minimum", "maximum"):
            if isinstance(out[key], Decimal):
                out[key] = str(out[key])
        return out


def profile_table(
    table: pa.Table,
    columns: list[str],
    null_values: tuple[str, ...] = (),
    integral_floats: bool = True,
) -> list[ColumnProfile]:
    """Profiles of ``columns`` of an all-string ``table`` (bronze records that parsed).

    ``null_values`` are the dataset's tokens (aiready.yaml), applied as refine applies them.
    """
    con = connect()
    try:
        con.register("__profiled", table.select(columns))
        return [
            _profile(con, name, table.num_rows, null_values, integral_floats) for name in columns
        ]
    finally:
        con.close()


def _standard(name: str, tokens: tuple[str, ...]) -> str:
    """The column as the gate sees it: trimmed, empty and missing tokens NULL."""
    t = f"trim({ident(name)})"
    if not tokens:
        return f"nullif({t}, '')"
    listed = ", ".join(lit(v) for v in tokens)
    return f"CASE WHEN {t} IN ({listed}) THEN NULL ELSE nullif({t}, '') END"


def _profile(
    con: Any, name: str, rows: int, null_values: tuple[str, ...], integral_floats: bool
) -> ColumnProfile:
    dataset_tokens = tuple(dict.fromkeys(t.strip() for t in null_values if t.strip()))
    found = _lookalikes(con, name, dataset_tokens)
    tokens = tuple(found)
    typed = _best_type(con, name, (*dataset_tokens, *tokens), integral_floats)
    kept: dict[str, int] = {}
    reason = ""
    if found:
        plain = _best_type(con, name, dataset_tokens, integral_floats)
        keep = (
            plain[0].family == "string"
            and typed[0].family == "string"
            and _fixed_width(con, name, (*dataset_tokens, *tokens), found)
        )
        if keep:  # e.g. 'NA' among two-letter country codes: a value, not a marker
            kept, found = found, {}
            reason = "; marker-like values kept as data: every other value has their length"
            typed = plain
    column, type_reason = typed
    s = _materialize(con, name, (*dataset_tokens, *found))
    nulls, distinct, max_length = con.execute(
        # distinct typed values: '1' and '1.0' are one integer key, as the gate's uniqueness sees
        f"SELECT count(*) - count({s}), count(DISTINCT {cast_value(column, s)}), "
        f"max(length({s})) FROM __std"
    ).fetchone()
    profile = ColumnProfile(
        name,
        rows,
        int(nulls),
        int(distinct),
        column.family,
        column.sql_type,
        column.scale,
        type_reason + reason,
        found,
        kept,
    )
    if column.family in ("integer", "decimal", "float", "date"):
        profile.minimum, profile.maximum = con.execute(
            f"SELECT min({cast_value(column, s)}), max({cast_value(column, s)}) FROM __std"
        ).fetchone()
    if column.family == "string" and profile.non_null:
        profile.max_length = int(max_length)
        profile.pattern = _pattern(con, s)
        profile.values = _value_set(con, s, profile)
        profile.pii = _pii(con, s)
    if column.family == "json":
        first = con.execute(f"SELECT bool_and(starts_with({s}, '[')) FROM __std").fetchone()
        profile.json_kind = "array" if first[0] else "object"
    return profile


def _lookalikes(con: Any, name: str, dataset_tokens: tuple[str, ...]) -> dict[str, int]:
    """Marker-like values in the column, spelt as written (trimmed), with counts."""
    s = _standard(name, dataset_tokens)
    listed = ", ".join(lit(v) for v in MISSING_LOOKALIKES)
    found = con.execute(
        f"SELECT {s} AS __value, count(*) FROM __profiled WHERE upper({s}) IN ({listed}) "
        "GROUP BY __value ORDER BY __value"  # not `v`: a data column may be called v
    ).fetchall()
    return {str(v): int(n) for v, n in found}


def _fixed_width(con: Any, name: str, tokens: tuple[str, ...], found: dict[str, int]) -> bool:
    """Every other value has the markers' one length (a code column where 'NA' is a code)."""
    widths = {len(t) for t in found}
    if len(widths) != 1:
        return False
    s = _standard(name, tokens)
    other = con.execute(
        f"SELECT count({s}), min(length({s})), max(length({s})) FROM __profiled"
    ).fetchone()
    return bool(other[0]) and other[1] == other[2] == widths.pop()


def _best_type(
    con: Any, name: str, tokens: tuple[str, ...], integral_floats: bool
) -> tuple[Column, str]:
    """The narrowest column type whose gate predicate holds for every non-null value."""
    s = _materialize(con, name, tokens)
    count, leading_zero, jsonish = con.execute(
        f"SELECT count({s}), bool_or(regexp_full_match({s}, {lit(_LEADING_ZERO)})), "
        f"bool_and(starts_with({s}, '{{') OR starts_with({s}, '[')) FROM __std"
    ).fetchone()
    if not count:
        return Column(name, "string", "VARCHAR"), "no non-null value: string"
    candidates: list[Column] = []
    if not leading_zero:  # '01234' is a code (ZIP, id) that an integer would change
        integer = Column(name, "integer", "BIGINT", integral_floats=integral_floats)
        if _holds(con, integer, s):
            return integer, f"all {count} non-null values convert exactly to BIGINT"
        candidates += _numbers(con, name, s)
    candidates += [
        Column(name, "boolean", "BOOLEAN"),
        Column(name, "date", "DATE"),
        Column(name, "timestamp", "TIMESTAMPTZ"),
    ]
    if jsonish:
        candidates.append(Column(name, "json", "VARCHAR"))
    for column in candidates:
        if _holds(con, column, s):
            return column, f"all {count} non-null values convert exactly to {column.sql_type}"
    why = "; leading zeros keep it text" if leading_zero else ""
    return Column(name, "string", "VARCHAR"), f"no narrower type holds for all {count} values{why}"


def _materialize(con: Any, name: str, tokens: tuple[str, ...]) -> str:
    """The column as the gate sees it, standardised once into ``__std(v)``; returns ``v``."""
    con.execute(f"CREATE OR REPLACE TEMP TABLE __std AS SELECT {_standard(name, tokens)} AS v "
                "FROM __profiled")  # fmt: skip
    return "v"


def _holds(con: Any, column: Column, s: str) -> bool:
    """The gate's conversion holds for every non-null value (the first counterexample ends it)."""
    counter = con.execute(
        f"SELECT count(*) FROM (SELECT 1 FROM __std WHERE {s} IS NOT NULL "
        f"AND NOT coalesce({cast_ok(column, s)}, FALSE) LIMIT 1)"
    ).fetchone()
    return bool(counter[0] == 0)


def _numbers(con: Any, name: str, s: str) -> list[Column]:
    """Decimal (exact, when the scale is small) and double candidates, from the values' shape."""
    decimal_shape, scale, int_digits, digits = con.execute(
        f"SELECT bool_and(regexp_full_match({s}, {lit(_DECIMAL_SHAPE)})), "
        f"max(length(regexp_extract({s}, '\\.([0-9]*)$', 1))), "
        f"max(length(ltrim(regexp_extract({s}, '^[+-]?([0-9]*)', 1), '0'))), "
        f"max(length(ltrim(regexp_replace(regexp_replace({s}, '[eE].*$', ''), '[^0-9]', '', 'g'),"
        " '0'))) FROM __std"
    ).fetchone()
    out: list[Column] = []
    if decimal_shape and 0 < int(scale or 0) <= _MAX_SCALE:
        precision = max(18, int(int_digits or 0) + int(scale))
        if precision <= 38:
            out.append(Column(name, "decimal", f"DECIMAL({precision},{scale})", int(scale)))
    if int(digits or 0) <= _MAX_DOUBLE_DIGITS:
        out.append(Column(name, "float", "DOUBLE"))
    return out


def _pattern(con: Any, s: str) -> tuple[str, str, str] | None:
    checks = ", ".join(f"bool_and(regexp_full_match({s}, {lit(p)}))" for _, p, _ in PATTERNS)
    passed = con.execute(f"SELECT {checks} FROM __std WHERE {s} IS NOT NULL").fetchone()
    return next((p for p, ok in zip(PATTERNS, passed, strict=True) if ok), None)


def _value_set(con: Any, s: str, profile: ColumnProfile) -> dict[str, int] | None:
    if profile.distinct > VALUE_SET_MAX or profile.non_null < 2 * profile.distinct:
        return None
    rows = con.execute(
        f"SELECT {s} AS v, count(*) FROM __std WHERE v IS NOT NULL GROUP BY v ORDER BY v"
    ).fetchall()
    return {str(v): int(n) for v, n in rows}


def _pii(con: Any, s: str) -> tuple[str, float, int] | None:
    """The scanner's verdict on a seeded sample of the column's values."""
    values = [
        str(v)
        for (v,) in con.execute(
            f"SELECT v FROM (SELECT {s} AS v FROM __std WHERE {s} IS NOT NULL) "
            f"USING SAMPLE reservoir({SAMPLE} ROWS) REPEATABLE (0)"
        ).fetchall()
    ]
    kinds: dict[str, int] = {}
    for value in values:
        kind = detect(value)
        if kind:
            kinds[kind] = kinds.get(kind, 0) + 1
    if not kinds:
        return None
    kind, hits = max(kinds.items(), key=lambda kv: kv[1])
    share = hits / len(values)
    return (kind, round(share, 3), len(values)) if share >= THRESHOLD else None
