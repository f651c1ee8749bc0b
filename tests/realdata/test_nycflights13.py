"""First contact with real exports: nycflights13 as R, pandas and Excel write it (see
tests/data/nycflights13/README.md).

A contract written from the README, unchanged across the three files: no false quarantine (only
the four planted defects are quarantined, each with its reason), integers written as ``517.0``
reach silver exactly, ``NA`` is a declared missing value and never a type mismatch.
"""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from deltalake import DeltaTable

DATA = Path(__file__).parents[1] / "data" / "nycflights13"
ROWS = 3214
PLANTED = {11: "type_mismatch", 21: "out_of_range", 31: "invalid_value", 41: "null_value"}
REPORTS: dict[str, list[dict[str, Any]]] = {}
INTEGERS = ("dep_time", "dep_delay", "arr_time", "arr_delay", "air_time", "flight", "distance")


def aiready(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "aiready", *args, "-w", str(root)],
        capture_output=True,
        text=True,
        env={"MLFLOW_DISABLE_TELEMETRY": "true", "PATH": "/usr/bin:/bin"},
    )


def workspace(tmp: Path, export: str, extra: str = "") -> Path:
    root = tmp / export
    (root / "data").mkdir(parents=True)
    (root / "contracts").mkdir()
    shutil.copy(DATA / f"flights_{export}.csv", root / "data" / "flights.csv")
    shutil.copy(DATA / "flights.odcs.yaml", root / "contracts" / "flights.odcs.yaml")
    (root / "aiready.yaml").write_text(
        "name: nyc\n"
        "datasets:\n"
        "  flights:\n"
        "    kind: operational\n"
        "    source: data/flights.csv\n"
        "    contract: contracts/flights.odcs.yaml\n" + extra
    )
    return root


def truth() -> list[dict[str, str]]:
    """The R export read by Python's csv module: the values every export stands for."""
    with (DATA / "flights_r.csv").open(newline="") as f:
        return list(csv.DictReader(f))


def silver(root: Path) -> list[dict[str, object]]:
    return list(DeltaTable(root / ".aiready/lake/silver/flights").to_pyarrow_table().to_pylist())


def quarantine(root: Path) -> dict[int, set[str]]:
    table = DeltaTable(root / ".aiready/lake/quarantine/flights").to_pyarrow_table().to_pylist()
    return {r["_source_row"]: {x["code"] for x in r["_reasons"]} for r in table}


@pytest.fixture(scope="module")
def refined(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    tmp = tmp_path_factory.mktemp("nyc")
    roots = {
        "r": workspace(tmp, "r", '    null_values: ["NA"]\n'),
        "pandas": workspace(tmp, "pandas"),
        "excel": workspace(tmp, "excel"),
    }
    for export, root in roots.items():
        assert aiready(root, "ingest").returncode == 0
        out = aiready(root, "refine", "--json")
        assert out.returncode == 0, out.stdout + out.stderr
        REPORTS[export] = json.loads(out.stdout)[0]["reports"]
    return roots


@pytest.mark.parametrize("export", ["r", "pandas", "excel"])
def test_only_the_planted_defects_are_quarantined(refined: dict[str, Path], export: str) -> None:
    got = quarantine(refined[export])
    assert {row: PLANTED[row] in codes for row, codes in got.items()} == dict.fromkeys(
        PLANTED, True
    )
    assert len(silver(refined[export])) == ROWS - len(PLANTED)


@pytest.mark.parametrize("export", ["r", "pandas", "excel"])
def test_integers_reach_silver_exactly_and_missing_values_are_null(
    refined: dict[str, Path], export: str
) -> None:
    rows = {r["_source_row"]: r for r in silver(refined[export])}
    want = truth()
    for i, expected in enumerate(want, start=1):
        if i in PLANTED:
            continue
        for col in INTEGERS:
            value = expected[col]
            assert rows[i][col] == (None if value == "NA" else int(value)), (i, col)
        assert rows[i]["tailnum"] == (
            None if expected["tailnum"] in ("NA", "") else expected["tailnum"]
        )


def test_the_missing_values_are_counted_not_hidden(refined: dict[str, Path]) -> None:
    counted = {
        rule["rule"]: rule["failed"]
        for report in REPORTS["r"]
        for rule in report["rules"]
        if rule["code"] == "missing_value"
    }
    na_dep_time = sum(1 for r in truth() if r["dep_time"] == "NA")
    assert counted["dep_time.null_values"] == na_dep_time > 0
    assert all(
        rule["action"] == "warn"
        for r in REPORTS["r"]
        for rule in r["rules"]
        if rule["code"] == "missing_value"
    )


def test_r_export_without_declared_tokens_names_the_fix(tmp_path: Path) -> None:
    root = workspace(tmp_path, "r")
    assert aiready(root, "ingest").returncode == 0
    assert aiready(root, "refine").returncode == 0
    rows = DeltaTable(root / ".aiready/lake/quarantine/flights").to_pyarrow_table().to_pylist()
    messages = [x["message"] for r in rows for x in r["_reasons"] if x["column"] == "dep_time"]
    na = [m for m in messages if m.startswith("'NA'")]
    assert na and all(m.startswith("'NA' is not an integer (BIGINT)") for m in na)
    assert all("declare it in null_values" in m for m in na)
    assert not any("null_values" in m for m in messages if not m.startswith("'NA'"))


def test_integral_floats_false_refuses_517_point_0_and_says_why(tmp_path: Path) -> None:
    root = workspace(tmp_path, "pandas", "    integral_floats: false\n")
    assert aiready(root, "ingest").returncode == 0
    assert aiready(root, "refine").returncode == 0
    rows = DeltaTable(root / ".aiready/lake/quarantine/flights").to_pyarrow_table().to_pylist()
    first = next(r for r in rows if r["_source_row"] == 1)
    message = next(x["message"] for x in first["_reasons"] if x["column"] == "dep_time")
    assert message.startswith("'517.0' is not an integer (BIGINT)")
    assert "integral_floats: false" in message
