"""`aiready contract lint` as a user runs it: real processes, a real workspace, exit codes."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.cli.test_cli import aiready
from tests.contracts.test_lint import BAD, _line
from tests.contracts.test_readme import readme_contract


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    ws = tmp_path_factory.mktemp("ws") / "shop"
    assert aiready("init", str(ws)).returncode == 0
    return ws


def test_the_init_contracts_lint_clean_inside_their_workspace(shop: Path) -> None:
    files = sorted(str(p) for p in (shop / "contracts").glob("*.odcs.yaml"))
    assert len(files) == 3
    out = aiready("contract", "lint", *files, cwd=shop)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "3 file(s): no problems" in out.stdout
    shown = aiready("contract", "lint", *files, "--json", "-w", str(shop))
    assert shown.returncode == 0 and json.loads(shown.stdout) == []


def test_compiler_lines_for_every_problem_and_exit_1(tmp_path: Path) -> None:
    path = tmp_path / "bad [x].odcs.yaml"  # brackets: Rich markup must be escaped
    path.write_text(BAD, encoding="utf-8")
    out = aiready("contract", "lint", str(path), cwd=tmp_path)
    assert out.returncode == 1, out.stderr
    lines = [ln for ln in out.stdout.splitlines() if ln.startswith(str(path))]
    shape = re.compile(r"^(?P<file>.+):(?P<line>\d+): (?P<sev>error|warning): (?P<path>\S+): .+$")
    parsed = [shape.match(ln) for ln in lines]
    assert all(parsed), lines
    assert len(lines) >= 7
    assert f"{path}:{_line(BAD, 'logicalTyp:')}: error: schema[0].properties[0].logicalTyp:" in (
        out.stdout
    )
    assert "did you mean 'logicalType'?" in out.stdout
    assert re.search(r"\d+ error\(s\), 1 warning\(s\)", out.stdout)


def test_json_is_a_list_of_problems(tmp_path: Path) -> None:
    path = tmp_path / "bad.odcs.yaml"
    path.write_text(BAD, encoding="utf-8")
    out = aiready("contract", "lint", str(path), "--json", cwd=tmp_path)
    assert out.returncode == 1
    problems = json.loads(out.stdout)
    assert isinstance(problems, list) and problems
    assert set(problems[0]) == {"file", "line", "severity", "path", "message", "source"}
    assert {p["source"] for p in problems} == {"schema", "compile", "not-executed"}


def test_warnings_pass_unless_strict(tmp_path: Path) -> None:
    path = tmp_path / "c.odcs.yaml"
    path.write_text(
        readme_contract().replace(
            "            mustBe: 0                            # counted",
            "            mustBe: 0\n"
            "          - {type: custom, engine: soda, implementation: 'x > 0'}  # counted",
        ),
        encoding="utf-8",
    )
    loose = aiready("contract", "lint", str(path), cwd=tmp_path)
    assert loose.returncode == 0 and ": warning: " in loose.stdout, loose.stdout
    strict = aiready("contract", "lint", str(path), "--strict", "--json", cwd=tmp_path)
    assert strict.returncode == 1
    assert [p["severity"] for p in json.loads(strict.stdout)] == ["error"]


def test_a_missing_file_is_a_usage_error(tmp_path: Path) -> None:
    good = tmp_path / "good.odcs.yaml"
    good.write_text(readme_contract(), encoding="utf-8")
    out = aiready("contract", "lint", str(good), str(tmp_path / "nope.odcs.yaml"), cwd=tmp_path)
    assert out.returncode == 2
    assert "nope.odcs.yaml" in out.stdout + out.stderr


def test_not_yaml_is_one_error_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "notes.odcs.yaml"
    path.write_bytes(b"\xff\xd8\xff\xe0 binary")
    out = aiready("contract", "lint", str(path), "--json", cwd=tmp_path)
    assert out.returncode == 1
    (problem,) = json.loads(out.stdout)
    assert problem["file"] == str(path) and problem["source"] == "yaml"


def test_workspace_references_are_checked_inside_a_workspace(shop: Path) -> None:
    contract = shop / "contracts" / "payments.odcs.yaml"
    text = contract.read_text(encoding="utf-8")
    broken = text.replace(
        "      - name: customer_id\n",
        "      - name: customer_id\n"
        "        relationships:\n"
        "          - to: custmers.customer_id\n"
        "          - to: customers.customer_nr\n"
        "        tags: ['term:customer_idd']\n",
        1,
    )
    assert broken != text
    draft = shop / "contracts" / "draft.odcs.yaml"
    draft.write_text(broken, encoding="utf-8")
    out = aiready("contract", "lint", str(draft), "--json", cwd=shop / "contracts")
    assert out.returncode == 1, out.stderr
    problems = [p for p in json.loads(out.stdout) if p["source"] == "workspace"]
    by_message = {p["message"]: p for p in problems}
    missing = next(m for m in by_message if "custmers" in m)
    assert "no dataset 'custmers'" in missing and "did you mean 'customers'" in missing
    assert by_message[missing]["line"] == _line(broken, "to: custmers")
    assert by_message[missing]["severity"] == "error"
    column = next(m for m in by_message if "customer_nr" in m)
    assert "has no column 'customer_nr'" in column
    term = next(p for m, p in by_message.items() if "customer_idd" in m)
    assert term["severity"] == "warning" and term["line"] == _line(broken, "term:customer_idd")
    assert term["path"].endswith(".tags[0]")
    unused = [p for p in problems if "uses this contract" in p["message"]]
    assert [p["severity"] for p in unused] == ["warning"]
    # outside the workspace the same file has no workspace problems (the file itself is fine)
    elsewhere = aiready("contract", "lint", str(draft), "--json", cwd=shop.parent)
    assert elsewhere.returncode == 0, elsewhere.stdout
    assert all(p["source"] != "workspace" for p in json.loads(elsewhere.stdout))
    draft.unlink()


def test_glossary_terms_are_checked_against_glossary_yaml(shop: Path) -> None:
    (shop / "glossary.yaml").write_text(
        "terms:\n  customer:\n    definition: A person or company that pays us.\n",
        encoding="utf-8",
    )
    text = (shop / "contracts" / "payments.odcs.yaml").read_text(encoding="utf-8")
    linked = text.replace(
        "      - name: customer_id\n",
        "      - name: customer_id\n"
        "        authoritativeDefinitions:\n"
        "          - {type: businessDefinition, url: 'glossary:customer'}\n"
        "          - {type: businessDefinition, url: 'glossary:custommer'}\n",
        1,
    )
    draft = shop / "contracts" / "linked.odcs.yaml"
    draft.write_text(linked, encoding="utf-8")
    try:
        out = aiready("contract", "lint", str(draft), "--json", cwd=shop)
        assert out.returncode == 0, out.stdout + out.stderr  # warnings only
        terms = [p for p in json.loads(out.stdout) if "glossary" in p["message"]]
        assert [p["path"].rpartition(".")[2] for p in terms] == ["authoritativeDefinitions[1]"]
        assert (
            "'custommer'" in terms[0]["message"]
            and "did you mean 'customer'" in terms[0]["message"]
        )
        assert terms[0]["line"] == _line(linked, "glossary:custommer")
    finally:
        draft.unlink()
        (shop / "glossary.yaml").unlink()


@pytest.mark.parametrize(
    "text",
    [
        "apiVersion: v3.1.0\nschema: foo\n",
        "apiVersion: v3.1.0\nschema: [1, 2]\n",
        "apiVersion: v3.1.0\nschema:\n  - name: payments\n    properties: 5\n",
        "apiVersion: v3.1.0\nschema:\n  - name: payments\n"
        "    properties: [7, {physicalType: BLOB}]\n",
        "apiVersion: v3.1.0\nschema:\n  - name: payments\n    relationships: 3\n"
        "    properties: [{name: x, tags: 4, authoritativeDefinitions: [oops]}]\n",
        "apiVersion: 3\nslaProperties: 4\ncustomProperties: [1, {property: allowedPurposes}]\n",
    ],
    ids=["schema-str", "schema-ints", "props-int", "prop-int", "shapes", "top-level"],
)
def test_a_malformed_contract_is_reported_never_an_internal_error(shop: Path, text: str) -> None:
    path = shop / "contracts" / "odd.odcs.yaml"
    path.write_text(text, encoding="utf-8")
    try:
        out = aiready("contract", "lint", str(path), "--json", cwd=shop)
    finally:
        path.unlink()
    assert out.returncode == 1, out.stdout + out.stderr
    problems = json.loads(out.stdout)
    assert any(p["severity"] == "error" and p["source"] == "schema" for p in problems)
