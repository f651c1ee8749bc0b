"""Catalog, glossary and AI context built from real contracts, Delta tables and certificates."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import aiready
from aiready.catalog import catalog, entry, search, to_markdown
from aiready.policy import AccessDenied
from tests.policy.test_policy import governed

GLOSSARY = """\
terms:
  customer_lifetime_value:
    definition: Net settled revenue of a customer since signup.
    synonyms: [ltv, clv]
    owner: crm-steward@example.com
"""


@pytest.fixture
def ws(tmp_path: Path) -> aiready.Workspace:
    governed(tmp_path)
    (tmp_path / "glossary.yaml").write_text(GLOSSARY)
    path = tmp_path / "contracts/customer_value.odcs.yaml"
    path.write_text(
        path.read_text()
        .replace(
            "      - name: total\n",
            "      - name: total\n        description: settled revenue in EUR\n"
            "        tags: ['term:customer_lifetime_value']\n        criticalDataElement: true\n",
        )
        .replace(
            "{name: payments, logicalType: integer}",
            "{name: payments, logicalType: integer, criticalDataElement: true, "
            "tags: ['term:nope']}",
        )
    )
    workspace = aiready.Workspace.load(tmp_path)
    assert workspace.run().passed
    return workspace


def test_entries_columns_terms_and_gaps(ws: aiready.Workspace) -> None:
    names = {e["name"]: e for e in catalog(ws)}
    assert set(names) == {"payments", "customers", "customer_value", "top_customers"}
    assert names["payments"]["rows"] == 3 and names["payments"]["owners"] == ["owner@example.com"]
    value = entry(ws, "customer_value")
    total = next(c for c in value["columns"] if c["name"] == "total")
    assert total["terms"][0]["definition"].startswith("Net settled revenue")
    assert value["certification"]["certified"] is True
    assert "column payments links unknown term 'nope'" in value["gaps"]
    assert entry(ws, "payments")["quality"] == {
        "batches": 1,
        "rows_in": 3,
        "rows_out": 3,
        "rows_passed_gate": 3,
        "quarantine": {"open": 0, "released": 0, "rejected": 0, "superseded": 0},
        "pass_rate": 1.0,
    }
    assert entry(ws, "payments")["allowed_purposes"] == ["fraud", "analytics"]


def test_search_finds_synonyms_and_columns(ws: aiready.Workspace) -> None:
    hits = {h["name"]: h["matched"] for h in search(ws, "ltv")}
    assert hits == {"customer_value": ["column total"]}
    assert "customers" in {h["name"] for h in search(ws, "segment")}


def test_context_shows_only_what_the_caller_may_see(ws: aiready.Workspace) -> None:
    bot = ws.context("customer_value", "churn-bot", "churn")  # bots may not see PII columns
    names = [c["name"] for c in bot["columns"]]
    assert "segment" not in names and "total" in names
    assert any("not visible to churn-bot" in c for c in bot["caveats"])
    md = to_markdown(bot)
    assert "| total |" in md and "segment" not in md.split("Caveats:")[0]
    with pytest.raises(AccessDenied):
        ws.context("payments", "churn-bot", "churn")


def test_cli_catalog_and_context(ws: aiready.Workspace) -> None:
    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "aiready", *args, "-w", str(ws.root)],
            capture_output=True,
            text=True,
            env={**os.environ},
            timeout=120,
        )

    listed = cli("catalog", "list", "--json")
    assert listed.returncode == 0 and len(json.loads(listed.stdout)) == 4
    shown = cli("catalog", "show", "customer_value", "--json")
    assert json.loads(shown.stdout)["name"] == "customer_value"
    ctx = cli(
        "context",
        "customer_value",
        "--principal",
        "churn-bot",
        "--purpose",
        "churn",
        "--format",
        "json",
    )
    assert ctx.returncode == 0 and json.loads(ctx.stdout)["caller"]["principal"] == "churn-bot"
    denied = cli("context", "payments", "--principal", "churn-bot", "--purpose", "churn")
    assert denied.returncode == 1
