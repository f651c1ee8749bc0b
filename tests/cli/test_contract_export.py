"""`aiready contract export` and `import` as a user runs them: real processes, files, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

from aiready.contracts import load_contract
from tests.cli.test_cli import aiready
from tests.contracts.test_export import CONTRACT


def test_export_then_import_gives_a_contract_that_loads(tmp_path: Path) -> None:
    contract = tmp_path / "orders.odcs.yaml"
    contract.write_text(CONTRACT, encoding="utf-8")
    ddl = tmp_path / "orders.sql"
    out = aiready(
        "contract",
        "export",
        str(contract),
        "--format",
        "sql",
        "--dialect",
        "postgres",
        "-o",
        str(ddl),
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout == "" and ddl.read_text().count("CREATE TABLE") == 1
    draft = tmp_path / "draft.odcs.yaml"
    back = aiready(
        "contract", "import", "--format", "sql", str(ddl), "--dialect", "postgres", "-o", str(draft)
    )
    assert back.returncode == 0, back.stderr
    assert [p["name"] for p in load_contract(draft).raw["schema"][0]["properties"]][:2] == [
        "order_id",
        "customer",
    ]
    shown = aiready("contract", "export", str(contract), "-f", "jsonschema", "--json")
    assert json.loads(json.loads(shown.stdout)["text"])["title"] == "orders"


def test_bad_input_exits_2_naming_the_file(tmp_path: Path) -> None:
    notsql = tmp_path / "notes.sql"
    notsql.write_text("SELECT 1", encoding="utf-8")
    out = aiready("contract", "import", "--format", "sql", str(notsql), "--json")
    assert out.returncode == 2
    report = json.loads(out.stdout)
    assert report["error"] == "ContractError" and report["file"] == str(notsql)
    assert "no CREATE TABLE" in report["message"]
    notcontract = tmp_path / "list.yaml"
    notcontract.write_text("- a\n- b\n", encoding="utf-8")
    out = aiready("contract", "export", str(notcontract), "--format", "sql")
    assert out.returncode == 2 and "list.yaml" in out.stderr and "YAML mapping" in out.stderr
    contract = tmp_path / "orders.odcs.yaml"
    contract.write_text(CONTRACT, encoding="utf-8")
    out = aiready("contract", "export", str(contract), "--format", "sql", "--dialect", "oracle")
    assert out.returncode == 2 and "unknown SQL dialect 'oracle'" in out.stderr
    out = aiready("contract", "import", "--format", "avro", str(notsql))
    assert out.returncode == 2 and "unknown import format" in out.stderr
