"""Compile a validated contract into plain, engine-free Column and Rule objects (the spec).

Engines turn these into SQL; nothing here knows about DuckDB or Spark.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal, TypeGuard

import sqlglot
from sqlglot import exp

from aiready.contracts import formats, unexecuted
from aiready.contracts.loader import LoadedContract
from aiready.contracts.unexecuted import NotExecuted
from aiready.errors import ContractError
from aiready.reasons import ReasonCode

Action = Literal["warn", "drop", "quarantine", "fail"]
RuleKind = Literal[
    "type",
    "not_null",
    "unique",
    "range",
    "length",
    "pattern",
    "format",
    "valid_values",
    "missing_values",
    "sql_row",
    "relationship",
    "row_count",
    "sql_dataset",
    "freshness",
]
TypeFamily = Literal[
    "string", "integer", "decimal", "float", "boolean", "date", "timestamp", "json"
]
ACTIONS: tuple[Action, ...] = ("warn", "drop", "quarantine", "fail")
DATASET_KINDS = frozenset({"row_count", "sql_dataset", "freshness"})
_OPERATORS = (
    "mustBe",
    "mustNotBe",
    "mustBeGreaterThan",
    "mustBeGreaterOrEqualTo",
    "mustBeLessThan",
    "mustBeLessOrEqualTo",
    "mustBeBetween",
    "mustNotBeBetween",
)
_INT_TYPES = {"TINYINT", "SMALLINT", "INT", "BIGINT"}
_BOUND = {
    "minimum": ">=",
    "maximum": "<=",
    "exclusiveMinimum": ">",
    "exclusiveMaximum": "<",
    "minLength": ">=",
    "maxLength": "<=",
}
_KIND_NAMES = {
    "string": "a string",
    "integer": "an integer",
    "decimal": "a decimal",
    "float": "a number",
    "boolean": "a boolean",
    "date": "a date (YYYY-MM-DD)",
    "timestamp": "a timestamp (ISO 8601)",
    "json": "JSON",
}
_OBJECT_REF = re.compile(r"\$?\{(object|table)\}")
_PROPERTY_REF = re.compile(r"\$?\{(property|column)\}")


@dataclass(frozen=True)
class Column:
    """A contract property as the engine needs it."""

    name: str
    family: TypeFamily
    sql_type: str
    """Target type in DuckDB SQL (``BIGINT``, ``DECIMAL(12,2)``, ``TIMESTAMPTZ`` …)."""
    scale: int | None = None
    description: str | None = None
    classification: str | None = None
    missing: tuple[str, ...] = ()
    """Tokens that mean "no value" here (``NA``, ``n/a`` …): NULL before any type check."""
    integral_floats: bool = True
    """An integer column accepts ``517.0`` and ``1e3`` (lossless); ``517.5`` stays a mismatch."""
    format: formats.DatePattern | None = None
    """Dates and timestamps: the pattern values are written in (else ISO 8601)."""


@dataclass(frozen=True)
class Limit:
    """An ODCS operator read as a batch limit on a rule's metric."""

    operator: str
    value: Any
    unit: Literal["rows", "percent"] = "rows"

    def holds(self, metric: float) -> bool:
        """True when ``metric`` satisfies the operator."""
        v, op = self.value, self.operator
        if op in ("mustBeBetween", "mustNotBeBetween"):
            inside = bool(v[0] <= metric <= v[1])
            return inside if op == "mustBeBetween" else not inside
        compare: dict[str, Callable[[float, Any], bool]] = {
            "mustBe": lambda m, x: bool(m == x),
            "mustNotBe": lambda m, x: bool(m != x),
            "mustBeGreaterThan": lambda m, x: bool(m > x),
            "mustBeGreaterOrEqualTo": lambda m, x: bool(m >= x),
            "mustBeLessThan": lambda m, x: bool(m < x),
            "mustBeLessOrEqualTo": lambda m, x: bool(m <= x),
        }
        return compare[op](metric, v)

    def describe(self) -> str:
        return f"{self.operator} {self.value}{' %' if self.unit == 'percent' else ''}"


@dataclass(frozen=True)
class Rule:
    """One check: a row predicate (row rules) or a metric compared with a limit (dataset rules)."""

    id: str
    kind: RuleKind
    reason: ReasonCode
    action: Action
    columns: tuple[str, ...] = ()
    params: dict[str, Any] = field(default_factory=dict)
    limit: Limit | None = None
    """Batch limit (circuit breaker) for row rules; the pass condition for dataset rules."""
    description: str = ""

    @property
    def column(self) -> str | None:
        return self.columns[0] if len(self.columns) == 1 else None

    @property
    def row_level(self) -> bool:
        return self.kind not in DATASET_KINDS


@dataclass(frozen=True)
class CompiledContract:
    """What a gate needs from a contract."""

    id: str
    version: str
    sha256: str
    path: str
    object_name: str
    columns: tuple[Column, ...]
    rules: tuple[Rule, ...]
    primary_key: tuple[str, ...]
    owners: tuple[str, ...]
    not_executed: tuple[NotExecuted, ...] = ()
    """Declared items aiready accepts but does not execute, each with its reason and YAML path."""

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


def compile_contract(
    loaded: LoadedContract,
    dataset: str,
    null_values: Sequence[str] = (),
    integral_floats: bool = True,
) -> CompiledContract:
    """Turn the contract's schema object for ``dataset`` into columns and rules.

    ``null_values`` (aiready.yaml) are missing-value tokens for every column of the dataset, on
    top of each property's ODCS ``missingValues``; ``integral_floats`` is the dataset's choice
    for integers written as floats by tools such as pandas (``517.0``).
    """
    raw = loaded.raw
    obj, obj_path = _schema_object(loaded, dataset)
    ctx = _Ctx(loaded, obj_path)
    columns: list[Column] = []
    rules: list[Rule] = []
    pk: list[tuple[int, str]] = []
    seen: dict[str, str] = {}
    for i, prop in enumerate(obj.get("properties") or []):
        where = f"{obj_path}.properties[{i}]"
        column = _column(loaded, prop, where)
        _check_unique_name(ctx, prop, column, where, seen)
        columns.append(column)
        if prop.get("primaryKey"):
            pk.append((int(prop.get("primaryKeyPosition", -1)), column.name))
        own = _property_rules(ctx, prop, column, where)
        rules.extend(own)
        fmt = frozenset({"format"}) if _format_enforced(column, own) else frozenset()
        ctx.not_executed.extend(unexecuted.property_options(prop, where, fmt))
    names = {c.name for c in columns}
    primary_key = tuple(name for _, name in sorted(pk, key=lambda p: (p[0] < 0, p[0])))
    if primary_key:
        rules.append(
            Rule(
                ctx.rule_id("+".join(primary_key) + ".primary_key"),
                "unique",
                ReasonCode.DUPLICATE_KEY,
                _prop_action(_property(obj, primary_key[0])),
                primary_key,
                description=f"primary key ({', '.join(primary_key)}) is unique",
            )
        )
    for j, item in enumerate(obj.get("quality") or []):
        rules.extend(_quality_rule(ctx, item, None, names, f"{obj_path}.quality[{j}]"))
    for j, rel in enumerate(obj.get("relationships") or []):
        where = f"{obj_path}.relationships[{j}]"
        source = rel.get("from")
        if isinstance(source, list) or isinstance(rel.get("to"), list):
            ctx.not_executed.append(_composite(rel, where))
            continue
        from_column = source.rpartition(".")[2] if isinstance(source, str) else None
        if from_column not in names:
            raise ctx.error(f"relationship `from: {source}` names no property of {dataset}", where)
        rules.extend(_relationship(ctx, rel, str(from_column), where))
    rules.extend(_freshness(ctx, raw, str(obj.get("name")), {c.name: c for c in columns}))
    columns, extra = _missing_tokens(ctx, columns, rules, tuple(null_values), integral_floats)
    rules.extend(extra)
    return CompiledContract(
        id=str(raw.get("id")),
        version=str(raw.get("version")),
        sha256=loaded.sha256,
        path=str(loaded.path),
        object_name=str(obj.get("name")),
        columns=tuple(columns),
        rules=tuple(rules),
        primary_key=primary_key,
        owners=_owners(raw),
        not_executed=(*ctx.not_executed, *unexecuted.sla_properties(raw)),
    )


def _check_unique_name(
    ctx: _Ctx, prop: dict[str, Any], column: Column, where: str, seen: dict[str, str]
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


def _composite(rel: dict[str, Any], where: str) -> NotExecuted:
    return NotExecuted(
        where,
        f"composite relationship {rel.get('from')} -> {rel.get('to')}",
        "composite (list) foreign keys are not checked by aiready",
    )


def _missing_tokens(
    ctx: _Ctx,
    columns: list[Column],
    rules: list[Rule],
    null_values: tuple[str, ...],
    integral_floats: bool,
) -> tuple[list[Column], list[Rule]]:
    """Give each column its missing-value tokens; dataset-wide tokens get a warn rule per column.

    A token is matched after trimming and counted by its ``missing_values`` rule; the value is
    NULL from then on, so ``required`` decides whether a missing value may pass.
    """
    declared: dict[str, list[str]] = {}
    for rule in rules:
        if rule.kind == "missing_values":
            for name in rule.columns:
                declared.setdefault(name, []).extend(
                    str(v).strip() for v in rule.params["values"] if v not in (None, "")
                )
    tokens = tuple(dict.fromkeys(t.strip() for t in null_values if t.strip()))
    extra: list[Rule] = []
    out: list[Column] = []
    for col in columns:
        if tokens and col.name not in declared:
            extra.append(
                Rule(
                    ctx.rule_id(f"{col.name}.null_values"),
                    "missing_values",
                    ReasonCode.MISSING_VALUE,
                    "warn",
                    (col.name,),
                    {"values": list(tokens)},
                    description=f"{col.name} is not a missing-value token {list(tokens)}",
                )
            )
        own = tuple(dict.fromkeys([*declared.get(col.name, []), *tokens]))
        out.append(replace(col, missing=own, integral_floats=integral_floats))
    return out, extra


def _property(obj: dict[str, Any], name: str) -> dict[str, Any]:
    return next(p for p in obj.get("properties") or [] if p.get("name") == name)


class _Ctx:
    """Naming state while compiling: unique rule ids, file for errors."""

    def __init__(self, loaded: LoadedContract, obj_path: str) -> None:
        self.file = str(loaded.path)
        self.obj_path = obj_path
        self.ids: set[str] = set()
        self.not_executed: list[NotExecuted] = []

    def rule_id(self, base: str) -> str:
        candidate, n = base, 2
        while candidate in self.ids:
            candidate, n = f"{base}_{n}", n + 1
        self.ids.add(candidate)
        return candidate

    def error(self, message: str, where: str) -> ContractError:
        return ContractError(message, file=self.file, path=where)


def _schema_object(loaded: LoadedContract, dataset: str) -> tuple[dict[str, Any], str]:
    objects = loaded.raw.get("schema") or []
    if not objects:
        raise ContractError("contract has no `schema` object", file=str(loaded.path), path="schema")
    for key in (
        "name",
        "physicalName",
    ):  # an object whose name equals its physicalName is no wildcard
        for i, obj in enumerate(objects):
            if obj.get(key) == dataset:
                return obj, f"schema[{i}]"
    if len(objects) == 1:
        return objects[0], "schema[0]"
    raise ContractError(f"no schema object named {dataset!r}", file=str(loaded.path), path="schema")


def _owners(raw: dict[str, Any]) -> tuple[str, ...]:
    team = raw.get("team")
    members = team.get("members", []) if isinstance(team, dict) else team or []
    return tuple(
        str(m.get("username"))
        for m in members
        if isinstance(m, dict)
        and str(m.get("role", "")).lower() == "owner"
        and not m.get("dateOut")
    )


def _column(loaded: LoadedContract, prop: dict[str, Any], where: str) -> Column:
    name = str(prop.get("physicalName") or prop["name"])
    logical = prop.get("logicalType")
    physical = str(prop.get("physicalType") or "").strip()
    family, sql_type, scale = _type(logical, physical, prop.get("customProperties"))
    if family is None:
        raise ContractError(
            f"unsupported physicalType {physical!r}",
            file=str(loaded.path),
            path=f"{where}.physicalType",
        )
    jdk = (prop.get("logicalTypeOptions") or {}).get("format")
    pattern = None
    if family in ("date", "timestamp") and isinstance(jdk, str):
        try:
            pattern = formats.date_pattern(jdk)
            if family == "date" and set(pattern.fields) & {"hour", "minute", "second"}:
                # ODCS v3.0's `date` also covers date-times: the pattern says which this is
                family, sql_type = "timestamp", "TIMESTAMPTZ"
            _needs_date(pattern, family)
        except ValueError as exc:
            raise ContractError(
                str(exc), file=str(loaded.path), path=f"{where}.logicalTypeOptions.format"
            ) from exc
    return Column(
        name,
        family,
        sql_type,
        scale,
        prop.get("description"),
        prop.get("classification"),
        format=pattern,
    )


def _needs_date(pattern: formats.DatePattern, family: str) -> None:
    fields = set(pattern.fields)
    if not (fields & {"year", "year2"} and {"month", "day"} <= fields):
        raise ValueError(f"a {family} pattern needs year, month and day: {pattern.jdk!r}")
    if family == "date" and set(pattern.fields) & {"hour", "minute", "second", "zone"}:
        raise ValueError(f"a date pattern has no time of day: {pattern.jdk!r}")


def _type(
    logical: str | None, physical: str, custom: Any = None
) -> tuple[TypeFamily | None, str, int | None]:
    """Map logicalType/physicalType to a type family and a Delta-compatible DuckDB type.

    A bare ``DECIMAL`` takes ``precision``/``scale`` from ``customProperties`` when given
    (else DuckDB's DECIMAL(18,3)).
    """
    parsed: exp.DataType | None = None
    if physical:
        try:
            parsed = exp.DataType.build(physical, dialect="duckdb")
        except (sqlglot.errors.ParseError, ValueError):
            parsed = None
    if logical == "integer" or (
        logical is None and parsed is not None and parsed.is_type(*exp.DataType.INTEGER_TYPES)
    ):
        name = parsed.sql("duckdb") if parsed is not None else "BIGINT"
        return "integer", name if name in _INT_TYPES else "BIGINT", None
    if logical == "number" or (
        logical is None and parsed is not None and parsed.is_type(*exp.DataType.REAL_TYPES)
    ):
        declared = _custom(custom, "precision") is not None
        if (
            parsed is not None
            and parsed.is_type(exp.DataType.Type.DECIMAL)
            or (parsed is None and declared)
        ):
            # sqlglot fills in DuckDB's (18,3) for a bare DECIMAL: only written numbers count
            written = parsed.expressions if parsed is not None and "(" in physical else []
            params = [int(p.this.this) for p in written]
            precision, scale = (params + [0])[:2] if params else _precision(custom)
            return "decimal", f"DECIMAL({precision},{scale})", scale
        if parsed is not None and parsed.is_type(exp.DataType.Type.FLOAT):
            return "float", "FLOAT", None
        return "float", "DOUBLE", None
    if logical == "boolean":
        return "boolean", "BOOLEAN", None
    if logical == "date":
        return "date", "DATE", None
    if logical == "timestamp":
        return "timestamp", "TIMESTAMPTZ", None
    if logical in ("object", "array", "map"):
        return "json", "VARCHAR", None
    if logical in ("string", "time", "vector") or not physical or parsed is None:
        return "string", "VARCHAR", None
    if parsed.is_type(*exp.DataType.TEXT_TYPES):
        return "string", "VARCHAR", None
    if parsed.is_type(exp.DataType.Type.BOOLEAN):
        return "boolean", "BOOLEAN", None
    if parsed.is_type(exp.DataType.Type.DATE):
        return "date", "DATE", None
    if parsed.is_type(*exp.DataType.TEMPORAL_TYPES):
        return "timestamp", "TIMESTAMPTZ", None
    return None, "", None


def _precision(custom: Any) -> tuple[int, int]:
    """(precision, scale) of a bare DECIMAL from customProperties, else DuckDB's (18, 3)."""
    precision, scale = _custom(custom, "precision"), _custom(custom, "scale")
    if precision is None:
        return (18, 3) if scale is None else (18, int(scale))
    return int(precision), int(scale or 0)


def _custom(items: Any, key: str) -> Any:
    for item in items or []:
        if isinstance(item, dict) and item.get("property") == key:
            return item.get("value")
    return None


def _prop_action(prop: dict[str, Any]) -> Action:
    value = _custom(prop.get("customProperties"), "onFail")
    return value if value in ACTIONS else "quarantine"


_Spec = tuple[str, RuleKind, ReasonCode, dict[str, Any], str]
"""(rule id suffix, kind, reason, params, description) of one property rule."""


def _property_rules(ctx: _Ctx, prop: dict[str, Any], col: Column, where: str) -> list[Rule]:
    action = _prop_action(prop)
    name = col.name
    written = prop.get("logicalTypeOptions") or {}
    opts = _v30_exclusive(written)
    _check_options(ctx, written, opts, col, f"{where}.logicalTypeOptions")
    rules = [
        Rule(ctx.rule_id(f"{name}.{suffix}"), kind, reason, action, (name,), params, None, desc)
        for suffix, kind, reason, params, desc in [
            *_column_specs(prop, col),
            *_option_specs(name, opts),
        ]
    ]
    if "pattern" in opts:
        _check_pattern(ctx, opts["pattern"], f"{where}.logicalTypeOptions.pattern")
    is_time = prop.get("logicalType") == "time"
    rules.extend(_format_rules(ctx, opts.get("format"), col, action, where, is_time))
    if prop.get("enum"):
        enum = _list_of_values(ctx, prop["enum"], f"{where}.enum", mappings=True)
        values = [e.get("value") if isinstance(e, dict) else e for e in enum]
        rules.append(
            Rule(
                ctx.rule_id(f"{name}.enum"),
                "valid_values",
                ReasonCode.INVALID_VALUE,
                action,
                (name,),
                {"values": values},
                description=f"{name} in {values}",
            )
        )
    for j, item in enumerate(prop.get("quality") or []):
        rules.extend(_quality_rule(ctx, item, name, None, f"{where}.quality[{j}]"))
    for j, rel in enumerate(prop.get("relationships") or []):
        rules.extend(_relationship(ctx, rel, name, f"{where}.relationships[{j}]"))
    return rules


def _check_pattern(ctx: _Ctx, pattern: Any, where: str) -> None:
    error = formats.regex_error(str(pattern))
    if error is not None:
        raise ctx.error(
            f"pattern {pattern!r} is not a regular expression aiready runs: {error}", where
        )


def _check_options(
    ctx: _Ctx, written: dict[str, Any], opts: dict[str, Any], col: Column, where: str
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


def _bound_rank(ctx: _Ctx, value: Any, col: Column, where: str) -> float | None:
    """A bound's place on the column's scale (None: not compared), or a ContractError when the
    gate cannot compare the column with it."""
    key = where.rpartition(".")[2]
    kind = f"{_KIND_NAMES[col.family]} ({col.sql_type})"
    if col.family in _NUMERIC:
        if not _is_number(value):
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


def _length(ctx: _Ctx, value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        key = where.rpartition(".")[2]
        raise ctx.error(f"{key} must be a whole number, 0 or more, found {value!r}", where)
    return value


def _check_interval(
    ctx: _Ctx,
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


def _is_number(value: Any) -> TypeGuard[int | float]:
    """A finite int or float; not a bool (YAML ``true`` is no number) and not text (``"0"``)."""
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _list_of_values(ctx: _Ctx, value: Any, where: str, mappings: bool = False) -> list[Any]:
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


def _check_thresholds(ctx: _Ctx, item: dict[str, Any], where: str) -> None:
    """Operators compare a count, a percentage or a query's number: their values are numbers.

    ``mustBe: "0"`` would never equal the count 0 and fail every batch.
    """
    for op in (o for o in _OPERATORS if o in item):
        value, at = item[op], f"{where}.{op}"
        if op not in ("mustBeBetween", "mustNotBeBetween"):
            if not _is_number(value):
                raise ctx.error(f"{op} must be a number, found {value!r}", at)
            continue
        if not isinstance(value, list) or len(value) != 2:
            raise ctx.error(f"{op} must be a list of two numbers, found {value!r}", at)
        for k, bound in enumerate(value):
            if not _is_number(bound):
                raise ctx.error(f"{op} items must be numbers, found {bound!r}", f"{at}[{k}]")
        if value[0] > value[1]:
            raise ctx.error(f"{op} lists the smallest number first, found {value!r}", at)


def _column_specs(prop: dict[str, Any], col: Column) -> list[_Spec]:
    """Type, required and unique: what the property itself declares."""
    name = col.name
    specs: list[_Spec] = []
    if col.family != "string":
        kind_name = f"{_KIND_NAMES[col.family]} ({col.sql_type})"
        specs.append(("type", "type", ReasonCode.TYPE_MISMATCH, {}, f"{name} is {kind_name}"))
    if prop.get("required") or prop.get("primaryKey"):
        specs.append(("required", "not_null", ReasonCode.NULL_VALUE, {}, f"{name} is required"))
    if prop.get("unique") and not prop.get("primaryKey"):
        specs.append(("unique", "unique", ReasonCode.DUPLICATE_KEY, {}, f"{name} is unique"))
    return specs


def _option_specs(name: str, opts: dict[str, Any]) -> list[_Spec]:
    """Bounds, lengths and pattern from ``logicalTypeOptions``."""
    specs: list[_Spec] = []
    keys = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum")
    bounds: dict[str, Any] = {k: opts[k] for k in keys if k in opts}
    if bounds:
        desc = f"{name} " + " and ".join(f"{_BOUND[k]} {v}" for k, v in bounds.items())
        specs.append(("range", "range", ReasonCode.OUT_OF_RANGE, bounds, desc))
    lengths: dict[str, Any] = {k: int(opts[k]) for k in ("minLength", "maxLength") if k in opts}
    if lengths:
        desc = f"length of {name} " + " and ".join(f"{_BOUND[k]} {v}" for k, v in lengths.items())
        specs.append(("length", "length", ReasonCode.INVALID_VALUE, lengths, desc))
    if "pattern" in opts:
        pattern = str(opts["pattern"])
        desc = f"{name} matches /{pattern}/ (anywhere unless anchored)"
        specs.append(("pattern", "pattern", ReasonCode.INVALID_VALUE, {"pattern": pattern}, desc))
    return specs


_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "y": 31536000}
_UNIT_NAMES = {
    "sec": "s", "second": "s", "seconds": "s", "min": "m", "minute": "m", "minutes": "m",
    "hour": "h", "hours": "h", "day": "d", "days": "d", "year": "y", "years": "y",
}  # fmt: skip


def _freshness(ctx: _Ctx, raw: dict[str, Any], obj: str, columns: dict[str, Column]) -> list[Rule]:
    """A ``latency``/``freshness`` SLA on a column of this object: the newest value of a batch
    must be at most that old when it is refined (warn: old data is late, not wrong)."""
    rules = []
    for i, sla in enumerate(raw.get("slaProperties") or []):
        if str(sla.get("property", "")).lower() not in ("latency", "freshness"):
            continue
        where = f"slaProperties[{i}]"
        table, _, column = str(sla.get("element") or "").split(",")[0].strip().rpartition(".")
        if table not in ("", obj) or not column:
            continue  # another object's SLA
        if column not in columns:
            raise ctx.error(
                f"{sla.get('property')} SLA names no property {column!r} of {obj}", where
            )
        seconds = _sla_seconds(ctx, sla, where)
        _check_temporal(ctx, columns[column], f"{where}.element")
        rules.append(
            Rule(
                ctx.rule_id(f"{column}.freshness"),
                "freshness",
                ReasonCode.STALE_DATA,
                "warn",
                (column,),
                {"seconds": seconds},
                Limit("mustBeLessOrEqualTo", seconds),
                f"newest {column} at most {sla['value']} {sla.get('unit', 'd')} old when refined",
            )
        )
    return rules


def _sla_seconds(ctx: _Ctx, sla: dict[str, Any], where: str) -> float:
    """The SLA's age limit in seconds: a positive number in a known unit (a limit of 0 or
    less would call every batch stale)."""
    unit = str(sla.get("unit", "d")).lower()
    unit = _UNIT_NAMES.get(unit, unit)
    if unit not in _SECONDS:
        raise ctx.error(
            f"SLA unit must be one of {sorted(_SECONDS)}, found {unit!r}", f"{where}.unit"
        )
    value = sla.get("value")
    if not _is_number(value) or value <= 0:
        raise ctx.error(f"SLA value must be a number above 0, found {value!r}", f"{where}.value")
    return float(value) * _SECONDS[unit]


def _check_temporal(ctx: _Ctx, column: Column, where: str) -> None:
    """Freshness is the age of the newest date or timestamp: any other column cannot be aged
    (a text column would fail the batch on its first value that is no timestamp)."""
    if column.family not in ("date", "timestamp"):
        raise ctx.error(
            f"freshness is measured on a date or timestamp column; {column.name!r} is "
            f"{_KIND_NAMES[column.family]}",
            where,
        )


def _format_enforced(column: Column, rules: list[Rule]) -> bool:
    """A declared ``format`` is enforced: dates are read by it, or it became a rule."""
    return column.format is not None or any(r.id.startswith(f"{column.name}.format") for r in rules)


def _format_rules(
    ctx: _Ctx, fmt: Any, col: Column, action: Action, where: str, is_time: bool
) -> list[Rule]:
    """``logicalTypeOptions.format`` as a rule (dates and timestamps parse by it instead)."""
    name = col.name
    if not isinstance(fmt, str) or col.family in ("date", "timestamp"):
        return []
    params: dict[str, Any] = {"format": fmt}
    kind: RuleKind = "format"
    reason = ReasonCode.INVALID_VALUE
    if col.family == "string" and fmt in formats.STRING_FORMATS:
        params["pattern"] = formats.STRING_FORMATS[fmt]
        desc = f"{name} is a valid {fmt}"
    elif col.family == "string" and is_time:  # a time of day: HH:mm:ss
        try:
            fields = formats.date_pattern(fmt).fields
            if not {"hour", "minute"} <= set(fields):
                raise ValueError(f"a time pattern needs hour and minute: {fmt!r}")
        except ValueError as exc:
            raise ctx.error(str(exc), f"{where}.logicalTypeOptions.format") from exc
        params["time"] = True
        desc = f"{name} is a time written {fmt}"
    elif col.family == "integer" and fmt in formats.INTEGER_FORMATS:
        low, high = formats.INTEGER_FORMATS[fmt]
        kind, reason, params = "range", ReasonCode.OUT_OF_RANGE, {"minimum": low, "maximum": high}
        desc = f"{name} fits {fmt} ({low} to {high})"
    else:
        return []
    return [Rule(ctx.rule_id(f"{name}.format"), kind, reason, action, (name,), params, None, desc)]


def _v30_exclusive(opts: dict[str, Any]) -> dict[str, Any]:
    """ODCS v3.0.x: ``exclusiveMaximum: true`` makes ``maximum`` exclusive (a flag, not a bound)."""
    out = dict(opts)
    for flag, bound in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
        if isinstance(out.get(flag), bool) and out.pop(flag) and bound in out:
            out[flag] = out.pop(bound)
    return out


def _relationship(ctx: _Ctx, rel: dict[str, Any], column: str, where: str) -> list[Rule]:
    """An ODCS foreign key (``to: planes.tailnum``): the value must exist in that dataset's silver.

    Checked at refine against the referenced dataset's current silver; ``warn`` unless the
    relationship's ``customProperties`` say ``onFail``. Composite keys are recorded as not executed.
    """
    target = rel.get("to")
    if not isinstance(target, str):
        ctx.not_executed.append(_composite(rel, where))
        return []
    dataset, _, ref_column = target.rpartition(".")
    if not dataset or not ref_column or "/" in target:
        raise ctx.error(
            f"relationship `to: {target}` must be DATASET.COLUMN (the shorthand form)", where
        )
    action = _custom(rel.get("customProperties"), "onFail")
    if action is not None and action not in ACTIONS:
        raise ctx.error(f"onFail must be one of {list(ACTIONS)}, found {action}", where)
    return [
        Rule(
            ctx.rule_id(str(rel.get("id") or f"{column}.references.{dataset}")),
            "relationship",
            ReasonCode.MISSING_REFERENCE,
            action or "warn",
            (column,),
            {"dataset": dataset, "column": ref_column},
            description=f"{column} exists in {dataset}.{ref_column}",
        )
    ]


def _limit(item: dict[str, Any], row_level: bool) -> Limit | None:
    for op in _OPERATORS:
        if op in item:
            unit = (
                "percent" if str(item.get("unit", "rows")).lower() in ("percent", "%") else "rows"
            )
            if row_level and op == "mustBe" and item[op] == 0:
                return None  # the usual form: every violating row is handled by the action
            return Limit(op, item[op], unit)  # type: ignore[arg-type]
    return None


def _declares_action(item: dict[str, Any]) -> bool:
    """The item names its action (onFail or a severity); else a kind's own default applies."""
    return _custom(item.get("customProperties"), "onFail") is not None or "severity" in item


def _quality_action(item: dict[str, Any]) -> Action:
    value = _custom(item.get("customProperties"), "onFail")
    if value is not None and value not in ACTIONS:
        raise ValueError(value)
    if value is not None:
        return value  # type: ignore[no-any-return]
    return (
        "warn"
        if str(item.get("severity", "")).lower() in ("warning", "warn", "info")
        else "quarantine"
    )


def _quality_rule(
    ctx: _Ctx, item: dict[str, Any], column: str | None, names: set[str] | None, where: str
) -> list[Rule]:
    """The item's rule, or none when aiready does not execute it (recorded with the reason)."""
    skipped = unexecuted.quality_item(item, where)
    if skipped is not None:
        ctx.not_executed.append(skipped)
        return []
    return [_executable_rule(ctx, item, column, names, where)]


def _executable_rule(
    ctx: _Ctx, item: dict[str, Any], column: str | None, names: set[str] | None, where: str
) -> Rule:
    try:
        action = _quality_action(item)
    except ValueError as exc:
        raise ctx.error(
            f"onFail must be one of {list(ACTIONS)}, found {exc}", f"{where}.customProperties"
        ) from exc
    kind = item.get("type", "library")
    label = item.get("id") or item.get("name")
    _check_thresholds(ctx, item, where)
    if kind == "sql":
        return _sql_rule(ctx, item, column, action, label, where)
    if kind != "library":
        raise ctx.error(
            f"quality type {kind!r} is not executable by aiready (use library or sql)", where
        )
    metric = unexecuted.metric_of(item)
    args = _arguments(ctx, item.get("arguments") or {}, f"{where}.arguments")
    desc = str(item.get("description") or "")
    if metric == "rowCount":
        limit = _limit(item, row_level=False)
        return Rule(
            ctx.rule_id(str(label or "row_count")),
            "row_count",
            ReasonCode.ROW_COUNT,
            action,
            (),
            {},
            limit,
            desc or f"row count {limit.describe() if limit else ''}",
        )
    cols: tuple[str, ...]
    if column is not None:
        cols = (column,)
    else:
        props = args.get("properties") or ([args["property"]] if "property" in args else [])
        unknown = [p for p in props if names is not None and p not in names]
        if not props or unknown:
            raise ctx.error(
                f"metric {metric} at object level needs arguments.properties naming "
                f"contract properties (unknown: {unknown})",
                where,
            )
        cols = tuple(str(p) for p in props)
    base = str(label or f"{'+'.join(cols)}.{metric}")
    limit = _limit(item, row_level=True)
    desc = desc or _describe(str(metric), cols, args)
    if metric == "nullValues":
        return Rule(
            ctx.rule_id(base), "not_null", ReasonCode.NULL_VALUE, action, cols, {}, limit, desc
        )
    if metric == "duplicateValues":
        return Rule(
            ctx.rule_id(base), "unique", ReasonCode.DUPLICATE_KEY, action, cols, {}, limit, desc
        )
    if metric == "missingValues":
        values = args.get("missingValues", [None, ""])
        return Rule(
            ctx.rule_id(base),
            "missing_values",
            ReasonCode.MISSING_VALUE,
            action if _declares_action(item) else "warn",
            cols,
            {"values": list(values)},
            limit,
            desc,
        )
    if metric == "invalidValues":
        if "validValues" in args:
            return Rule(
                ctx.rule_id(base),
                "valid_values",
                ReasonCode.INVALID_VALUE,
                action,
                cols,
                {"values": list(args["validValues"])},
                limit,
                desc,
            )
        if "pattern" in args:
            _check_pattern(ctx, args["pattern"], f"{where}.arguments.pattern")
            return Rule(
                ctx.rule_id(base),
                "pattern",
                ReasonCode.INVALID_VALUE,
                action,
                cols,
                {"pattern": str(args["pattern"])},
                limit,
                desc,
            )
        raise ctx.error("invalidValues needs arguments.validValues or arguments.pattern", where)
    raise ctx.error(f"unknown metric {metric!r}", where)


_LIST_ARGUMENTS = ("validValues", "missingValues", "properties")


def _arguments(ctx: _Ctx, args: Any, where: str) -> dict[str, Any]:
    """A library metric's ``arguments``, its lists checked to be lists."""
    if not isinstance(args, dict):
        raise ctx.error(f"arguments must be a mapping, found {args!r}", where)
    for key in (k for k in _LIST_ARGUMENTS if k in args):
        _list_of_values(ctx, args[key], f"{where}.{key}")
    if args.get("validValues") == []:
        raise ctx.error("validValues is empty: no value could pass", f"{where}.validValues")
    if "property" in args and not isinstance(args["property"], str):
        raise ctx.error(f"property must be a name, found {args['property']!r}", f"{where}.property")
    return args


def _describe(metric: str, cols: tuple[str, ...], args: dict[str, Any]) -> str:
    names = ", ".join(cols)
    if metric == "invalidValues" and "validValues" in args:
        return f"{names} is one of {list(args['validValues'])}"
    if metric == "invalidValues":
        return f"{names} matches /{args.get('pattern')}/ (anywhere unless anchored)"
    if metric == "missingValues":
        return f"{names} is not a missing-value marker {list(args.get('missingValues', []))}"
    return {"nullValues": f"{names} is not null", "duplicateValues": f"{names} is unique"}.get(
        metric, f"{names} {metric}"
    )


def _sql_rule(
    ctx: _Ctx,
    item: dict[str, Any],
    column: str | None,
    action: Action,
    label: str | None,
    where: str,
) -> Rule:
    query = str(item.get("query", ""))
    text = _OBJECT_REF.sub("__object__", query)
    if column is not None:
        text = _PROPERTY_REF.sub(f'"{column}"', text)
    try:
        tree = sqlglot.parse_one(text, dialect="duckdb")
    except sqlglot.errors.SqlglotError as exc:  # ParseError, or a TokenError
        errors = getattr(exc, "errors", None)
        raise ctx.error(
            f"SQL rule does not parse: {errors[0]['description'] if errors else exc}",
            f"{where}.query",
        ) from exc
    base = str(label or f"{column or 'dataset'}.sql")
    desc = str(item.get("description") or query)
    condition = _row_condition(tree)
    if condition is not None:
        return Rule(
            ctx.rule_id(base),
            "sql_row",
            ReasonCode.SQL_RULE,
            action,
            (column,) if column else (),
            {"condition": condition, "query": query},
            _limit(item, row_level=True),
            desc,
        )
    if not isinstance(tree, exp.Query):
        raise ctx.error("SQL rule must be a SELECT", f"{where}.query")
    limit = _limit(item, row_level=False)
    return Rule(
        ctx.rule_id(base),
        "sql_dataset",
        ReasonCode.SQL_RULE,
        action,
        (column,) if column else (),
        {"query": tree.sql("duckdb")},
        limit,
        desc,
    )


def _row_condition(tree: exp.Expr) -> str | None:
    """``SELECT COUNT(*) FROM {object} WHERE c`` → ``c`` (the predicate of a violating row)."""
    if not isinstance(tree, exp.Select) or len(tree.expressions) != 1:
        return None
    projection = tree.expressions[0]
    projection = projection.this if isinstance(projection, exp.Alias) else projection
    if not (isinstance(projection, exp.Count) and isinstance(projection.this, exp.Star)):
        return None
    source = tree.args.get("from_") or tree.args.get("from")
    if source is None or not isinstance(source.this, exp.Table) or source.this.name != "__object__":
        return None
    if any(tree.args.get(k) for k in ("joins", "group", "having", "with", "limit", "qualify")):
        return None
    where = tree.args.get("where")
    return None if where is None else str(where.this.sql("duckdb"))
