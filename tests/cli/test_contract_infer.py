"""`aiready contract infer` through the real CLI: draft → ingest → refine, 0 quarantined; errors."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import yaml

from aiready.contracts import compile_contract, load_contract
from tests.cli.test_cli import aiready

DATA = Path(__file__).parents[1] / "data" / "nycflights13"


def test_infer_then_refine_quarantines_nothing(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    (ws / "data").mkdir(parents=True)
    shutil.copy(DATA / "flights_r.csv", ws / "data/flights.csv")
    (ws / "aiready.yaml").write_text(
        "name: w\ndatasets:\n  flights:\n    source: data/*.csv\n"
        "    contract: contracts/flights.odcs.yaml\n"
    )
    out = ws / "contracts/flights.odcs.yaml"
    made = aiready("contract", "infer", str(ws / "data/flights.csv"), "-o", str(out))
    assert made.returncode == 0, made.stderr
    assert f"wrote {out}" in made.stdout.replace("\n", "")
    assert compile_contract(load_contract(out), "flights").primary_key == ()  # no unique column
    assert aiready("ingest", "-w", str(ws)).returncode == 0
    refined = aiready("refine", "-w", str(ws), "--json")
    assert refined.returncode == 0, refined.stderr
    [result] = json.loads(refined.stdout)
    rows = len((DATA / "flights_r.csv").read_text().splitlines()) - 1
    assert result["totals"]["rows_quarantined"] == 0 and result["totals"]["rows_out"] == rows

    again = aiready("contract", "infer", str(ws / "data/flights.csv"), "-o", str(out))
    assert again.returncode == 2 and "--force" in again.stderr and str(out) in again.stderr

    bronze = aiready("contract", "infer", "flights", "-w", str(ws), "--json")
    assert bronze.returncode == 0, bronze.stderr
    draft = json.loads(bronze.stdout)
    assert draft["source"] == "bronze.flights" and draft["rows"] == rows
    assert draft["contract"]["schema"][0]["name"] == "flights"
    from_file = yaml.safe_load(out.read_text())  # PyYAML (YAML 1.1) reads the draft the same way
    assert draft["contract"]["schema"] == from_file["schema"]  # bronze holds what the file did


def test_infer_prints_yaml_and_names_bad_input(tmp_path: Path) -> None:
    printed = aiready("contract", "infer", str(DATA / "planes.csv"), "--dataset", "aircraft")
    assert printed.returncode == 0, printed.stderr
    assert yaml.safe_load(printed.stdout)["schema"][0]["name"] == "aircraft"
    assert "# tailnum: " in printed.stdout

    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    refused = aiready("contract", "infer", str(empty))
    assert refused.returncode == 2 and "empty" in refused.stderr and str(empty) in refused.stderr

    header = tmp_path / "header.csv"
    header.write_text("a,b\n")
    only = aiready("contract", "infer", str(header), "--json")
    assert only.returncode == 2
    error = json.loads(only.stdout)
    assert error["ok"] is False and error["file"] == str(header) and "no rows" in error["message"]

    nowhere = aiready("contract", "infer", "customers", cwd=tmp_path)
    assert nowhere.returncode == 2 and "neither a file nor a dataset" in nowhere.stderr
