"""Contract loading: YAML as written, the official ODCS JSON Schema, clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from aiready import ContractError, load_contract
from aiready.contracts.loader import load_yaml

GOOD = """\
apiVersion: v3.1.0
kind: DataContract
id: c1
version: 1.0.0
status: active
schema:
  - name: t
    properties:
      - name: answer
        logicalType: string
        quality:
          - metric: invalidValues
            arguments:
              validValues: [YES, NO, 2024-01-01]
            mustBe: 0
"""


def test_loads_a_valid_contract_with_sha(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(GOOD)
    loaded = load_contract(path)
    assert loaded.model.id == "c1"
    assert len(loaded.sha256) == 64


def test_unquoted_no_and_dates_stay_strings(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(GOOD)
    values = load_yaml(path)["schema"][0]["properties"][0]["quality"][0]["arguments"]["validValues"]
    assert values == ["YES", "NO", "2024-01-01"]


def test_typo_in_quality_item_is_rejected_with_yaml_path(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(GOOD.replace("mustBe: 0", "mustBee: 0"))
    with pytest.raises(ContractError) as info:
        load_contract(path)
    assert info.value.attrs()["file"] == str(path)
    assert info.value.attrs()["path"].startswith("schema[0].properties[0]")


def test_yaml_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(GOOD.replace("  - name: t", "  - name: [t"))
    with pytest.raises(ContractError, match="YAML syntax error") as info:
        load_contract(path)
    assert info.value.attrs()["line"] >= 7


def test_missing_contract_names_file(tmp_path: Path) -> None:
    with pytest.raises(ContractError, match="not found") as info:
        load_contract(tmp_path / "nope.yaml")
    assert "nope.yaml" in str(info.value)


def test_missing_required_top_level_field(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(GOOD.replace("id: c1\n", ""))
    with pytest.raises(ContractError, match="'id' is a required property"):
        load_contract(path)


def test_not_a_mapping(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("- just\n- a list\n")
    with pytest.raises(ContractError, match="mapping"):
        load_contract(path)
