"""Each contract is validated with the JSON Schema of its own apiVersion; errors say which."""

from __future__ import annotations

from pathlib import Path

import pytest

from aiready import ContractError, load_contract
from aiready.contracts import compile_contract
from aiready.contracts.loader import schema_errors
from aiready.contracts.versions import SUPPORTED_VERSIONS, validator

V30 = """\
apiVersion: {version}
kind: DataContract
id: c30
version: 1.0.0
status: active
schema:
  - name: t
    properties:
      - name: n
        logicalType: integer
        logicalTypeOptions: {{maximum: 10, exclusiveMaximum: true}}
        quality:
          - rule: nullCheck
            description: no nulls
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "c.odcs.yaml"
    path.write_text(text)
    return path


def test_v300_syntax_loads_under_v300_and_is_read_as_v30(tmp_path: Path) -> None:
    loaded = load_contract(_write(tmp_path, V30.format(version="v3.0.0")))
    assert loaded.schema_version == "v3.0.0" and loaded.warnings == ()
    assert not validator("v3.2.0").is_valid(loaded.raw)  # the old loader refused it
    rules = {r.kind: r for r in compile_contract(loaded, "t").rules}
    assert rules["range"].params == {"exclusiveMaximum": 10}  # a v3.0 flag, not `< True`
    assert rules["not_null"].columns == ("n",)  # rule: nullCheck


def test_v30_syntax_under_v320_is_refused_naming_the_version(tmp_path: Path) -> None:
    with pytest.raises(ContractError) as info:
        load_contract(_write(tmp_path, V30.format(version="v3.2.0")))
    assert "v3.2.0 JSON Schema" in info.value.message
    assert info.value.path.startswith("schema[0].properties[0]")
    assert info.value.line in (11, 12, 13)


@pytest.mark.parametrize("version", ["v9.9.9", "v2.2.2", "3.1.0", "null", "[v3.1.0]"])
def test_unsupported_api_version_lists_the_supported(tmp_path: Path, version: str) -> None:
    with pytest.raises(ContractError) as info:
        load_contract(_write(tmp_path, V30.format(version=version)))
    expected = "no apiVersion" if version == "null" else "unsupported apiVersion"
    assert expected in info.value.message
    assert all(v in info.value.message for v in SUPPORTED_VERSIONS)
    assert (info.value.path, info.value.line) == ("apiVersion", 1)


def test_missing_api_version_is_named(tmp_path: Path) -> None:
    text = V30.format(version="v3.0.0").replace("apiVersion: v3.0.0\n", "")
    with pytest.raises(ContractError) as info:
        load_contract(_write(tmp_path, text))
    assert "no apiVersion: not an ODCS contract" in info.value.message


def test_newer_syntax_under_older_declared_version_loads_with_a_warning(tmp_path: Path) -> None:
    text = V30.format(version="v3.0.2").replace("logicalType: integer", "logicalType: time")
    text = text.replace("        logicalTypeOptions: {maximum: 10, exclusiveMaximum: true}\n", "")
    text = text.replace(
        "          - rule: nullCheck\n", "          - metric: nullValues\n            mustBe: 0\n"
    )
    loaded = load_contract(_write(tmp_path, text))
    assert loaded.schema_version == "v3.1.0"
    assert "v3.0.2" in loaded.warnings[0] and "validated with v3.1.0" in loaded.warnings[0]
    again = load_contract(_write(tmp_path, text))  # the cache keeps what validation found
    assert (again.schema_version, again.warnings) == (loaded.schema_version, loaded.warnings)


def test_schema_errors_lists_every_error_with_line_and_version(tmp_path: Path) -> None:
    text = V30.format(version="v3.1.0").replace("status: active", "status: [active]")
    text = text.replace("- name: n\n", "- name: 5\n")
    issues = schema_errors(_write(tmp_path, text))
    by_path = {i.path: i for i in issues}
    assert {"status", "schema[0].properties[0].name"} <= set(by_path)
    assert by_path["status"].line == 5 and by_path["status"].schema_version == "v3.1.0"
    assert by_path["schema[0].properties[0].name"].line == 9
    with pytest.raises(ContractError) as info:  # load_contract raises only the best one
        load_contract(_write(tmp_path, text))
    assert "v3.1.0 JSON Schema" in info.value.message


def test_schema_errors_of_a_valid_contract_is_empty(tmp_path: Path) -> None:
    assert schema_errors(_write(tmp_path, V30.format(version="v3.0.1"))) == []


def test_schema_errors_of_unsupported_version_is_one_issue(tmp_path: Path) -> None:
    issues = schema_errors(_write(tmp_path, V30.format(version="v4.0.0")))
    assert [(i.path, i.line) for i in issues] == [("apiVersion", 1)]


@pytest.mark.parametrize(
    "text", ["apiVersion: [unclosed\n", "- just\n- a list\n", "\x00\x01binary"]
)
def test_not_a_contract_is_a_contract_error(tmp_path: Path, text: str) -> None:
    path = _write(tmp_path, text)
    for call in (load_contract, schema_errors):
        with pytest.raises(ContractError) as info:
            call(path)
        assert info.value.file == str(path)


def test_typo_names_the_schema_version_and_line(tmp_path: Path) -> None:
    text = V30.format(version="v3.0.2").replace("logicalType: integer", "logicalTyp: integer")
    with pytest.raises(ContractError) as info:
        load_contract(_write(tmp_path, text))
    assert "did you mean 'logicalType'" in info.value.message and "v3.0.2" in info.value.message
    assert info.value.line == 10
