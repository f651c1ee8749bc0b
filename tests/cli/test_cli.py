"""The CLI as a user runs it: real processes, exit codes, --json output, clear errors."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import WorkspaceFactory


def aiready(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "AIREADY_MLFLOW__ENABLED": "false", "COLUMNS": "200"}
    return subprocess.run(
        [sys.executable, "-m", "aiready", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=300,
    )


def test_init_run_status_quarantine(tmp_path: Path) -> None:
    ws = tmp_path / "shop"
    assert aiready("init", str(ws)).returncode == 0
    assert (ws / "aiready.yaml").is_file() and (ws / ".gitignore").read_text() == ".aiready/\n"
    run = aiready("run", "-w", str(ws), "--json")
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout)
    assert result["passed"] and {r["dataset"] for r in result["refines"]} == {
        "payments",
        "customers",
    }
    status = json.loads(aiready("status", "-w", str(ws), "--json").stdout)
    for d in status["datasets"]:
        assert d["rows"]["bronze"] == d["rows"]["silver"] + d["rows"]["quarantine"]
        assert d["owners"] and d["batches"]["pending"] == []
    rows = json.loads(aiready("quarantine", "payments", "-w", str(ws), "--json").stdout)
    assert rows and all(r["_reasons"] for r in rows)
    human = aiready("quarantine", "payments", "-w", str(ws))
    assert human.returncode == 0 and "quarantine payments" in human.stdout
    reject = aiready("quarantine", "reject", "payments", "--by", "bob", "-w", str(ws), "--json")
    assert json.loads(reject.stdout)["rejected"] == len(rows)


def test_gate_failure_exits_1(make_workspace: WorkspaceFactory) -> None:
    contract = """\
    schema:
      - name: payments
        properties:
          - name: id
            logicalType: integer
            quality:
              - metric: nullValues
                mustBeLessThan: 1
    """
    ws = make_workspace(contract=contract, files={"data/a.csv": "id,x\n,1\n2,2\n"})
    assert aiready("ingest", "-w", str(ws.root)).returncode == 0
    refine = aiready("refine", "-w", str(ws.root))
    assert refine.returncode == 1
    assert "breaks the batch limit" in refine.stdout


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (None, "no aiready.yaml"),
        ("name: [unclosed\n", "not valid YAML"),
        ("name: x\ndatasets:\n  p:\n    source: a.csv\n", "`contract` is required"),
        (
            "name: x\ndatasets:\n  p:\n    kind: weird\n    source: a.csv\n    contract: c.yaml\n",
            "kind must be operational or strategic",
        ),
        (
            "name: x\ndatasets:\n  p:\n    source: a.xlsx\n    contract: c.yaml\n",
            "cannot tell the source format",
        ),
    ],
)
def test_bad_config_exits_2_naming_the_file(
    tmp_path: Path, config: str | None, message: str
) -> None:
    if config is not None:
        (tmp_path / "aiready.yaml").write_text(config)
    result = aiready("run", "-w", str(tmp_path))
    assert result.returncode == 2
    assert message in result.stderr and "aiready.yaml" in result.stderr


def test_contract_errors_exit_2(make_workspace: WorkspaceFactory) -> None:
    ws = make_workspace(files={"data/a.csv": "id,amount,currency\n1,2,EUR\n"})
    path = ws.root / "contracts/payments.odcs.yaml"
    path.write_text(path.read_text().replace("mustBe: 0", "mustBee: 0"))
    result = aiready("refine", "-w", str(ws.root), "--json")
    assert result.returncode == 2
    error = json.loads(result.stdout)
    assert error["error"] == "ContractError" and error["file"] == str(path)
    assert error["path"].startswith("schema[0].properties[2]")
    path.unlink()
    missing = aiready("refine", "-w", str(ws.root))
    assert missing.returncode == 2 and "contract file not found" in missing.stderr


def test_unknown_dataset_and_usage_errors_exit_2(make_workspace: WorkspaceFactory) -> None:
    ws = make_workspace(files={"data/a.csv": "id,amount,currency\n1,2,EUR\n"})
    assert aiready("refine", "nope", "-w", str(ws.root)).returncode == 2
    assert aiready("refine", "--no-such-flag").returncode == 2
    assert aiready("quarantine", "reject", "payments", "-w", str(ws.root)).returncode == 2


def test_help_lists_commands() -> None:
    result = aiready("--help")
    assert result.returncode == 0
    for command in ("init", "ingest", "refine", "run", "status", "quarantine", "ui", "demo"):
        assert command in result.stdout


def test_demo_runs_every_layer_and_shows_governance(tmp_path: Path) -> None:
    """`make demo` end to end, small: layers, review loop, model, governed queries, report."""
    out = tmp_path / "demo"
    result = aiready(
        "demo", "--dir", str(out), "--payments", "3000", "--customers", "300", "--json"
    )
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["passed"] and data["model"]["check_model_ok"]
    g = data["governance"]
    assert g["masked"] == {"customer_value.email": "partial"}
    assert all("***" in r["email"] for r in g["top_customers_masked"])
    assert g["row_filter"] == {"customers": "country = 'DE'"}
    assert 0 < g["customers_visible_to_ana"] < 300
    # gold reads the row-filtered customers, so it carries its own filter: ana sees DE rows only
    assert g["gold_row_filter"] == {"customer_value": "country = 'DE'"}
    assert g["gold_customers_visible_to_ana"] == g["customers_visible_to_ana"]
    assert "marketing" in g["refused"] and "deny by default" in g["refused"]
    assert g["audit_records"] > 0 and 0 <= g["score"]["overall"] <= 100
    report = Path(g["report"]).read_text()
    assert "<svg" in report and "gold.customer_value" in report
    assert not re.search(r"""(src|href)=["'](https?:)?//|url\(https?:|<script|<link""", report)
