"""Nothing declared is ignored silently: what aiready cannot run is recorded, reported and, with
``strict``, refused; ``type: text`` is documentation."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from mlflow import MlflowClient

import aiready
from aiready import ContractError
from aiready.certification import certify
from aiready.contracts import compile_contract, load_contract
from tests.conftest import CONTRACT_HEAD, WorkspaceFactory, silver_rows

CONTRACT = """\
schema:
  - name: payments
    properties:
      - name: id
        logicalType: integer
        primaryKey: true
      - name: currency
        logicalType: string
        logicalTypeOptions: {format: iso4217}
        quality:
          - name: soda_freshness
            type: custom
            engine: soda
            implementation: "freshness(ts) < 1d"
          - name: about_currency
            type: text
            description: Currency codes follow ISO 4217.
          - name: currency_known
            metric: invalidValues
            arguments: {validValues: [EUR, USD]}
            mustBe: 0
slaProperties:
  - {property: availability, value: 99.9, unit: percent}
"""
DATA = {"data/a.csv": "id,currency\n1,EUR\n2,GBP\n3,USD\n"}
CUSTOM = "schema[0].properties[1].quality[0]"


def _items(ws: aiready.Workspace) -> dict[str, aiready.NotExecuted]:
    return {i.path: i for i in ws.contract("payments").not_executed}


def test_compile_records_each_item_with_its_path_and_reason(
    make_workspace: WorkspaceFactory,
) -> None:
    items = _items(make_workspace(contract=CONTRACT))
    assert set(items) == {
        CUSTOM,
        "schema[0].properties[1].quality[1]",
        "schema[0].properties[1].logicalTypeOptions.format",
        "slaProperties[0]",
    }
    assert "soda" in items[CUSTOM].item and not items[CUSTOM].documentation
    assert items["schema[0].properties[1].quality[1]"].documentation
    assert "availability" in items["slaProperties[0]"].item
    rules = {r.id for r in make_workspace(contract=CONTRACT).contract("payments").rules}
    assert "currency_known" in rules and "soda_freshness" not in rules


def test_refine_runs_the_rest_and_reports_what_it_did_not_run(
    make_workspace: WorkspaceFactory, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("AIREADY_MLFLOW__ENABLED", "true")
    ws = make_workspace(contract=CONTRACT, files=DATA)
    ws.ingest()
    [result] = ws.refine()
    assert result.passed
    assert sorted(r["id"] for r in silver_rows(ws)) == [1, 3]  # GBP quarantined
    [report] = result.reports
    assert CUSTOM in {i["path"] for i in report.not_executed}
    assert {i["path"] for i in result.not_executed} == {i["path"] for i in report.not_executed}
    client = MlflowClient(tracking_uri=f"sqlite:///{ws.root}/.aiready/mlflow.db")
    run = client.get_run(str(result.run_id))
    assert run.data.tags["aiready.not_executed"] == "3"  # text is documentation, not counted
    got = json.loads(
        Path(
            client.download_artifacts(run.info.run_id, "not_executed.json", str(tmp_path))
        ).read_text()
    )
    assert CUSTOM in {i["path"] for i in got}
    page = Path(client.download_artifacts(run.info.run_id, "gate_report.html", str(tmp_path)))
    html = page.read_text()
    assert "not executed by aiready" in html and CUSTOM in html and "documentation" in html


def test_strict_refuses_naming_each_item(make_workspace: WorkspaceFactory) -> None:
    ws = make_workspace(contract=CONTRACT, files=DATA)
    ws.ingest()
    with pytest.raises(ContractError) as info:
        ws.refine(strict=True)
    assert info.value.path in {i.path for i in ws.contract("payments").not_executed}
    for path in (CUSTOM, "logicalTypeOptions.format", "slaProperties[0]"):
        assert path in info.value.message
    assert "quality[1]" not in info.value.message  # text is documentation
    assert silver_rows(ws) == []  # refused before anything was refined


def test_strict_accepts_a_contract_with_only_documentation(
    make_workspace: WorkspaceFactory,
) -> None:
    contract = """\
    schema:
      - name: payments
        properties:
          - name: id
            logicalType: integer
            quality:
              - {type: text, description: just words}
    """
    ws = make_workspace(contract=contract, files={"data/a.csv": "id\n1\n"})
    ws.ingest()
    [result] = ws.refine(strict=True)
    assert result.passed and [i["documentation"] for i in result.not_executed] == [True]


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "AIREADY_MLFLOW__ENABLED": "false", "COLUMNS": "250"}
    return subprocess.run(
        [sys.executable, "-m", "aiready", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )


def test_cli_refine_notes_and_strict(make_workspace: WorkspaceFactory) -> None:
    ws = make_workspace(contract=CONTRACT, files=DATA)
    assert _cli("ingest", "-w", str(ws.root)).returncode == 0
    strict = _cli("refine", "--strict", "-w", str(ws.root))
    assert strict.returncode == 2, strict.stdout + strict.stderr
    assert CUSTOM in strict.stdout + strict.stderr
    done = _cli("refine", "-w", str(ws.root))
    assert done.returncode == 0, done.stderr
    out = " ".join(done.stdout.split())
    assert f"not executed by aiready: {CUSTOM}" in out and "documentation" in out
    as_json = json.loads(_cli("refine", "-w", str(ws.root), "--json").stdout)
    assert CUSTOM in {i["path"] for i in as_json[0]["not_executed"]}


def test_certificate_lists_what_the_model_contract_does_not_execute(tmp_path: Path) -> None:
    from tests.layers import test_gold

    ws = test_gold.build(tmp_path)
    path = ws.root / "contracts/customer_value.odcs.yaml"
    body = textwrap.dedent(test_gold.CONTRACTS["customer_value"]) + (
        "    quality:\n"
        "      - {type: custom, engine: greatExpectations, implementation: expect_something}\n"
    )
    path.write_text(CONTRACT_HEAD.format(id="customer_value") + body)
    assert ws.run().passed
    [cert] = ws.certify("customer_value")
    assert [i["path"] for i in cert.not_executed] == ["schema[0].quality[0]"]
    assert "greatExpectations" in cert.not_executed[0]["item"]
    assert cert.certified  # listed, not a reason to refuse (strict is for refine)
    row = certify.latest(ws.paths, "customer_value")
    assert row is not None
    assert json.loads(row["gate"])["not_executed"][0]["path"] == "schema[0].quality[0]"


def _one_item(tmp_path: Path, item: str) -> Path:
    path = tmp_path / "c.odcs.yaml"
    path.write_text(
        CONTRACT_HEAD.format(id="c")
        + f"schema:\n  - name: t\n    properties:\n      - name: a\n        quality: [{item}]\n"
    )
    return path


@pytest.mark.parametrize("engine", ["soda", "montecarlo", "greatExpectations", "dbt"])
def test_custom_items_of_any_engine_are_not_executed(tmp_path: Path, engine: str) -> None:
    path = _one_item(tmp_path, f"{{type: custom, engine: {engine}, implementation: x}}")
    [skipped] = compile_contract(load_contract(path), "t").not_executed
    assert skipped.reason == f"runs only in {engine}" and not skipped.documentation


@pytest.mark.parametrize(
    "item", ["{type: custom}", "{type: foo, description: x}", "{type: sql, engine: soda}"]
)
def test_what_the_schema_refuses_stays_an_error(tmp_path: Path, item: str) -> None:
    with pytest.raises(ContractError) as info:
        load_contract(_one_item(tmp_path, item))
    assert "v3.1.0 JSON Schema" in info.value.message
    assert info.value.path.startswith("schema[0].properties[0].quality[0]")
    assert info.value.line == 16


def test_v30_rules_aiready_has_no_metric_for_are_not_executed(tmp_path: Path) -> None:
    path = tmp_path / "c.odcs.yaml"
    path.write_text(
        "apiVersion: v3.0.2\nkind: DataContract\nid: c\nversion: 1.0.0\nstatus: active\n"
        + "schema:\n  - name: t\n    properties:\n      - name: a\n        quality:\n"
        + "          - {rule: between, customProperties: [{property: min, value: 0}]}\n"
        + "          - {rule: nullCheck}\n"
    )
    compiled = compile_contract(load_contract(path), "t")
    [skipped] = compiled.not_executed
    assert skipped.path == "schema[0].properties[0].quality[0]" and "'between'" in skipped.item
    assert [r.kind for r in compiled.rules] == ["not_null"]  # nullCheck is nullValues
