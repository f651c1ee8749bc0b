"""Governed SQL under attack: every query is run as the restricted analyst ``ana`` through the
Python API, the CLI and HTTP, and its whole answer (rows, error, output) is searched for the raw
truth she must not see. An attack passes when it is refused or returns only masked values and
permitted rows; it fails on a leak or on an internal error (exit 3, HTTP 500).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pyarrow as pa
import pytest
from typer.testing import CliRunner

from aiready.cli import app as cli_app
from aiready.errors import AireadyError
from aiready.policy.errors import PolicyError
from aiready.policy.sandbox import QueryTimeout, open_sandbox, run
from aiready.service.app import create_app
from aiready.storage.secret import load_secret
from tests.security.conftest import CUSTOMER_ROWS, Fortress
from tests.serving import serving

NESTED_PARENS = "SELECT " + "(" * 50 + "1" + ")" * 50 + " AS x"
DEEP = "SELECT * FROM " + "(SELECT * FROM " * 60 + "silver.payments" + ") AS s" * 60

# {root} is the workspace folder; {lake} its Delta lake.
ATTACKS: dict[str, str] = {
    # plain reads of masked, filtered and forbidden data
    "star customers": "SELECT * FROM silver.customers",
    "star payments": "SELECT * FROM silver.payments",
    "email column": "SELECT email, name FROM silver.customers",
    "forbidden column": "SELECT segment FROM silver.customers",
    "forbidden column in where": "SELECT cid FROM silver.customers WHERE segment LIKE 'seg%'",
    "forbidden column in order": "SELECT cid FROM silver.customers ORDER BY segment",
    "filter bypass or": "SELECT note FROM silver.payments WHERE true OR card_country = 'FR'",
    "filter bypass not": "SELECT note FROM silver.payments WHERE card_country <> 'DE'",
    "filter bypass union": "SELECT note FROM silver.payments UNION ALL SELECT note FROM payments",
    "filter bypass scalar subquery": "SELECT (SELECT max(note) FROM silver.payments "
    "WHERE card_country = 'FR') AS n",
    "row as struct": "SELECT c FROM silver.customers AS c",
    "row to json": "SELECT to_json(c) AS j FROM silver.customers AS c",
    "columns regex": "SELECT COLUMNS('.*') FROM silver.customers",
    "star exclude": "SELECT * EXCLUDE (cid) FROM silver.customers",
    "list of emails": "SELECT list(email) AS l, string_agg(name, ',') AS n FROM silver.customers",
    "unnest masked list": "SELECT * FROM unnest((SELECT list(email) FROM silver.customers))",
    "self join on masked": "SELECT a.email FROM silver.customers a JOIN silver.customers b "
    "ON a.email = b.email",
    "positional join": "SELECT * FROM silver.payments POSITIONAL JOIN silver.customers",
    "from first": "FROM silver.customers SELECT email, segment",
    "values join": "SELECT * FROM (VALUES ('a')) v(x) JOIN silver.customers ON true",
    # CTE shadowing across scopes
    "cte shadow bronze path": "SELECT * FROM (WITH x AS (SELECT 1 AS a) SELECT * FROM x) s, "
    "'{lake}/bronze/payments/*.parquet'",
    "cte named like file": 'SELECT * FROM (WITH "{root}/hostfile.txt" AS (SELECT 1 AS a) '
    'SELECT * FROM "{root}/hostfile.txt") s, "{root}/hostfile.txt"',
    "cte named like bronze file": 'SELECT * FROM (WITH "{bronze_file}" AS (SELECT 1 AS a) '
    'SELECT * FROM "{bronze_file}") s, "{bronze_file}"',
    "cte named like audit file": 'SELECT * FROM (WITH "{audit_file}" AS (SELECT 1 AS a) '
    'SELECT * FROM "{audit_file}") s, "{audit_file}"',
    "cte named like table other scope": "SELECT * FROM (WITH customers AS (SELECT 1 AS a) "
    "SELECT * FROM customers) s, customers",
    "cte forward reference": "WITH b AS (SELECT * FROM bronze_payments), bronze_payments AS "
    "(SELECT 1 AS a) SELECT * FROM b",
    "cte alias duplicate": "WITH c AS (SELECT 1 AS a) SELECT * FROM c JOIN payments AS c ON true",
    "cte over bronze": "WITH customers AS (SELECT * FROM bronze.customers) SELECT * FROM customers",
    "cte over quarantine": "WITH q AS (SELECT * FROM quarantine.payments) SELECT * FROM q",
    "subquery aliased bronze": "SELECT * FROM (SELECT * FROM silver.customers) AS bronze",
    # recursive CTEs
    "recursive over governed": "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r "
    "WHERE n < 3) SELECT r.n, c.email FROM r, silver.customers c",
    "recursive over bronze": "WITH RECURSIVE r AS (SELECT * FROM bronze.payments UNION ALL "
    "SELECT * FROM r) SELECT * FROM r",
    "recursive over file": "WITH RECURSIVE r AS (SELECT * FROM '{root}/hostfile.txt' UNION "
    "SELECT * FROM r) SELECT * FROM r",
    # LATERAL and table functions
    "lateral read_parquet": "SELECT * FROM silver.payments, "
    "LATERAL read_parquet('{lake}/bronze/payments/*.parquet')",
    "join lateral glob": "SELECT * FROM silver.payments JOIN LATERAL glob('{root}/*') g ON true",
    "lateral subquery read_text": "SELECT * FROM silver.payments, "
    "LATERAL (SELECT * FROM read_text('{root}/hostfile.txt'))",
    "lateral subquery query": "SELECT * FROM silver.payments, "
    "LATERAL (SELECT * FROM query('SELECT * FROM payments'))",
    "read_parquet bronze": "SELECT * FROM read_parquet('{lake}/bronze/payments/*.parquet')",
    "read_parquet silver raw": "SELECT * FROM read_parquet('{lake}/silver/customers/*.parquet')",
    "parquet_scan": "SELECT * FROM parquet_scan('{lake}/quarantine/payments/*.parquet')",
    "parquet_metadata": "SELECT * FROM parquet_metadata('{lake}/silver/customers/*.parquet')",
    "delta_scan": "SELECT * FROM delta_scan('{lake}/bronze/customers')",
    "read_csv source": "SELECT * FROM read_csv_auto('{root}/data/customers.csv')",
    "read_json keys": "SELECT * FROM read_json_auto('{root}/.aiready/keys.json')",
    "read_text secret": "SELECT * FROM read_text('{root}/.aiready/secret.json')",
    "read_blob host": "SELECT * FROM read_blob('{root}/hostfile.txt')",
    "glob": "SELECT * FROM glob('{root}/**')",
    "sniff_csv": "SELECT * FROM sniff_csv('{root}/data/customers.csv')",
    "range join": "SELECT * FROM range(3), silver.customers",
    "union with read_text": "SELECT cid FROM silver.customers UNION "
    "SELECT content FROM read_text('{root}/hostfile.txt')",
    "scalar subquery table function": "SELECT (SELECT content FROM "
    "read_text('{root}/hostfile.txt')) AS x",
    # SQL inside string arguments
    "query string": "SELECT * FROM query('SELECT * FROM read_parquet(''{lake}/bronze/payments/*"
    ".parquet'')')",
    "query_table string": "SELECT * FROM query_table('silver__customers')",
    "query registered name": "SELECT * FROM query('SELECT * FROM silver__customers')",
    "json_execute_serialized_sql": "SELECT * FROM json_execute_serialized_sql('{{}}')",
    # file paths as identifiers
    "quoted file path": "SELECT * FROM '{root}/data/customers.csv'",
    "double-quoted path": 'SELECT * FROM "{root}/data/payments.csv"',
    "relative source path": "SELECT * FROM 'data/customers.csv'",
    "keys.json path": "SELECT * FROM '{root}/.aiready/keys.json'",
    "audit table files": "SELECT * FROM '{lake}/_audit/*.parquet'",
    "url path": "SELECT * FROM 'https://example.com/x.parquet'",
    "mlflow db": "SELECT * FROM sqlite_scan('{root}/.aiready/mlflow.db', 'experiments')",
    # names the sandbox or catalog knows
    "registered relation name": "SELECT * FROM silver__customers",
    "catalog qualified": "SELECT * FROM memory.silver.customers",
    "temp qualified": "SELECT * FROM temp.main.silver__customers",
    "bronze table": "SELECT * FROM bronze.customers",
    "quarantine table": "SELECT * FROM quarantine.payments",
    "unicode homoglyph": "SELECT * FROM silver.\uff43ustomers",
    "information_schema tables": "SELECT * FROM information_schema.tables",
    "information_schema columns": "SELECT * FROM information_schema.columns",
    "duckdb_tables": "SELECT * FROM duckdb_tables()",
    "duckdb_views": "SELECT sql FROM duckdb_views()",
    "duckdb_functions": "SELECT * FROM duckdb_functions()",
    "duckdb_secrets": "SELECT * FROM duckdb_secrets()",
    # settings, variables and the environment
    "current_setting": "SELECT current_setting('home_directory') AS h",
    "quoted current_setting": "SELECT \"current_setting\"('temp_directory') AS h",
    "duckdb_settings": "SELECT * FROM duckdb_settings()",
    "getenv": "SELECT getenv('HOME') AS h",
    "getenv uppercase": "SELECT GETENV('PATH') AS h",
    "getvariable": "SELECT getvariable('x') AS v",
    "which_secret": "SELECT * FROM which_secret('s3://x', 's3')",
    "set external access": "SET enable_external_access = true",
    "reset": "RESET enable_external_access",
    # pragmas, extensions, attach, copy, writes
    "pragma": "PRAGMA database_list",
    "pragma function": "SELECT * FROM pragma_database_list()",
    "pragma table info": "SELECT * FROM pragma_table_info('silver__customers')",
    "install": "INSTALL httpfs",
    "load": "LOAD httpfs",
    "load_extension function": "SELECT load_extension('httpfs') AS x",
    "attach": "ATTACH '{root}/.aiready/mlflow.db' AS m",
    "copy to": "COPY silver.customers TO '{root}/leak.csv'",
    "copy query to": "COPY (SELECT * FROM silver.customers) TO '{root}/leak2.csv'",
    "export database": "EXPORT DATABASE '{root}/leakdb'",
    "create table as": "CREATE TABLE x AS SELECT * FROM silver.customers",
    "create macro": "CREATE MACRO m() AS TABLE SELECT * FROM read_text('{root}/hostfile.txt')",
    "prepare": "PREPARE p AS SELECT * FROM silver.customers",
    "multi statement": "SELECT 1 AS a; SELECT * FROM read_text('{root}/hostfile.txt')",
    "describe": "DESCRIBE silver.customers",
    "summarize": "SUMMARIZE silver.customers",
    "show tables": "SHOW ALL TABLES",
    "unpivot masked": "UNPIVOT silver.customers ON email, name INTO NAME k VALUE v",
    # time travel
    "time travel version": "SELECT * FROM silver.payments AT (VERSION => 0)",
    "time travel timestamp": "SELECT * FROM silver.customers AT (TIMESTAMP => now())",
    # deep nesting
    "nested parentheses": NESTED_PARENS,
    "nested subqueries": DEEP,
    "nested boolean": "SELECT note FROM silver.payments WHERE " + "NOT (" * 40 + "true" + ")" * 40,
    # comments and strings
    "comment hides table": "SELECT 1 AS a /* FROM bronze.customers */ -- read_text('x')",
    "string with semicolon": "SELECT ';DROP TABLE x; SELECT * FROM bronze.customers' AS s",
    "unterminated comment": "SELECT * FROM silver.customers /*",
}


def _fill(sql: str, fortress: Fortress) -> str:
    lake = fortress.ws.paths.lake
    bronze = sorted((lake / "bronze/customers").glob("*.parquet"))[0]
    fortress.ws.verify_audit()  # folds the journal into the audit table's files
    files = sorted((lake / "_audit").glob("*.parquet"), key=lambda p: p.stat().st_mtime_ns)
    audit = files[-1] if files else lake / "_audit/none.parquet"
    return sql.format(root=fortress.root, lake=lake, bronze_file=bronze, audit_file=audit)


def _case(name: str) -> Any:
    return pytest.param(name, id=name.replace(" ", "-"))


CASES = [_case(n) for n in ATTACKS]


def test_there_are_at_least_sixty_distinct_attacks() -> None:
    assert len(set(ATTACKS.values())) >= 60


def test_the_sentinels_are_really_in_the_data(fortress: Fortress) -> None:
    """The oracle is not vacuous: the steward sees what ana may not."""
    seen = json.dumps(
        fortress.ws.query("SELECT * FROM silver.customers", "stew", "analytics").asdict(),
        default=str,
    ) + json.dumps(
        fortress.ws.query("SELECT * FROM silver.payments", "stew", "analytics").asdict(),
        default=str,
    )
    assert {"claire.zq3@example.fr", "seg-gold-zq", "note-fr-zq-3", "Davezqfour"} <= set(
        fortress.leaks(seen)
    )
    ana = fortress.ws.query("SELECT note FROM silver.payments", "ana", "analytics")
    assert {r["note"] for r in ana.table.to_pylist()} == fortress.permitted_notes


@pytest.mark.parametrize("name", CASES)
def test_python_api(fortress: Fortress, name: str) -> None:
    sql = _fill(ATTACKS[name], fortress)
    try:
        answer = json.dumps(fortress.ws.query(sql, "ana", "analytics").asdict(), default=str)
    except AireadyError as exc:
        assert exc.exit_code in (1, 2), exc
        answer = str(exc)
    assert fortress.leaks(answer) == []
    assert not (fortress.root / "leak.csv").exists()


@pytest.fixture(scope="module")
def runner() -> CliRunner:
    return CliRunner()


@pytest.mark.parametrize("name", CASES)
def test_cli(fortress: Fortress, runner: CliRunner, name: str) -> None:
    """The CLI's own command and error path, in process (the exit-code mapping is main()'s)."""
    sql = _fill(ATTACKS[name], fortress)
    args = ["query", sql, "--principal", "ana", "--purpose", "analytics", "--json"]
    result = runner.invoke(cli_app, [*args, "-w", str(fortress.root)])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        assert isinstance(result.exception, AireadyError), repr(result.exception)
        assert result.exception.exit_code in (1, 2)
        answer = str(result.exception)
    else:
        answer = result.output
    assert fortress.leaks(answer) == []


@pytest.mark.parametrize(
    "name", ["lateral read_parquet", "cte shadow bronze path", "query string", "star customers"]
)
def test_cli_subprocess(fortress: Fortress, name: str) -> None:
    sql = _fill(ATTACKS[name], fortress)
    env = {**os.environ, "MLFLOW_DISABLE_TELEMETRY": "true"}
    proc = subprocess.run(
        [sys.executable, "-m", "aiready", "query", sql, "--principal", "ana"]
        + ["--purpose", "analytics", "--json", "-w", str(fortress.root)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert proc.returncode in (0, 1, 2), proc.stderr
    assert fortress.leaks(proc.stdout + proc.stderr) == []


@pytest.fixture(scope="module")
def service(fortress: Fortress) -> Iterator[str]:
    with serving(create_app(fortress.ws)) as url:
        yield url


@pytest.mark.parametrize("name", CASES)
def test_http(fortress: Fortress, service: str, name: str) -> None:
    sql = _fill(ATTACKS[name], fortress)
    response = httpx.post(
        f"{service}/query",
        json={"sql": sql, "purpose": "analytics", "limit": 100},
        headers={"Authorization": f"Bearer {fortress.key}"},
        timeout=60,
    )
    assert response.status_code < 500, response.text
    assert response.status_code in (200, 400, 403, 422), response.text
    assert fortress.leaks(response.text) == []


GUESSES = [
    # (query with a guess, the same query with a nonsense guess): equal answers, no signal
    "SELECT count(*) AS n FROM silver.customers WHERE email = '{g}'",
    "SELECT count(*) AS n FROM silver.customers WHERE email = sha256('{g}')",
    "SELECT count(*) AS n FROM silver.customers WHERE email LIKE '%' || '{g}' || '%'",
    "SELECT count(*) AS n FROM silver.customers WHERE name = '{g}'",
    "SELECT count(*) AS n FROM silver.payments WHERE note = '{g}'",
]


@pytest.mark.parametrize("template", GUESSES)
def test_guessing_a_value_gives_no_signal(fortress: Fortress, template: str) -> None:
    guesses = ["anke.mueller.zq1@example.de", "claire.zq3@example.fr", "Ankezqone"]
    guesses += ["note-fr-zq-3", "note-de-zq-1"]

    def answer(guess: str) -> Any:
        sql = template.format(g=guess)
        return fortress.ws.query(sql, "ana", "analytics").table.to_pylist()

    nonsense = answer("zz-nonsense-zz")
    for guess in guesses:
        if "note-de" in guess and "note" in template:
            continue  # a permitted row: ana may confirm what she can see
        assert answer(guess) == nonsense, (template, guess)


def test_the_hash_mask_is_keyed(fortress: Fortress) -> None:
    rows = fortress.ws.query("SELECT email FROM silver.customers", "ana", "analytics")
    hashes = {r["email"] for r in rows.table.to_pylist()}
    assert len(hashes) == 2 and all(len(h) == 64 for h in hashes)  # two DE customers, hex
    key = load_secret(fortress.ws.paths.state).key
    expected = {
        hmac.new(key, e.encode(), hashlib.sha256).hexdigest()
        for _, e, _, c, _ in CUSTOMER_ROWS
        if c == "DE"
    }
    assert hashes == expected  # RFC 2104 HMAC-SHA256, so joins on the masked value still work


def test_nothing_was_written_by_any_attack(fortress: Fortress) -> None:
    root = Path(fortress.root)
    assert not any(root.glob("leak*"))


@pytest.fixture(scope="module")
def ana_relations(fortress: Fortress) -> dict[str, Any]:
    """What ana's sandbox holds for a query over every column she may use."""
    from aiready.policy.context import PolicyContext
    from aiready.policy.query import QueryResult, _relations, _snapshot

    ws = fortress.ws
    sources = {("silver", n): _snapshot(ws.paths, "silver", n) for n in ("customers", "payments")}
    used = {
        ("silver", "customers"): {"cid", "email", "name", "country"},
        ("silver", "payments"): {"id", "cid", "amount", "card_country", "note"},
    }
    result = QueryResult(pa.table({}), [])
    ctx = PolicyContext(ws.paths, ws.config, ws.policy, ws.audit_path)
    return _relations(ctx, sources, used, "ana", "analytics", result)


@pytest.mark.parametrize("name", CASES)
def test_the_sandbox_holds_without_the_checks(
    fortress: Fortress, ana_relations: dict[str, Any], name: str
) -> None:
    """Each attack sent straight to ana's sandbox, skipping every sqlglot check: whatever runs
    can read only her masked, filtered relations — no file, table, setting or extension."""
    sql = _fill(ATTACKS[name], fortress)
    for source in ("customers", "payments"):  # point the attack at the registered names
        sql = sql.replace(f"silver.{source}", f"silver__{source}")
    try:
        answer = json.dumps(run(open_sandbox(ana_relations), sql, 10).to_pylist(), default=str)
    except PolicyError as exc:
        answer = str(exc)
    assert fortress.leaks(answer) == []
    assert not any(Path(fortress.root).glob("leak*"))


def test_a_query_past_its_time_limit_is_stopped(fortress: Fortress) -> None:
    slow = (
        "SELECT count(*) AS n FROM range(100000000) a, range(100000000) b WHERE a.range = b.range"
    )
    with pytest.raises(QueryTimeout, match="time limit of 0.5 s"):
        run(open_sandbox({}), slow, 0.5)
    assert run(open_sandbox({}), "SELECT 42 AS x", 5).to_pylist() == [{"x": 42}]


def test_sql_and_python_hmac_masks_agree() -> None:
    """Retrieval masks hits in SQL, queries per distinct value in Python: the same value."""
    import duckdb

    from aiready.policy.access import mask_sql

    key = bytes(range(32))
    values = ["anke@example.de", "ü-ñ ✓", "", "x" * 200]
    con = duckdb.connect()
    con.register("t", pa.table({"v": values}))
    in_sql = [r[0] for r in con.sql(f"SELECT {mask_sql('v', 'hash', key)} FROM t").fetchall()]
    assert in_sql == [hmac.new(key, v.encode(), hashlib.sha256).hexdigest() for v in values]
