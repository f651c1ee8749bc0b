"""A draft ODCS v3 contract from SQL DDL, parsed with sqlglot in the DDL's dialect.

Each CREATE TABLE becomes one schema object: column names, logical and physical types (the
physical type written in DuckDB SQL, the way aiready reads it), ``required`` from NOT NULL, the
primary key with its positions, ``unique``, descriptions from COMMENT clauses, COMMENT ON
statements or BigQuery ``OPTIONS(description=…)``, and each CHECK constraint as a ``type: sql``
quality rule that counts the rows breaking it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlglot
import yaml
from sqlglot import exp

from aiready.contracts._sql_export import DIALECTS
from aiready.errors import ContractError

ODCS_API_VERSION = "v3.1.0"
_OBJECT = "__object__"

__all__ = ["import_sql", "import_sql_file"]


def import_sql_file(path: Path, *, dialect: str = "duckdb") -> dict[str, Any]:
    """The draft contract for the DDL in ``path``; errors name the file."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise ContractError("SQL file not found", file=str(path)) from exc
    except UnicodeDecodeError as exc:
        raise ContractError("SQL file is not UTF-8 text", file=str(path)) from exc
    return import_sql(text, dialect=dialect, file=str(path))


def import_sql(
    text: str, *, dialect: str = "duckdb", file: str = "<sql>", name: str | None = None
) -> dict[str, Any]:
    """A draft ODCS v3 contract (a plain mapping, ready for YAML) from CREATE TABLE statements."""
    if dialect not in DIALECTS:
        raise ContractError(
            f"unknown SQL dialect {dialect!r}; choose one of {list(DIALECTS)}", file=file
        )
    statements = _parse(text, dialect, file)
    comments = _comment_statements(statements)
    objects = [
        _schema_object(s, dialect, comments)
        for s in statements
        if isinstance(s, exp.Create)
        and str(s.args.get("kind", "")).upper() == "TABLE"
        and isinstance(s.this, exp.Schema)
    ]
    if not objects:
        raise ContractError(
            "no CREATE TABLE with columns found in the SQL (a draft contract needs at least one)",
            file=file,
        )
    first = str(objects[0]["name"])
    return {
        "apiVersion": ODCS_API_VERSION,
        "kind": "DataContract",
        "id": f"urn:aiready:draft:{name or first}",
        "name": name or first,
        "version": "0.1.0",
        "status": "draft",
        "description": {
            "purpose": f"Draft imported by aiready from {Path(file).name} ({dialect} DDL); "
            "review names, types and rules before use."
        },
        "schema": objects,
    }


def to_yaml(contract: dict[str, Any]) -> str:
    """The contract as YAML (keys in ODCS order, strings quoted where YAML would retype them)."""
    return yaml.safe_dump(contract, sort_keys=False, allow_unicode=True, width=100)


def _parse(text: str, dialect: str, file: str) -> list[exp.Expr]:
    try:
        parsed = sqlglot.parse(text, read=dialect)
    except sqlglot.errors.ParseError as exc:
        first = exc.errors[0] if exc.errors else {}
        raise ContractError(
            f"not SQL that parses as {dialect}: {first.get('description') or exc}",
            file=file,
            line=first.get("line"),
        ) from exc
    except sqlglot.errors.TokenError as exc:
        raise ContractError(f"not SQL that parses as {dialect}: {exc}", file=file) from exc
    return [s for s in parsed if s is not None]


def _comment_statements(statements: list[exp.Expr]) -> dict[tuple[str, str | None], str]:
    """(table, column or None) → text, from COMMENT ON TABLE/COLUMN statements."""
    out: dict[tuple[str, str | None], str] = {}
    for s in statements:
        if not isinstance(s, exp.Comment):
            continue
        kind = str(s.args.get("kind", "")).upper()
        text = s.expression.name if isinstance(s.expression, exp.Literal) else None
        if text is None:
            continue
        if kind == "TABLE" and isinstance(s.this, exp.Table):
            out[(s.this.name, None)] = text
        elif kind == "COLUMN" and isinstance(s.this, exp.Column):
            out[(s.this.table, s.this.name)] = text
    return out


def _schema_object(
    create: exp.Create, dialect: str, comments: dict[tuple[str, str | None], str]
) -> dict[str, Any]:
    schema = create.this
    table = schema.this
    assert isinstance(table, exp.Table)
    name = table.name
    keys = _table_primary_key(schema)
    uniques = _table_uniques(schema)
    props = []
    for cd in schema.expressions:
        if isinstance(cd, exp.ColumnDef):
            props.append(_property(cd, dialect, keys, uniques, comments.get((name, cd.name))))
    obj: dict[str, Any] = {"name": name}
    qualified = table.sql(dialect)
    if table.db:
        obj["physicalName"] = qualified
    obj["physicalType"] = "table"
    description = _table_description(create) or comments.get((name, None))
    if description:
        obj["description"] = description
    obj["properties"] = props
    quality = [_check_rule(c) for c in _checks(schema)]
    if quality:
        obj["quality"] = quality
    return obj


def _table_primary_key(schema: exp.Schema) -> list[str]:
    for item in schema.expressions:
        if isinstance(item, exp.PrimaryKey):
            return [e.name for e in item.expressions]
        if isinstance(item, exp.Constraint):
            for part in item.expressions:
                if isinstance(part, exp.PrimaryKey):
                    return [e.name for e in part.expressions]
    return [
        cd.name
        for cd in schema.expressions
        if isinstance(cd, exp.ColumnDef) and _has(cd, exp.PrimaryKeyColumnConstraint)
    ]


def _table_uniques(schema: exp.Schema) -> set[str]:
    """Columns with a single-column UNIQUE constraint at table level."""
    out: set[str] = set()
    for item in schema.expressions:
        kinds = item.expressions if isinstance(item, exp.Constraint) else [item]
        for kind in kinds:
            if isinstance(kind, exp.UniqueColumnConstraint) and isinstance(kind.this, exp.Schema):
                names = [e.name for e in kind.this.expressions]
                if len(names) == 1:
                    out.add(names[0])
    return out


def _checks(schema: exp.Schema) -> list[exp.Expr]:
    """Every CHECK condition: on a column or at table level."""
    found: list[exp.Expr] = []
    for check in schema.find_all(exp.CheckColumnConstraint):
        found.append(check.this)
    return found


def _check_rule(condition: exp.Expr) -> dict[str, Any]:
    """A CHECK as an ODCS SQL rule: count the rows for which the condition is false."""
    query = (
        exp.select(exp.Count(this=exp.Star()))
        .from_(_OBJECT)
        .where(exp.not_(exp.paren(condition.copy())))
    )
    text = query.sql("duckdb").replace(_OBJECT, "{object}")
    return {
        "name": f"check {condition.sql('duckdb')}"[:120],
        "type": "sql",
        "description": f"CHECK ({condition.sql('duckdb')})",
        "query": text,
        "mustBe": 0,
    }


def _has(cd: exp.ColumnDef, kind: type[exp.Expr]) -> bool:
    return any(isinstance(c.kind, kind) for c in cd.constraints)


def _property(
    cd: exp.ColumnDef,
    dialect: str,
    keys: list[str],
    uniques: set[str],
    comment: str | None,
) -> dict[str, Any]:
    prop: dict[str, Any] = {"name": cd.name}
    kind = cd.args.get("kind")
    logical, physical, options = _types(kind if isinstance(kind, exp.DataType) else None)
    prop["logicalType"] = logical
    if physical:
        prop["physicalType"] = physical
    if options:
        prop["logicalTypeOptions"] = options
    if cd.name in keys:
        prop["primaryKey"] = True
        prop["primaryKeyPosition"] = keys.index(cd.name) + 1
    if _has(cd, exp.NotNullColumnConstraint) or cd.name in keys:
        prop["required"] = True
    if cd.name not in keys and (_has(cd, exp.UniqueColumnConstraint) or cd.name in uniques):
        prop["unique"] = True
    description = _column_description(cd) or comment
    if description:
        prop["description"] = description
    return prop


def _types(dt: exp.DataType | None) -> tuple[str, str | None, dict[str, Any]]:
    """logicalType, physicalType (DuckDB SQL, as aiready reads it) and logicalTypeOptions."""
    if dt is None:
        return "string", None, {}
    physical = dt.sql("duckdb")
    T = exp.DataType.Type
    if dt.is_type(*exp.DataType.INTEGER_TYPES):
        return "integer", physical, {}
    if dt.is_type(*exp.DataType.REAL_TYPES):
        return "number", physical, {}
    if dt.is_type(T.BOOLEAN):
        return "boolean", None, {}
    if dt.is_type(T.DATE):
        return "date", None, {}
    if dt.is_type(*exp.DataType.TEMPORAL_TYPES) and not dt.is_type(T.TIME, T.TIMETZ):
        return "timestamp", None, {}
    if dt.is_type(T.ARRAY) or dt.args.get("nested") and dt.is_type(T.LIST):
        return "array", None, {}
    if dt.is_type(T.JSON, T.JSONB, T.VARIANT, T.OBJECT, T.STRUCT, T.MAP):
        return "object", None, {}
    options: dict[str, Any] = {}
    if dt.is_type(T.VARCHAR, T.NVARCHAR, T.CHAR, T.NCHAR) and dt.expressions:
        size = dt.expressions[0].this
        if isinstance(size, exp.Literal) and size.is_int:
            options["maxLength"] = int(size.name)
    return "string", physical, options


def _column_description(cd: exp.ColumnDef) -> str | None:
    for c in cd.constraints:
        if isinstance(c.kind, exp.CommentColumnConstraint) and isinstance(c.kind.this, exp.Literal):
            return c.kind.this.name
        if isinstance(c.kind, exp.Properties):
            text = _description_property(c.kind.expressions)
            if text:
                return text
    return None


def _table_description(create: exp.Create) -> str | None:
    props = create.args.get("properties")
    if not isinstance(props, exp.Properties):
        return None
    for p in props.expressions:
        if isinstance(p, exp.SchemaCommentProperty) and isinstance(p.this, exp.Literal):
            return p.this.name
    return _description_property(props.expressions)


def _description_property(items: list[exp.Expr]) -> str | None:
    for p in items:
        if isinstance(p, exp.Property) and p.name.lower() == "description":
            value = p.args.get("value")
            if isinstance(value, exp.Literal):
                return value.name
    return None
