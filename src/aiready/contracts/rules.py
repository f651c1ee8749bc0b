"""Compile a validated contract into plain, engine-free Column and Rule objects (the spec).

Engines turn these into SQL; nothing here knows about DuckDB or Spark.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import sqlglot
from sqlglot import exp

from aiready.contracts import _checks as checks
from aiready.contracts import formats, unexecuted
from aiready.contracts.loader import LoadedContract
from aiready.contracts.spec import (  # re-exported: the compiler's output types
    ACTIONS as ACTIONS,
)
from aiready.contracts.spec import (
    DATASET_KINDS as DATASET_KINDS,
)
from aiready.contracts.spec import (
    Action as Action,
)
from aiready.contracts.spec import (
    Column as Column,
)
from aiready.contracts.spec import (
    CompiledContract as CompiledContract,
)
from aiready.contracts.spec import (
    Limit as Limit,
)
from aiready.contracts.spec import (
    Rule as Rule,
)
from aiready.contracts.spec import (
    RuleKind as RuleKind,
)
from aiready.contracts.spec import (
    TypeFamily as TypeFamily,
)
from aiready.contracts.unexecuted import NotExecuted
from aiready.errors import ContractError
from aiready.reasons import ReasonCode

_INT_TYPES = {"TINYINT", "SMALLINT", "INT", "BIGINT"}
_BOUND = {
    "minimum": ">=",
    "maximum": "<=",
    "exclusiveMinimum": ">",
    "exclusiveMaximum": "<",
    "minLength": ">=",
    "maxLength": "<=",
}
_OBJECT_REF = re.compile(r"\$?\{(object|table)\}")
_PROPERTY_REF = re.compile(r"\$?\{(property|column)\}")


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
        checks.unique_name(ctx, prop, column, where, seen)
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
    props = obj.get("properties") or []
    # an SLA element may name a property by its logical name or by its stored (physical) one
    by_name = {str(p.get("name")): c for p, c in zip(props, columns, strict=True)}
    objects = (str(obj.get("name")), str(obj.get("physicalName") or obj.get("name")))
    rules.extend(_freshness(ctx, raw, objects, by_name | {c.name: c for c in columns}))
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
    """The property stored as column ``name`` (its physicalName, else its name)."""
    props = obj.get("properties") or []
    return next(p for p in props if str(p.get("physicalName") or p.get("name")) == name)


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
        if parsed is not None and parsed.this.name.startswith(("TIMESTAMP", "DATETIME")):
            return "timestamp", "TIMESTAMPTZ", None  # v3.0 had no timestamp logical type
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
    checks.options(ctx, written, opts, col, f"{where}.logicalTypeOptions")
    rules = [
        Rule(ctx.rule_id(f"{name}.{suffix}"), kind, reason, action, (name,), params, None, desc)
        for suffix, kind, reason, params, desc in [
            *_column_specs(prop, col),
            *_option_specs(name, opts),
        ]
    ]
    if "pattern" in opts:
        checks.pattern(ctx, opts["pattern"], f"{where}.logicalTypeOptions.pattern")
    is_time = prop.get("logicalType") == "time"
    rules.extend(_format_rules(ctx, opts.get("format"), col, action, where, is_time))
    if prop.get("enum"):
        enum = checks.list_of_values(ctx, prop["enum"], f"{where}.enum", mappings=True)
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


def _column_specs(prop: dict[str, Any], col: Column) -> list[_Spec]:
    """Type, required and unique: what the property itself declares."""
    name = col.name
    specs: list[_Spec] = []
    if col.family != "string":
        kind_name = f"{checks.KIND_NAMES[col.family]} ({col.sql_type})"
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


def _freshness(
    ctx: _Ctx, raw: dict[str, Any], objects: tuple[str, str], columns: dict[str, Column]
) -> list[Rule]:
    """A ``latency``/``freshness`` SLA on a column of this object: the newest value of a batch
    must be at most that old when it is refined (warn: old data is late, not wrong)."""
    rules = []
    for i, sla in enumerate(raw.get("slaProperties") or []):
        if str(sla.get("property", "")).lower() not in ("latency", "freshness"):
            continue
        where = f"slaProperties[{i}]"
        table, _, column = str(sla.get("element") or "").split(",")[0].strip().rpartition(".")
        if table not in ("", *objects) or not column:
            continue  # another object's SLA
        if column not in columns:
            raise ctx.error(
                f"{sla.get('property')} SLA names no property {column!r} of {objects[0]}", where
            )
        seconds = checks.sla_seconds(ctx, sla, where)
        checks.temporal(ctx, columns[column], f"{where}.element")
        column = columns[column].name  # the stored name the gate reads
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
    for op in checks.OPERATORS:
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
    checks.thresholds(ctx, item, where)
    if kind == "sql":
        return _sql_rule(ctx, item, column, action, label, where)
    if kind != "library":
        raise ctx.error(
            f"quality type {kind!r} is not executable by aiready (use library or sql)", where
        )
    metric = unexecuted.metric_of(item)
    args = checks.arguments(ctx, item.get("arguments") or {}, f"{where}.arguments")
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
            checks.pattern(ctx, args["pattern"], f"{where}.arguments.pattern")
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
