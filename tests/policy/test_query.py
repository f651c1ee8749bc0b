"""Governed queries: no SQL trick reads a forbidden column, a masked value or a filtered row."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import aiready
from aiready.policy import AccessDenied, PolicyError
from tests.policy.test_policy import governed

ACCESS = """\
masks:
  customers.cid: partial
row_filters:
  payments: "cid = principal.team_customer"
"""
EXTRA_POLICIES = """\
@id("analysts-read-customers")
permit(principal in Group::"analysts", action == Action::"query", resource)
when { resource.dataset == "customers" || resource.name == "customers" };

@id("no-segment")
forbid(principal, action == Action::"query", resource is Column)
when { resource.name == "segment" };

@id("stewards-see-everything")
permit(principal in Group::"stewards", action, resource);
"""


@pytest.fixture
def ws(tmp_path: Path) -> aiready.Workspace:
    governed(tmp_path)
    (tmp_path / "policies/access.yaml").write_text(ACCESS)
    with (tmp_path / "policies/access.cedar").open("a") as f:
        f.write(EXTRA_POLICIES)
    (tmp_path / "policies/principals.yaml").write_text(
        "groups: [analysts, ai-apps, stewards]\nusers:\n"
        "  alice: {groups: [analysts], region: EU, team_customer: A}\n"
        "  sam: {groups: [stewards]}\n  bob: {groups: [analysts]}\n"
        "services:\n  churn-bot: {groups: [ai-apps]}\n"
    )
    path = tmp_path / "contracts/customers.odcs.yaml"
    path.write_text(
        path.read_text() + "customProperties:\n  - property: allowedPurposes\n    value: [fraud]\n"
    )
    workspace = aiready.Workspace.load(tmp_path)
    workspace.ingest()
    workspace.refine()
    return workspace


def rows(ws: aiready.Workspace, sql: str, who: str = "alice") -> list[dict[str, object]]:
    return list(ws.query(sql, who, "fraud").table.to_pylist())


def test_row_filter_and_mask_apply_before_the_query(ws: aiready.Workspace) -> None:
    assert rows(ws, "SELECT id FROM silver.payments ORDER BY id") == [{"id": 1}, {"id": 2}]
    assert rows(ws, "SELECT count(*) AS n FROM payments") == [{"n": 2}]  # bare name, filtered
    masked = rows(ws, "SELECT cid FROM silver.customers ORDER BY cid")
    assert {r["cid"] for r in masked} == {"A***A", "B***B", "C***C"}
    # a steward is permitted `read`: raw values and every row
    raw = rows(ws, "SELECT cid FROM silver.customers ORDER BY cid", who="sam")
    assert [r["cid"] for r in raw] == ["A", "B", "C"]
    assert len(rows(ws, "SELECT id FROM silver.payments", who="sam")) == 3


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT * FROM silver.customers",  # star expands
        "SELECT cid FROM silver.customers WHERE segment = 'smb'",  # in WHERE
        "SELECT upper(segment) AS s FROM silver.customers",  # in a function
        "SELECT x FROM (SELECT segment AS x FROM silver.customers) AS t",  # subquery + alias
        "WITH c AS (SELECT * FROM silver.customers) SELECT cid FROM c",  # CTE star
        "SELECT cid FROM silver.customers UNION ALL SELECT segment FROM silver.customers",
        "SELECT count(DISTINCT segment) AS n FROM silver.customers",  # aggregate
        "SELECT cid FROM silver.customers ORDER BY segment",  # ORDER BY
        "SELECT c.cid FROM silver.customers c JOIN silver.customers d ON c.segment = d.segment",
    ],
)
def test_forbidden_column_cannot_be_reached(ws: aiready.Workspace, sql: str) -> None:
    with pytest.raises(AccessDenied, match="customers.segment"):
        ws.query(sql, "alice", "fraud")


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT id FROM silver.payments WHERE cid = 'B'",  # filtered rows
        "SELECT id FROM silver.payments p WHERE NOT EXISTS (SELECT 1 WHERE p.cid = 'A')",
    ],
)
def test_filtered_rows_never_appear(ws: aiready.Workspace, sql: str) -> None:
    assert rows(ws, sql) == []


def test_masked_values_cannot_be_inferred(ws: aiready.Workspace) -> None:
    assert rows(ws, "SELECT count(*) AS n FROM silver.customers WHERE cid = 'A'") == [{"n": 0}]
    assert rows(ws, "SELECT count(*) AS n FROM silver.customers WHERE cid LIKE 'A%'") == [{"n": 1}]


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        ("DELETE FROM silver.payments", "read-only SELECT"),
        ("SELECT 1; DROP TABLE silver.payments", "read-only SELECT"),
        ("CREATE TABLE x AS SELECT * FROM silver.payments", "read-only SELECT"),
        ("SELECT * FROM read_parquet('/etc/passwd')", "read_parquet is not allowed"),
        ("SELECT * FROM bronze.payments", "unknown table"),
        ("SELECT * FROM quarantine.payments", "unknown table"),
        ("SELECT getenv('HOME') AS h FROM silver.payments", "getenv is not allowed"),
        ("SELECT current_setting('threads') AS s", "current_setting is not allowed"),
        ("SELECT nope FROM silver.payments", "cannot be resolved"),
        ("SELECT FROM WHERE (", "does not parse"),
    ],
)
def test_refused_queries(ws: aiready.Workspace, sql: str, message: str) -> None:
    with pytest.raises(PolicyError, match=message):
        ws.query(sql, "alice", "fraud")


def test_principal_and_purpose_are_checked(ws: aiready.Workspace) -> None:
    with pytest.raises(PolicyError, match="unknown principal"):
        ws.query("SELECT id FROM silver.payments", "mallory", "fraud")
    with pytest.raises(PolicyError, match="purpose is required"):
        ws.query("SELECT id FROM silver.payments", "alice", "")
    with pytest.raises(AccessDenied, match="may not query payments for 'marketing'"):
        ws.query("SELECT id FROM silver.payments", "alice", "marketing")
    assert ws.verify_audit() > 0  # denials were audited too


def test_mask_and_filter_decisions_are_audited(ws: aiready.Workspace) -> None:

    before = ws.verify_audit()
    result = ws.query("SELECT cid FROM silver.customers", "alice", "fraud")
    reads = [d for d in result.decisions if d.action == "read"]
    assert [d.resource for d in reads] == ["customers.cid"] and not reads[0].allowed
    assert ws.verify_audit() == before + len(result.decisions)
    table = ws.audit_log()
    assert table is not None
    log = table.to_pylist()
    assert any(r["action"] == "read" and r["resource"] == "customers.cid" for r in log)


def test_cli_query(ws: aiready.Workspace) -> None:
    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "aiready", "query", *args, "-w", str(ws.root)],
            capture_output=True,
            text=True,
            env={**os.environ},
            timeout=120,
        )

    ok = cli(
        "SELECT id FROM silver.payments", "--principal", "alice", "--purpose", "fraud", "--json"
    )
    assert ok.returncode == 0, ok.stderr
    denied = cli(
        "SELECT segment FROM silver.customers", "--principal", "alice", "--purpose", "fraud"
    )
    assert denied.returncode == 1 and "customers.segment" in denied.stderr
    refused = cli("DROP TABLE silver.payments", "--principal", "alice", "--purpose", "fraud")
    assert refused.returncode == 2


def test_decimal_aggregates_stay_json_numbers(ws: aiready.Workspace) -> None:
    """SUM over a DECIMAL column is a Decimal in Python; callers must get a number, not text."""
    import json
    from decimal import Decimal

    from aiready.jsonvalues import json_value

    result = ws.query(
        "SELECT sum(amount) AS total, count(*) AS n FROM silver.payments", "sam", "fraud"
    )
    raw = result.table.to_pylist()[0]["total"]
    assert isinstance(raw, Decimal)
    out = json.loads(json.dumps(result.asdict(), default=str))["rows"][0]
    assert isinstance(out["total"], int | float) and Decimal(str(out["total"])) == raw
    cli = subprocess.run(
        [
            sys.executable,
            "-m",
            "aiready",
            "query",
            "SELECT sum(amount) AS total FROM payments",
            "--principal",
            "sam",
            "--purpose",
            "fraud",
            "--json",
            "-w",
            str(ws.root),
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "AIREADY_MLFLOW__ENABLED": "false"},
    )
    assert cli.returncode == 0, cli.stderr
    assert json.loads(cli.stdout)["rows"][0]["total"] == out["total"]
    # beyond what a double holds exactly, the value stays exact text rather than being rounded
    assert json_value(Decimal("1234567890123456.78")) == "1234567890123456.78"
    assert json_value(Decimal("12.50")) == 12.5 and json_value(Decimal("10.00")) == 10
