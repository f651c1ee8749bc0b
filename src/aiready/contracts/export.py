"""Export a contract as SQL DDL, a dbt ``schema.yml``, a JSON Schema of a row or a pydantic model.

Every format is derived from the compiled contract (the columns and rules aiready enforces), so an
export means what the gate checks: a rule becomes a hard constraint only where aiready rejects
every row breaking it; a rule a format cannot state is listed as a note in that format's own
place for notes (a SQL comment, dbt ``meta``, the JSON Schema's ``x-aiready-notes``).
"""

from __future__ import annotations

import json
from typing import Any, Literal, get_args

import yaml

from aiready.contracts._export_plan import ObjectPlan, note, plans, strict, why_not
from aiready.contracts._pydantic_export import pydantic_source
from aiready.contracts._sql_export import DIALECTS, column_type, ddl
from aiready.contracts.loader import LoadedContract
from aiready.contracts.rules import Column, Rule
from aiready.errors import ContractError

ExportFormat = Literal["jsonschema", "sql", "dbt", "pydantic"]
EXPORT_FORMATS: tuple[str, ...] = get_args(ExportFormat)
SQL_DIALECTS: tuple[str, ...] = tuple(DIALECTS)
JSON_SCHEMA_DRAFT = "https://json-schema.org/draft/2020-12/schema"

__all__ = ["EXPORT_FORMATS", "SQL_DIALECTS", "export_contract", "json_schema"]


def export_contract(
    loaded: LoadedContract,
    fmt: str,
    *,
    dialect: str = "duckdb",
    dataset: str | None = None,
) -> str:
    """The contract in ``fmt`` as text; ``dataset`` picks one schema object (default: all).

    ``dialect`` is the SQL dialect of the DDL and of dbt's ``data_type``.
    """
    if fmt not in EXPORT_FORMATS:
        raise ContractError(
            f"unknown export format {fmt!r}; choose one of {list(EXPORT_FORMATS)}",
            file=str(loaded.path),
        )
    if dialect not in DIALECTS:
        raise ContractError(
            f"unknown SQL dialect {dialect!r}; choose one of {list(SQL_DIALECTS)}",
            file=str(loaded.path),
        )
    objects = plans(loaded, dataset)
    if fmt == "sql":
        return ddl(objects, dialect)
    if fmt == "dbt":
        return yaml.safe_dump(dbt_schema(objects, dialect), sort_keys=False, allow_unicode=True)
    if fmt == "pydantic":
        return pydantic_source(objects)
    if len(objects) > 1:
        names = [p.compiled.object_name for p in objects]
        raise ContractError(
            f"a JSON Schema describes one row shape; the contract has {names}: pick one "
            "with --dataset",
            file=str(loaded.path),
        )
    return json.dumps(json_schema(objects[0]), indent=2, ensure_ascii=False) + "\n"


# JSON Schema ---------------------------------------------------------------------------------

_JSON_TYPES = {
    "integer": {"type": "integer"},
    "decimal": {"type": "number"},
    "float": {"type": "number"},
    "boolean": {"type": "boolean"},
    "string": {"type": "string"},
    "date": {"type": "string", "format": "date"},
    "timestamp": {"type": "string", "format": "date-time"},
}
_JSON_KEYS = {"range", "length", "pattern", "valid_values"}


def json_schema(plan: ObjectPlan) -> dict[str, Any]:
    """A draft 2020-12 JSON Schema of one row of ``plan``'s table."""
    props: dict[str, Any] = {}
    for col in plan.columns:
        props[col.name] = _json_column(plan, col)
    notes = []
    for rule in plan.rules():
        stated = rule.kind in _JSON_KEYS or (rule.kind == "not_null")
        if not (stated and strict(rule)):
            gap = "a SQL condition" if rule.kind == "sql_row" else "not a property of a single row"
            notes.append(note(rule, why_not(rule, gap)))
    schema: dict[str, Any] = {
        "$schema": JSON_SCHEMA_DRAFT,
        "title": plan.table,
    }
    if plan.description:
        schema["description"] = plan.description
    schema |= {"type": "object", "properties": props}
    required = [c.name for c in plan.columns if plan.required(c.name)]
    if required:
        schema["required"] = required
    schema["x-aiready-contract"] = {"id": plan.compiled.id, "version": plan.compiled.version}
    if notes:
        schema["x-aiready-notes"] = notes
    return schema


def _json_column(plan: ObjectPlan, col: Column) -> dict[str, Any]:
    if col.family == "json":
        base = {"type": "array" if plan.logical.get(col.name) == "array" else "object"}
    else:
        base = dict(_JSON_TYPES[col.family])
    out: dict[str, Any] = {}
    if col.description:
        out["description"] = col.description
    nullable = not plan.required(col.name)
    out["type"] = [base.pop("type"), "null"] if nullable else base.pop("type")
    out |= base
    for rule in plan.rules():
        if col.name not in rule.columns or not strict(rule):
            continue
        if rule.kind in ("range", "length"):
            out |= rule.params
        elif rule.kind == "pattern":
            out["pattern"] = rule.params["pattern"]  # ECMA-262 search, like ODCS: as written
        elif rule.kind == "valid_values":
            values = [v for v in rule.params["values"] if v is not None]
            out["enum"] = [*values, None] if nullable else values
    return out


# dbt -------------------------------------------------------------------------------------------


def dbt_schema(objects: list[ObjectPlan], dialect: str) -> dict[str, Any]:
    """A dbt ``schema.yml`` (version 2): one model per schema object, tests mapped from rules."""
    return {"version": 2, "models": [_dbt_model(p, dialect) for p in objects]}


def _dbt_model(plan: ObjectPlan, dialect: str) -> dict[str, Any]:
    columns: dict[str, dict[str, Any]] = {}
    for col in plan.columns:
        entry: dict[str, Any] = {"name": col.name}
        entry["data_type"] = column_type(plan, col, DIALECTS[dialect]).sql(dialect).lower()
        if col.description:
            entry["description"] = col.description
        columns[col.name] = entry
    model_notes: list[dict[str, Any]] = []
    for rule in plan.rules():
        single = len(rule.columns) == 1 or rule.kind in ("not_null", "valid_values")
        test = _dbt_test(rule) if single and rule.limit is None else None
        if test is None:
            why = why_not(rule, _dbt_gap(rule)) if rule.limit is not None else _dbt_gap(rule)
            target = columns[rule.columns[0]] if len(rule.columns) == 1 else None
            where = target.setdefault("meta", {}) if target else None
            notes = where.setdefault("aiready_rules", []) if where is not None else model_notes
            notes.append(note(rule, why))
            continue
        for name in rule.columns:
            columns[name].setdefault("tests", []).append(test)
    model: dict[str, Any] = {"name": plan.table}
    if plan.description:
        model["description"] = plan.description
    model["meta"] = {
        "aiready": {"contract": plan.compiled.id, "version": plan.compiled.version},
    }
    if model_notes:
        model["meta"]["aiready_rules"] = model_notes
    model["columns"] = list(columns.values())
    return model


def _dbt_test(rule: Rule) -> str | dict[str, Any] | None:
    """The dbt built-in test for ``rule``; severity warn for aiready's warn action."""
    test: str | dict[str, Any]
    if rule.kind == "not_null":
        test = "not_null"
    elif rule.kind == "unique":
        test = "unique"
    elif rule.kind == "valid_values":
        values = [v for v in rule.params["values"] if v is not None]
        args: dict[str, Any] = {"values": values}
        if any(not isinstance(v, str) for v in values):
            args["quote"] = False
        test = {"accepted_values": args}
    elif rule.kind == "relationship":
        target = rule.params
        test = {"relationships": {"to": f"ref('{target['dataset']}')", "field": target["column"]}}
    else:
        return None
    if rule.action == "warn":
        name, args = (test, {}) if isinstance(test, str) else next(iter(test.items()))
        return {name: {**args, "config": {"severity": "warn"}}}
    return test


def _dbt_gap(rule: Rule) -> str:
    if rule.kind == "unique":
        return "no dbt built-in test for a composite key (dbt_utils.unique_combination_of_columns)"
    if rule.kind == "missing_values":
        return "aiready turns these tokens into NULL before the checks; no dbt test"
    return f"no dbt built-in test for a {rule.kind} rule; enforced by aiready"
