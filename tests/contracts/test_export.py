"""Contract export and import with the real tools: sqlglot, DuckDB, jsonschema, pydantic, PyYAML."""

from __future__ import annotations

import datetime
import decimal
import importlib.util
import sys
from pathlib import Path
from typing import Any

import duckdb
import jsonschema
import pydantic
import pytest
import sqlglot
import yaml
from sqlglot import exp

from aiready.contracts import compile_contract, load_contract
from aiready.contracts.export import SQL_DIALECTS, export_contract
from aiready.contracts.importer import import_sql, import_sql_file, to_yaml
from aiready.errors import ContractError

CONTRACT = """\
apiVersion: v3.1.0
kind: DataContract
id: urn:test:orders
name: orders
version: 1.0.0
status: active
schema:
  - name: orders
    physicalType: table
    description: One row per order; "quoted" text and a ' quote.
    properties:
      - name: order_id
        logicalType: integer
        primaryKey: true
        description: The order's id
      - name: customer
        logicalType: string
        required: true
        logicalTypeOptions: {pattern: '^C[0-9]{3}$', maxLength: 4}
      - name: amount
        logicalType: number
        physicalType: DECIMAL(12,2)
        logicalTypeOptions: {minimum: 0, maximum: 10000}
      - name: status
        logicalType: string
        quality:
          - metric: invalidValues
            arguments: {validValues: [new, paid, shipped]}
            mustBe: 0
      - name: placed
        logicalType: date
        required: true
      - name: ts
        logicalType: timestamp
      - name: ratio
        logicalType: number
        physicalType: DOUBLE
        quality:
          - type: sql
            query: SELECT COUNT(*) FROM {object} WHERE ratio > 1
            mustBe: 0
      - name: select
        logicalType: boolean
      - name: Unit Price
        logicalType: number
        physicalType: FLOAT
        description: 'A name with a space; a description with \"\"\" and \\\\ in it'
      - name: small
        logicalType: integer
        physicalType: SMALLINT
      - name: meta
        logicalType: object
      - name: email
        logicalType: string
        unique: true
        relationships:
          - to: customers.email
    quality:
      - metric: rowCount
        mustBeGreaterThan: 0
"""

TWO_TABLES = """\
apiVersion: v3.1.0
kind: DataContract
id: urn:test:lines
name: lines
version: 1.0.0
status: active
schema:
  - name: lines
    properties:
      - {name: line_no, logicalType: integer, primaryKey: true, primaryKeyPosition: 2}
      - {name: order_id, logicalType: integer, primaryKey: true, primaryKeyPosition: 1}
      - {name: qty, logicalType: integer, required: true}
  - name: notes
    description: Free text.
    properties:
      - {name: note_id, logicalType: string, primaryKey: true}
      - {name: body, logicalType: string, description: the text}
"""

GOOD_ROW: dict[str, Any] = {
    "order_id": 1,
    "customer": "C001",
    "amount": 12.5,
    "status": "paid",
    "placed": "2026-01-31",
    "ts": None,
    "ratio": 0.5,
    "select": True,
    "Unit Price": 1.25,
    "small": 3,
    "meta": {"k": 1},
    "email": "a@example.com",
}
WIDENED = {
    # types the dialect does not have: the next wider one of the same family comes back
    ("snowflake", "FLOAT"): "DOUBLE",  # Snowflake FLOAT is 64-bit
    ("bigquery", "FLOAT"): "DOUBLE",  # FLOAT64 only
    ("bigquery", "SMALLINT"): "BIGINT",  # INT64 only
}
BAD_ROWS = [
    {"order_id": None},
    {"customer": None},
    {"customer": "C0001"},  # longer than maxLength 4
    {"amount": -1},
    {"amount": 10001},
    {"status": "lost"},
    {"placed": "2026-02-30"},
]


def _write(tmp_path: Path, text: str = CONTRACT, name: str = "c.odcs.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _shape(path: Path, dataset: str) -> tuple[Any, ...]:
    compiled = compile_contract(load_contract(path), dataset)
    columns = [(c.name, c.family, c.sql_type, c.description) for c in compiled.columns]
    required = sorted(
        n for r in compiled.rules if r.kind == "not_null" and r.action != "warn" for n in r.columns
    )
    return columns, required, compiled.primary_key


@pytest.mark.parametrize("dialect", SQL_DIALECTS)
@pytest.mark.parametrize(
    ("text", "datasets"), [(CONTRACT, ["orders"]), (TWO_TABLES, ["lines", "notes"])]
)
def test_sql_round_trip_keeps_columns_types_required_and_key(
    tmp_path: Path, dialect: str, text: str, datasets: list[str]
) -> None:
    source = _write(tmp_path, text)
    ddl = export_contract(load_contract(source), "sql", dialect=dialect)
    (tmp_path / "t.sql").write_text(ddl, encoding="utf-8")
    draft = _write(
        tmp_path, to_yaml(import_sql_file(tmp_path / "t.sql", dialect=dialect)), "d.yaml"
    )
    assert [o["name"] for o in load_contract(draft).raw["schema"]] == datasets
    for dataset in datasets:
        columns, required, key = _shape(source, dataset)
        widened = [(n, f, WIDENED.get((dialect, t), t), d) for n, f, t, d in columns]
        assert _shape(draft, dataset) == (widened, required, key)
    objects = {o["name"]: o for o in load_contract(draft).raw["schema"]}
    originals = {o["name"]: o for o in load_contract(source).raw["schema"]}
    for name, obj in objects.items():
        assert obj.get("description") == originals[name].get("description")


KEYWORDS = """\
apiVersion: v3.1.0
kind: DataContract
id: urn:test:keywords
name: keywords
version: 1.0.0
status: active
schema:
  - name: order
    description: A table and columns named like SQL keywords.
    properties:
      - {name: user, logicalType: integer, primaryKey: true, logicalTypeOptions: {minimum: 1}}
      - {name: order, logicalType: integer, required: true, logicalTypeOptions: {maximum: 99}}
      - {name: group, logicalType: string, unique: true, logicalTypeOptions: {maxLength: 3}}
      - name: check
        logicalType: string
        quality:
          - {metric: invalidValues, arguments: {validValues: [a, b]}, mustBe: 0}
      - {name: select, logicalType: boolean, description: a keyword}
      - {name: a b, logicalType: number, physicalType: DOUBLE}
      - name: MixedCase
        logicalType: integer
        quality:
          # DuckDB SQL: an unquoted name matches the column whatever its case
          - {type: sql, query: 'SELECT COUNT(*) FROM {object} WHERE mixedcase > 10', mustBe: 0}
"""
KEYWORD_COLUMNS = ["user", "order", "group", "check", "select", "a b", "MixedCase"]


@pytest.mark.parametrize("dialect", SQL_DIALECTS)
def test_sql_quotes_every_identifier_so_keywords_and_case_come_back_exact(
    tmp_path: Path, dialect: str
) -> None:
    ddl = export_contract(load_contract(_write(tmp_path, KEYWORDS)), "sql", dialect=dialect)
    statements = sqlglot.parse(ddl, read=dialect)
    create = statements[0]
    assert isinstance(create, exp.Create) and create.this.this.name == "order"
    assert [c.name for c in create.find_all(exp.ColumnDef)] == KEYWORD_COLUMNS
    assert all(i.quoted for s in statements if s for i in s.find_all(exp.Identifier))
    # a CHECK names only the contract's columns, spelt exactly (never CURRENT_USER, never mixedcase)
    referenced = {c.name for c in create.find_all(exp.Column)}
    assert referenced <= set(KEYWORD_COLUMNS)
    assert ("MixedCase" in referenced) == (dialect in ("duckdb", "postgres", "spark"))
    draft = _write(tmp_path, to_yaml(import_sql(ddl, dialect=dialect)), "d.yaml")
    assert [p["name"] for p in load_contract(draft).raw["schema"][0]["properties"]] == (
        KEYWORD_COLUMNS
    )
    imported = compile_contract(load_contract(draft), "order")
    assert imported.primary_key == ("user",)


def test_duckdb_runs_keyword_ddl_and_its_checks_name_the_columns(tmp_path: Path) -> None:
    con = duckdb.connect(":memory:")
    con.execute(export_contract(load_contract(_write(tmp_path, KEYWORDS)), "sql", dialect="duckdb"))
    names = con.execute(
        "SELECT column_name FROM duckdb_columns() WHERE table_name = 'order' ORDER BY column_index"
    ).fetchall()
    assert [n for (n,) in names] == KEYWORD_COLUMNS
    good = {"user": 1, "order": 2, "group": "g", "check": "a", "MixedCase": 10}

    def insert(row: dict[str, Any]) -> None:
        columns = ", ".join(f'"{k}"' for k in row)
        con.execute(f'INSERT INTO "order" ({columns}) VALUES (?, ?, ?, ?, ?)', list(row.values()))

    insert(good)
    for n, change in enumerate(
        [{"user": 0}, {"order": 100}, {"group": "long"}, {"check": "z"}, {"MixedCase": 11}]
    ):
        with pytest.raises(duckdb.ConstraintException):
            insert({**good, "user": 10 + n, "group": f"g{n}", **change})
    assert con.execute('SELECT count(*) FROM "order"').fetchone() == (1,)


def test_composite_key_keeps_its_positions(tmp_path: Path) -> None:
    ddl = export_contract(load_contract(_write(tmp_path, TWO_TABLES)), "sql", dataset="lines")
    assert ddl.count("CREATE TABLE") == 1
    prop = {p["name"]: p for p in import_sql(ddl)["schema"][0]["properties"]}
    assert (prop["order_id"]["primaryKeyPosition"], prop["line_no"]["primaryKeyPosition"]) == (1, 2)


def _duckdb_with(tmp_path: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(":memory:")
    con.execute(export_contract(load_contract(_write(tmp_path)), "sql", dialect="duckdb"))
    return con


def _insert(con: duckdb.DuckDBPyConnection, row: dict[str, Any]) -> None:
    values = {**row, "meta": None if row.get("meta") is None else '{"k": 1}'}
    names = ", ".join(f'"{k}"' for k in values)
    con.execute(
        f"INSERT INTO orders ({names}) VALUES ({', '.join('?' * len(values))})",
        list(values.values()),
    )


def test_duckdb_runs_the_ddl_and_rejects_rows_the_contract_rejects(tmp_path: Path) -> None:
    con = _duckdb_with(tmp_path)
    _insert(con, GOOD_ROW)
    assert con.execute("SELECT count(*) FROM orders").fetchone() == (1,)
    comment = con.execute(
        "SELECT comment FROM duckdb_columns() "
        "WHERE table_name = 'orders' AND column_name = 'order_id'"
    ).fetchone()
    assert comment == ("The order's id",)
    for n, change in enumerate([*BAD_ROWS[:-1], {"ratio": 2.0}, {"email": GOOD_ROW["email"]}]):
        row = {**GOOD_ROW, "order_id": 100 + n, **change}
        with pytest.raises(duckdb.ConstraintException):
            _insert(con, row)
    with pytest.raises(duckdb.ConstraintException):  # the primary key
        _insert(con, {**GOOD_ROW, "email": "b@example.com"})


@pytest.mark.parametrize("dialect", ["snowflake", "bigquery"])
def test_rules_a_dialect_cannot_state_are_listed_not_dropped(tmp_path: Path, dialect: str) -> None:
    ddl = export_contract(load_contract(_write(tmp_path)), "sql", dialect=dialect)
    assert "CHECK (" not in ddl
    for rule_id in (
        "amount.range",
        "customer.length",
        "status.invalidValues",
        "ratio.sql",
        "customer.pattern",
    ):
        assert rule_id in ddl
    assert ("NOT ENFORCED" in ddl) == (dialect == "bigquery")


def test_json_schema_is_valid_2020_12_and_judges_rows_like_the_contract(tmp_path: Path) -> None:
    import json

    schema = json.loads(export_contract(load_contract(_write(tmp_path)), "jsonschema"))
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    validator = jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )
    validator.validate(GOOD_ROW)
    validator.validate({**GOOD_ROW, "amount": None, "status": None, "select": None})
    assert schema["properties"]["customer"]["pattern"] == "^C[0-9]{3}$"  # as written
    for change in [*BAD_ROWS, {"placed": None}, {"meta": "text"}]:
        assert not validator.is_valid({**GOOD_ROW, **change}), change
    assert not validator.is_valid({k: v for k, v in GOOD_ROW.items() if k != "placed"})
    noted = {n["id"] for n in schema["x-aiready-notes"]}
    assert noted == {
        "ratio.sql",
        "email.unique",
        "email.references.customers",
        "order_id.primary_key",
        "row_count",
    }


def _import(path: Path, source: str) -> Any:
    """Import generated source the way a user would: as a module file."""
    path.write_text(source, encoding="utf-8")
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[path.stem] = module
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules[path.stem]
    return module


def test_pydantic_model_source_runs_and_validates_rows(tmp_path: Path) -> None:
    source = export_contract(load_contract(_write(tmp_path)), "pydantic")
    model = _import(tmp_path / "generated_orders.py", source).Orders
    row = model.model_validate(GOOD_ROW)
    assert row.amount == decimal.Decimal("12.5") and row.placed == datetime.date(2026, 1, 31)
    assert row.Unit_Price == 1.25 and row.select is True
    assert '"""' in model.model_fields["Unit_Price"].description
    for change in [*BAD_ROWS, {"amount": "1.239"}, {"customer": "X123"}]:
        with pytest.raises(pydantic.ValidationError):
            model.model_validate({**GOOD_ROW, **change})
    assert "email.unique" in (model.__doc__ or "")


SHADOWS = [
    # what a generated module could import or use in a class body, and its private aliases
    *("datetime", "date", "time", "decimal", "typing", "Any", "Optional", "Literal"),
    *("Annotated", "pydantic", "BaseModel", "ConfigDict", "Field", "model_config", "builtins"),
    *("int", "float", "bool", "str", "dict", "list", "None", "True"),
    *("_dt", "_decimal", "_Any", "_Literal", "_BaseModel", "_ConfigDict", "_Field", "_int", "_str"),
]
# logicalType (and options), a value the model accepts, a value it rejects
TYPED: list[tuple[dict[str, Any], Any, Any]] = [
    ({"logicalType": "integer"}, 1, "one"),
    ({"logicalType": "number", "physicalType": "DECIMAL(6,2)"}, "1.25", "1.234"),
    ({"logicalType": "number", "physicalType": "DOUBLE"}, 0.5, "half"),
    ({"logicalType": "boolean"}, True, "maybe"),
    ({"logicalType": "date"}, "2026-01-31", "2026-02-30"),
    ({"logicalType": "timestamp"}, "2026-01-31T10:00:00+00:00", "soon"),
    ({"logicalType": "string", "logicalTypeOptions": {"maxLength": 3}}, "abc", "abcd"),
    (
        {
            "logicalType": "string",
            "quality": [
                {"metric": "invalidValues", "arguments": {"validValues": ["x", "y"]}, "mustBe": 0}
            ],
        },
        "x",
        "z",
    ),
    ({"logicalType": "object"}, {"k": 1}, "text"),
    ({"logicalType": "array"}, [1], "text"),
]


# a contract's column names differ in more than case, so `Decimal` stands in a second contract
@pytest.mark.parametrize("shadows", [SHADOWS, ["Decimal", "Field", "int"]], ids=["all", "Decimal"])
def test_pydantic_module_runs_whatever_the_columns_are_named(
    tmp_path: Path, shadows: list[str]
) -> None:
    # each name shadows first; then a column of every type, whose annotation and _Field come after
    columns = [(n, *TYPED[i % len(TYPED)]) for i, n in enumerate(shadows)]
    columns += [(f"last_{i}", *typed) for i, typed in enumerate(TYPED)]
    properties = [{"name": n, **spec, "required": True} for n, spec, _, _ in columns]
    contract = {
        **yaml.safe_load(TWO_TABLES),
        "schema": [{"name": "shadows", "properties": properties}],
    }
    loaded = load_contract(_write(tmp_path, yaml.safe_dump(contract, sort_keys=False)))
    model = _import(tmp_path / "generated_shadows.py", export_contract(loaded, "pydantic")).Shadows
    good = {n: value for n, _, value, _ in columns}
    row = model.model_validate(good)
    assert list(row.model_dump(by_alias=True)) == [n for n, *_ in columns]
    for name, _, _, bad in columns:
        with pytest.raises(pydantic.ValidationError):
            model.model_validate({**good, name: bad})
        with pytest.raises(pydantic.ValidationError):
            model.model_validate({**good, name: None})


def test_dbt_schema_maps_rules_to_tests_and_lists_the_rest(tmp_path: Path) -> None:
    loaded = load_contract(_write(tmp_path))
    doc = yaml.safe_load(export_contract(loaded, "dbt", dialect="snowflake"))
    assert doc["version"] == 2 and [m["name"] for m in doc["models"]] == ["orders"]
    model = doc["models"][0]
    cols = {c["name"]: c for c in model["columns"]}
    assert cols["order_id"]["tests"] == ["not_null", "unique"]
    assert cols["amount"]["data_type"] == "decimal(12, 2)"
    assert cols["status"]["tests"] == [{"accepted_values": {"values": ["new", "paid", "shipped"]}}]
    assert cols["email"]["tests"][1] == {
        "relationships": {
            "to": "ref('customers')",
            "field": "email",
            "config": {"severity": "warn"},
        }
    }
    listed = {
        t
        for c in cols.values()
        for t in [n["id"] for n in c.get("meta", {}).get("aiready_rules", [])]
    }
    listed |= {n["id"] for n in model["meta"]["aiready_rules"]}
    assert listed == {
        "customer.length",
        "customer.pattern",
        "amount.range",
        "ratio.sql",
        "row_count",
    }
    tested = sum(len(c.get("tests", [])) for c in cols.values())
    rules = [r for r in compile_contract(loaded, "orders").rules if r.kind != "type"]
    assert tested + len(listed) == len(rules)  # every rule is a test or a note


def test_two_objects_need_a_dataset_for_json_schema(tmp_path: Path) -> None:
    loaded = load_contract(_write(tmp_path, TWO_TABLES))
    with pytest.raises(ContractError, match="pick one") as err:
        export_contract(loaded, "jsonschema")
    assert err.value.attrs()["file"].endswith("c.odcs.yaml")
    assert '"title": "notes"' in export_contract(loaded, "jsonschema", dataset="notes")
    with pytest.raises(ContractError, match="no schema object named 'nope'"):
        export_contract(loaded, "sql", dataset="nope")
    ddl = export_contract(loaded, "sql", dialect="postgres")
    assert ddl.count("CREATE TABLE") == 2 and 'PRIMARY KEY ("order_id", "line_no")' in ddl
    source = export_contract(loaded, "pydantic")
    assert "class Lines(_BaseModel)" in source and "class Notes(_BaseModel)" in source


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        ("this is not sql ((", "not SQL that parses"),
        ("SELECT 1; INSERT INTO t VALUES (1)", "no CREATE TABLE"),
        ("CREATE VIEW v AS SELECT 1", "no CREATE TABLE"),
        ("", "no CREATE TABLE"),
        ("CREATE TABLE t (a INT", "not SQL that parses"),
    ],
)
def test_bad_sql_is_a_contract_error_naming_the_file(
    tmp_path: Path, sql: str, message: str
) -> None:
    path = tmp_path / "bad.sql"
    path.write_text(sql, encoding="utf-8")
    with pytest.raises(ContractError, match=message) as err:
        import_sql_file(path)
    assert err.value.attrs()["file"] == str(path)


def test_bad_arguments_are_contract_errors(tmp_path: Path) -> None:
    loaded = load_contract(_write(tmp_path))
    with pytest.raises(ContractError, match="unknown SQL dialect 'oracle'"):
        export_contract(loaded, "sql", dialect="oracle")
    with pytest.raises(ContractError, match="unknown export format 'avro'"):
        export_contract(loaded, "avro")
    with pytest.raises(ContractError, match="unknown SQL dialect"):
        import_sql("CREATE TABLE t (a INT)", dialect="mysqlx")
    with pytest.raises(ContractError, match="not found"):
        import_sql_file(tmp_path / "missing.sql")
