"""``lint_contract``: every problem of a contract file at once, each with its YAML path and line."""

from __future__ import annotations

from pathlib import Path

import pytest

import aiready
from aiready.contracts import load_contract
from aiready.contracts.lint import ContractProblem, lint_contract
from aiready.demo import contracts as demo
from aiready.errors import ContractError
from tests.contracts.test_odcs_examples import FILES, _id
from tests.contracts.test_readme import readme_contract

# Six independent problems, each on its own line, plus one item aiready does not execute.
BAD = """\
apiVersion: v3.1.0
kind: DataContract
id: urn:acme:orders
name: orders
version: 1.0.0
status: active
schema:
  - name: orders
    properties:
      - name: order_id
        logicalTyp: string
        primaryKey: true
      - name: amount
        physicalType: BLOB
      - name: placed_on
        logicalType: date
        logicalTypeOptions: {format: 'qqq-MM'}
      - name: weight
        physicalType: GEOMETRY
      - name: status
        logicalType: string
        quality:
          - metric: invalidValues
            mustBee: 0
          - type: custom
            engine: soda
            implementation: {soda: 'row_count > 0'}
slaProperties:
  - property: latency
    value: 1
    unit: d
    element: orders.shipped_at
"""


def _line(text: str, needle: str) -> int:
    """The 1-based line of the first line containing ``needle``."""
    return next(n for n, line in enumerate(text.splitlines(), 1) if needle in line)


def _write(tmp_path: Path, text: str | bytes, name: str = "c.odcs.yaml") -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def _errors(problems: list[ContractProblem]) -> list[ContractProblem]:
    return [p for p in problems if p.severity == "error"]


def test_every_independent_problem_is_reported_with_its_line(tmp_path: Path) -> None:
    path = _write(tmp_path, BAD)
    with pytest.raises(ContractError):
        load_contract(path)  # the run stops at the first; lint goes on
    problems = lint_contract(path)
    found = {(p.path, p.line, p.source) for p in _errors(problems)}
    expected = {
        ("schema[0].properties[0].logicalTyp", _line(BAD, "logicalTyp:"), "schema"),
        ("schema[0].properties[4].quality[0].mustBee", _line(BAD, "mustBee"), "schema"),
        ("schema[0].properties[1].physicalType", _line(BAD, "BLOB"), "compile"),
        (
            "schema[0].properties[2].logicalTypeOptions.format",
            _line(BAD, "qqq-MM"),
            "compile",
        ),
        ("schema[0].properties[3].physicalType", _line(BAD, "GEOMETRY"), "compile"),
        ("slaProperties[0]", _line(BAD, "property: latency"), "compile"),
    }
    assert expected <= found
    by_path = {p.path: p for p in problems}
    assert "'logicalType'" in by_path["schema[0].properties[0].logicalTyp"].message
    assert "'mustBe'" in by_path["schema[0].properties[4].quality[0].mustBee"].message
    assert "shipped_at" in by_path["slaProperties[0]"].message
    custom = by_path["schema[0].properties[4].quality[1]"]
    assert (custom.severity, custom.source) == ("warning", "not-executed")
    assert custom.line == _line(BAD, "type: custom") and "soda" in custom.message
    assert all(p.file == str(path) for p in problems)
    # the schema's symptom of a typo is replaced by the typo itself
    assert not any("'logicalTyp' was unexpected" in p.message for p in problems)


def test_a_clean_contract_has_no_problem_and_fixing_one_removes_only_it(tmp_path: Path) -> None:
    fixed = BAD.replace("logicalTyp:", "logicalType:")
    before = {p.path for p in lint_contract(_write(tmp_path, BAD, "a.yaml"))}
    after = {p.path for p in lint_contract(_write(tmp_path, fixed, "b.yaml"))}
    assert before - after == {"schema[0].properties[0].logicalTyp"}
    assert lint_contract(_write(tmp_path, readme_contract(), "readme.odcs.yaml")) == []


@pytest.mark.parametrize("path", FILES, ids=_id)
def test_every_official_example_lints_without_errors(path: Path) -> None:
    problems = lint_contract(path)
    assert _errors(problems) == []
    for p in problems:  # warnings point into the file
        assert p.line is not None and p.line >= 1, p


@pytest.mark.parametrize("name", ["PAYMENTS", "CUSTOMERS", "CUSTOMER_VALUE"])
def test_the_demo_contracts_lint_clean(tmp_path: Path, name: str) -> None:
    text = getattr(demo, name).format(workspace="shop")
    assert lint_contract(_write(tmp_path, text)) == []


@pytest.mark.parametrize(
    ("content", "says"),
    [
        ("apiVersion: v3.1.0\nkind: [DataContract\n", "YAML syntax error"),
        ("- apiVersion: v3.1.0\n- kind: DataContract\n", "found a list"),
        ("", "empty"),
        ("# only a comment\n", "empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe", "not UTF-8"),
        (b"abc\x00def: 1\n", "YAML syntax error"),
        ("just a sentence, not a contract\n", "found a str"),
    ],
    ids=["not-yaml", "list", "empty", "comment", "binary", "nul-byte", "scalar"],
)
def test_a_file_that_is_no_contract_is_one_clear_error(
    tmp_path: Path, content: str | bytes, says: str
) -> None:
    path = _write(tmp_path, content)
    problems = lint_contract(path)
    assert len(problems) == 1, problems
    (problem,) = problems
    assert problem.severity == "error" and problem.source == "yaml"
    assert problem.file == str(path) and says in problem.message
    assert str(path) in problem.describe()


def test_a_missing_file_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(ContractError) as caught:
        lint_contract(tmp_path / "nope.odcs.yaml")
    assert caught.value.attrs()["file"].endswith("nope.odcs.yaml")


def test_strict_makes_what_is_not_executed_an_error(tmp_path: Path) -> None:
    text = readme_contract().replace(
        "            mustBe: 0                            # counted",
        "            mustBe: 0\n          - {type: custom, engine: soda, implementation: 'x > 0'}\n"
        "          - {type: text, description: documentation only}  # counted",
    )
    path = _write(tmp_path, text)
    loose, strict = lint_contract(path), lint_contract(path, strict=True)
    assert [(p.severity, p.source) for p in loose] == [("warning", "not-executed")]
    assert [(p.severity, p.source) for p in strict] == [("error", "not-executed")]
    assert loose[0].path == strict[0].path and loose[0].line == _line(text, "engine: soda")


def test_a_mislabelled_api_version_is_a_warning_naming_the_version(tmp_path: Path) -> None:
    text = readme_contract().replace("apiVersion: v3.1.0", "apiVersion: v3.0.2")
    text = text.replace("logicalType: timestamp ", "logicalType: time      ")
    # a time of day has no age: the freshness SLA goes to the (absent) planes object
    text = text.replace("element: flights.time_hour", "element: planes.time_hour")
    (problem,) = lint_contract(_write(tmp_path, text))
    assert (problem.severity, problem.path, problem.line) == ("warning", "apiVersion", 1)
    assert "v3.1.0" in problem.message


def test_an_unsupported_api_version_is_one_schema_error(tmp_path: Path) -> None:
    text = readme_contract().replace("apiVersion: v3.1.0", "apiVersion: v9.9.9")
    problems = _errors(lint_contract(_write(tmp_path, text)))
    assert [(p.path, p.source) for p in problems] == [("apiVersion", "schema")]
    assert "v9.9.9" in problems[0].message and problems[0].line == 1


def test_every_schema_object_is_compiled(tmp_path: Path) -> None:
    text = BAD.replace(
        "slaProperties:",
        "  - name: returns\n    properties:\n      - {name: id, physicalType: BYTEA}\n"
        "slaProperties:",
    ).replace("element: orders.shipped_at", "element: orders.order_id")
    paths = {p.path for p in _errors(lint_contract(_write(tmp_path, text)))}
    assert {"schema[0].properties[1].physicalType", "schema[1].properties[0].physicalType"} <= paths
    assert "slaProperties[0]" not in paths


def test_allowed_purposes_must_be_a_list(tmp_path: Path) -> None:
    text = readme_contract().replace("value: [operations, analytics]", "value: operations")
    (problem,) = lint_contract(_write(tmp_path, text))
    assert problem.path == "customProperties[0].value" and problem.severity == "error"
    assert problem.line == _line(text, "value: operations")


def test_the_public_api_exports_lint() -> None:
    assert aiready.lint_contract is lint_contract and aiready.ContractProblem is ContractProblem
