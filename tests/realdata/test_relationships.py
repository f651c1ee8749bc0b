"""Foreign keys between datasets (ODCS ``relationships``), on real data: nycflights13's flights
whose plane is not in the FAA registry extract (a known defect of that data set)."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest
from deltalake import DeltaTable

from tests.realdata.test_nycflights13 import DATA, aiready

RELATIONSHIP = """      - name: tailnum
        logicalType: string
        relationships:
          - to: planes.tailnum{extra}
"""


def missing_planes() -> dict[int, str]:
    """Independent truth: data row → tailnum of flights whose tailnum is not in planes.csv."""
    with (DATA / "planes.csv").open(newline="") as f:
        planes = {r["tailnum"] for r in csv.DictReader(f)}
    with (DATA / "flights_r.csv").open(newline="") as f:
        return {
            i: r["tailnum"]
            for i, r in enumerate(csv.DictReader(f), start=1)
            if r["tailnum"] not in ("NA", "") and r["tailnum"] not in planes
        }


def workspace(tmp: Path, on_fail: str | None = None, planes: bool = True) -> Path:
    root = tmp / f"ws-{on_fail}-{planes}"
    (root / "data").mkdir(parents=True)
    (root / "contracts").mkdir()
    shutil.copy(DATA / "flights_r.csv", root / "data" / "flights.csv")
    shutil.copy(DATA / "planes.csv", root / "data" / "planes.csv")
    extra = (
        f"\n            customProperties: [{{property: onFail, value: {on_fail}}}]"
        if on_fail
        else ""
    )
    contract = (DATA / "flights.odcs.yaml").read_text()
    contract = contract.replace(
        "      - {name: tailnum, logicalType: string}\n", RELATIONSHIP.format(extra=extra)
    )
    (root / "contracts" / "flights.odcs.yaml").write_text(contract)
    shutil.copy(DATA / "planes.odcs.yaml", root / "contracts" / "planes.odcs.yaml")
    config = (
        "name: nyc\ndatasets:\n"  # flights first: refine must still do planes before it
        "  flights:\n    source: data/flights.csv\n    contract: contracts/flights.odcs.yaml\n"
        '    null_values: ["NA"]\n'
    )
    if planes:
        config += (
            "  planes:\n    kind: strategic\n    source: data/planes.csv\n"
            '    contract: contracts/planes.odcs.yaml\n    null_values: ["NA"]\n'
        )
    (root / "aiready.yaml").write_text(config)
    return root


def refine(root: Path) -> dict[str, object]:
    assert aiready(root, "ingest").returncode == 0
    out = aiready(root, "refine", "--json")
    assert out.returncode == 0, out.stdout + out.stderr
    reports = {d["dataset"]: d["reports"][0] for d in json.loads(out.stdout)}
    return reports["flights"]


def rule(report: dict[str, object]) -> dict[str, object]:
    rules = report["rules"]
    assert isinstance(rules, list)
    return next(r for r in rules if r["code"] == "missing_reference")


def test_flights_whose_plane_is_unknown_are_counted_with_examples(tmp_path: Path) -> None:
    truth = missing_planes()
    assert len(truth) > 50  # the defect is real and sizeable in this sample
    result = rule(refine(workspace(tmp_path)))
    assert result["failed"] == len(truth)
    assert result["action"] == "warn"
    examples = result["examples"]
    assert isinstance(examples, list) and len(examples) == 5
    assert set(examples) <= set(truth.values())


def test_on_fail_quarantine_sends_exactly_those_rows(tmp_path: Path) -> None:
    truth = missing_planes()
    root = workspace(tmp_path, "quarantine")
    refine(root)
    rows = DeltaTable(root / ".aiready/lake/quarantine/flights").to_pyarrow_table().to_pylist()
    flagged = {
        r["_source_row"]: next(
            x["message"] for x in r["_reasons"] if x["code"] == "missing_reference"
        )
        for r in rows
        if any(x["code"] == "missing_reference" for x in r["_reasons"])
    }
    assert set(flagged) == set(truth)
    row, tail = next(iter(truth.items()))
    assert flagged[row] == f"found '{tail}'; expected: tailnum exists in planes.tailnum"


def test_a_relationship_to_an_unknown_dataset_is_a_contract_error(tmp_path: Path) -> None:
    root = workspace(tmp_path, planes=False)
    assert aiready(root, "ingest").returncode == 0
    out = aiready(root, "refine")
    assert out.returncode == 2
    assert "points at 'planes', which is not a dataset" in " ".join(out.stderr.split())


@pytest.mark.parametrize("target", ["planes", "planes.tailnum.x/y"])
def test_relationship_targets_aiready_cannot_check_are_named(tmp_path: Path, target: str) -> None:
    root = workspace(tmp_path)
    path = root / "contracts" / "flights.odcs.yaml"
    path.write_text(path.read_text().replace("to: planes.tailnum", f"to: {target}"))
    assert aiready(root, "ingest").returncode == 0
    out = aiready(root, "refine")
    assert out.returncode == 2
    assert "relationships[0]" in out.stderr


def test_a_composite_relationship_is_reported_not_executed(tmp_path: Path) -> None:
    """A list-valued foreign key is accepted and named as not executed; --strict refuses it."""
    root = workspace(tmp_path)
    path = root / "contracts" / "flights.odcs.yaml"
    path.write_text(path.read_text().replace("to: planes.tailnum", "to: [planes.tailnum]"))
    assert aiready(root, "ingest").returncode == 0
    strict = aiready(root, "refine", "--strict")
    assert strict.returncode == 2 and "relationships[0]" in strict.stderr
    out = aiready(root, "refine")
    assert out.returncode == 0, out.stdout + out.stderr
    assert "not executed by aiready" in " ".join(out.stdout.split())
    assert "relationships[0]" in out.stdout


def test_a_rebuild_checks_relationships_against_the_live_referenced_silver(tmp_path: Path) -> None:
    root = workspace(tmp_path)
    first = rule(refine(root))
    out = aiready(root, "refine", "flights", "--rebuild", "--json")
    assert out.returncode == 0, out.stdout + out.stderr
    reports = json.loads(out.stdout)[0]["reports"]
    assert [rule(r)["failed"] for r in reports] == [first["failed"]]
    assert not any("not checked" in w for r in reports for w in r["warnings"])
