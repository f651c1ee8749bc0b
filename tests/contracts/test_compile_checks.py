"""Contracts the JSON Schema accepts but that would compile into wrong rules or fail at refine.

Each is a ContractError at compile time naming the YAML path, so ``contract lint`` reports it
with its line and refine refuses the contract before it reads a row: a string where a list
belongs (``validValues: new`` read as n, e, w), a threshold written as text (``mustBe: "0"``
never equals the count 0), a column declared twice, a bound the engine cannot cast, a range no
value satisfies, an SLA that cannot age its column.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from deltalake import DeltaTable

from aiready.contracts import compile_contract, load_contract
from aiready.contracts.lint import lint_contract
from aiready.errors import ContractError
from tests.conftest import WorkspaceFactory
from tests.gates.test_odcs_fidelity import one_column

HEAD = """\
apiVersion: {api}
kind: DataContract
id: urn:t:x
name: x
version: 1.0.0
status: active
schema:
  - name: x
    physicalType: table
    properties:
      - {{name: id, logicalType: integer}}
"""
MARK = "# here"
"""Ends the line the error must be reported on."""


def contract(properties: str, tail: str = "", api: str = "v3.1.0") -> str:
    """A contract of object ``x``: an ``id`` column, then ``properties`` (YAML list items)."""
    items = "".join(f"      {line}\n" for line in properties.strip("\n").splitlines())
    return HEAD.format(api=api) + items + tail


def _line(text: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if line.endswith(MARK))


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "x.odcs.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def _quality(item: str, logical: str = "string") -> str:
    return f"- name: v\n  logicalType: {logical}\n  quality:\n    - {item}  {MARK}"


def _options(logical: str, options: str) -> str:
    return f"- {{name: v, logicalType: {logical}, logicalTypeOptions: {options}}}  {MARK}"


def _sla(sla: str) -> str:
    return f"slaProperties:\n  - {sla}  {MARK}\n"


P = "schema[0].properties[1]"
BAD = [
    pytest.param(
        contract(_quality("{metric: invalidValues, arguments: {validValues: new}, mustBe: 0}")),
        f"{P}.quality[0].arguments.validValues",
        id="validValues-a-string",
    ),
    pytest.param(
        contract(_quality("{metric: missingValues, arguments: {missingValues: NA}, mustBe: 0}")),
        f"{P}.quality[0].arguments.missingValues",
        id="missingValues-a-string",
    ),
    pytest.param(
        contract(
            _quality("{metric: invalidValues, arguments: {validValues: [a, [b]]}, mustBe: 0}")
        ),
        f"{P}.quality[0].arguments.validValues[1]",
        id="validValues-a-nested-list",
    ),
    pytest.param(
        contract(_quality("{metric: invalidValues, arguments: {validValues: []}, mustBe: 0}")),
        f"{P}.quality[0].arguments.validValues",
        id="validValues-empty",
    ),
    pytest.param(
        contract(
            "- {name: v, logicalType: string}",
            "    quality:\n"
            "      - {metric: duplicateValues, arguments: {properties: id}, mustBe: 0}"
            f"  {MARK}\n",
        ),
        "schema[0].quality[0].arguments.properties",
        id="properties-a-string",
    ),
    pytest.param(
        contract(_quality('{metric: nullValues, mustBe: "0"}')),
        f"{P}.quality[0].mustBe",
        id="mustBe-a-string",
    ),
    pytest.param(
        contract(_quality("{metric: nullValues, mustNotBe: true}")),
        f"{P}.quality[0].mustNotBe",
        id="mustNotBe-a-bool",
    ),
    pytest.param(
        contract(_quality("{metric: nullValues, mustBeBetween: [10, 1]}")),
        f"{P}.quality[0].mustBeBetween",
        id="mustBeBetween-largest-first",
    ),
    pytest.param(
        contract(
            f"- {{name: code, logicalType: string}}\n- {{name: code, logicalType: integer}}  {MARK}"
        ),
        "schema[0].properties[2].name",
        id="duplicate-name",
    ),
    pytest.param(
        contract(
            f"- {{name: a-b, logicalType: string}}\n- {{name: A-B, logicalType: string}}  {MARK}"
        ),
        "schema[0].properties[2].name",
        id="case-twins",
    ),
    pytest.param(
        contract(
            "- {name: code, logicalType: string}\n"
            f"- {{name: other, physicalName: CODE, logicalType: string}}  {MARK}"
        ),
        "schema[0].properties[2].physicalName",
        id="physical-name-twin",
    ),
    pytest.param(
        contract(_options("date", "{minimum: '2024-02-30'}")),
        f"{P}.logicalTypeOptions.minimum",
        id="date-bound-30-february",
    ),
    pytest.param(
        contract(_options("timestamp", "{minimum: yesterday}")),
        f"{P}.logicalTypeOptions.minimum",
        id="timestamp-bound-a-word",
    ),
    pytest.param(
        contract(_options("date", "{format: dd/MM/yyyy, maximum: '31/02/2024'}")),
        f"{P}.logicalTypeOptions.maximum",
        id="patterned-date-bound-invalid",
    ),
    pytest.param(
        contract(_options("integer", "{minimum: 10, maximum: 1}")),
        f"{P}.logicalTypeOptions.maximum",
        id="range-empty",
    ),
    pytest.param(
        contract(_options("number", "{exclusiveMinimum: 5, exclusiveMaximum: 5}")),
        f"{P}.logicalTypeOptions.exclusiveMaximum",
        id="exclusive-range-empty",
    ),
    pytest.param(
        contract(_options("number", "{exclusiveMinimum: 5, maximum: 5}")),
        f"{P}.logicalTypeOptions.maximum",
        id="half-open-range-empty",
    ),
    pytest.param(
        contract(_options("date", "{minimum: '2024-02-01', maximum: '2024-01-31'}")),
        f"{P}.logicalTypeOptions.maximum",
        id="date-range-empty",
    ),
    pytest.param(
        contract(
            _options("integer", "{minimum: 5, maximum: 5, exclusiveMaximum: true}"), api="v3.0.2"
        ),
        f"{P}.logicalTypeOptions.maximum",
        id="v30-exclusive-flag-range-empty",
    ),
    pytest.param(
        contract(_options("string", "{minLength: 5, maxLength: 2}")),
        f"{P}.logicalTypeOptions.maxLength",
        id="length-range-empty",
    ),
    pytest.param(
        contract(
            "- {name: at, logicalType: timestamp}",
            _sla("{property: latency, value: -1, unit: d, element: x.at}"),
        ),
        "slaProperties[0].value",
        id="sla-negative",
    ),
    pytest.param(
        contract(
            "- {name: at, logicalType: timestamp}",
            _sla("{property: freshness, value: 0, unit: h, element: x.at}"),
        ),
        "slaProperties[0].value",
        id="sla-zero",
    ),
    pytest.param(
        contract(
            "- {name: at, logicalType: string}",
            _sla("{property: latency, value: 1, unit: d, element: x.at}"),
        ),
        "slaProperties[0].element",
        id="sla-on-a-string-column",
    ),
    pytest.param(
        contract(
            "- {name: at, logicalType: timestamp}",
            _sla("{property: latency, value: 1, unit: fortnight, element: x.at}"),
        ),
        "slaProperties[0].unit",
        id="sla-unknown-unit",
    ),
]


@pytest.mark.parametrize(("text", "where"), BAD)
def test_compiling_names_the_yaml_path(tmp_path: Path, text: str, where: str) -> None:
    path = _write(tmp_path, text)
    loaded = load_contract(path)  # the JSON Schema of its apiVersion accepts it
    with pytest.raises(ContractError) as caught:
        compile_contract(loaded, "x")
    assert caught.value.attrs()["path"] == where
    assert caught.value.attrs()["file"] == str(path)


@pytest.mark.parametrize(("text", "where"), BAD)
def test_lint_reports_it_with_its_line(tmp_path: Path, text: str, where: str) -> None:
    problems = lint_contract(_write(tmp_path, text))
    errors = [(p.path, p.line, p.source) for p in problems if p.severity == "error"]
    assert errors == [(where, _line(text), "compile")]


def test_lint_reports_every_one_of_them_at_once(tmp_path: Path) -> None:
    text = contract(
        "- {name: s, logicalType: string, quality: [{metric: invalidValues, "
        "arguments: {validValues: new}, mustBe: 0}]}\n"
        '- {name: t, logicalType: string, quality: [{metric: nullValues, mustBe: "0"}]}\n'
        "- {name: code, logicalType: string}\n"
        "- {name: code, logicalType: integer}\n"
        "- {name: d, logicalType: date, logicalTypeOptions: {minimum: '2024-02-30'}}\n"
        "- {name: n, logicalType: integer, logicalTypeOptions: {minimum: 10, maximum: 1}}",
        "slaProperties:\n  - {property: latency, value: 1, unit: d, element: x.s}\n",
    )
    found = {p.path for p in lint_contract(_write(tmp_path, text)) if p.severity == "error"}
    assert found == {
        f"{P}.quality[0].arguments.validValues",
        "schema[0].properties[2].quality[0].mustBe",
        "schema[0].properties[4].name",
        "schema[0].properties[5].logicalTypeOptions.minimum",
        "schema[0].properties[6].logicalTypeOptions.maximum",
        "slaProperties[0].element",
    }


GOOD = [
    pytest.param(
        _quality("{metric: invalidValues, arguments: {validValues: [new]}, mustBe: 0}"), id="list"
    ),
    pytest.param(
        _quality("{metric: missingValues, arguments: {missingValues: [NA, null, '']}, mustBe: 0}"),
        id="missing-list",
    ),
    pytest.param(_quality("{metric: nullValues, mustBeLessThan: 0.5, unit: percent}"), id="number"),
    pytest.param(_quality("{metric: nullValues, mustBeBetween: [0, 3]}"), id="between"),
    pytest.param(
        "- {name: code, logicalType: string}\n- {name: code2, logicalType: integer}", id="names"
    ),
    pytest.param(_options("date", "{minimum: '2024-02-29', maximum: '2024-02-29'}"), id="one-day"),
    pytest.param(_options("date", "{format: dd/MM/yyyy, minimum: '01/02/2024'}"), id="patterned"),
    pytest.param(
        _options("timestamp", "{minimum: '2024-01-01T00:00:00+02:00', maximum: '2024-01-01'}"),
        id="timestamps",
    ),
    pytest.param(_options("number", "{exclusiveMinimum: 0, maximum: 0.5}"), id="numbers"),
    pytest.param(_options("string", "{minLength: 2, maxLength: 2}"), id="lengths"),
]


@pytest.mark.parametrize("properties", GOOD)
def test_the_good_variants_compile_and_lint_clean(tmp_path: Path, properties: str) -> None:
    path = _write(tmp_path, contract(properties))
    assert compile_contract(load_contract(path), "x").rules
    assert [p for p in lint_contract(path) if p.severity == "error"] == []


def test_a_fresh_sla_on_a_date_compiles_to_seconds(tmp_path: Path) -> None:
    sla = "slaProperties:\n  - {property: latency, value: 2, unit: h, element: x.day}\n"
    path = _write(tmp_path, contract("- {name: day, logicalType: date}", sla))
    [rule] = [r for r in compile_contract(load_contract(path), "x").rules if r.kind == "freshness"]
    assert rule.params == {"seconds": 7200.0}


@pytest.mark.parametrize(
    ("spec", "tail", "where"),
    [
        (
            "logicalType: string\nquality: [{metric: nullValues, mustBe: '0'}]",
            "",
            "schema[0].properties[1].quality[0].mustBe",
        ),
        (
            "logicalType: date\nlogicalTypeOptions: {minimum: '2024-02-30'}",
            "",
            "schema[0].properties[1].logicalTypeOptions.minimum",
        ),
        (
            "logicalType: string",
            "slaProperties:\n  - {property: latency, value: 1, unit: d, element: payments.v}\n",
            "slaProperties[0].element",
        ),
    ],
    ids=["mustBe-a-string", "date-bound", "sla-on-a-string-column"],
)
def test_refine_refuses_the_contract_before_reading_a_row(
    make_workspace: WorkspaceFactory, spec: str, tail: str, where: str
) -> None:
    ws = make_workspace(
        contract=one_column("v", spec) + tail, files={"data/a.csv": "id,v\n1,2024-03-01\n"}
    )
    ws.ingest()
    with pytest.raises(ContractError) as caught:
        ws.refine("payments")
    assert caught.value.attrs()["path"] == where
    assert not DeltaTable.is_deltatable(str(ws.paths.table("silver", "payments")))


@pytest.mark.parametrize(
    "unit", ["ms", "s", "min", "hours", "hr", "hrs", "d", "w", "week", "yr", "Days"]
)
def test_every_sla_unit_means_the_same_to_compile_diff_and_certificates(
    tmp_path: Path, unit: str
) -> None:
    """One table: a unit the compiler accepts is one the certificate and the diff measure."""
    from aiready.certification.certify import latency_sla
    from aiready.contracts import sla

    entry = {"property": "latency", "value": 2, "unit": unit, "element": "x.day"}
    expected = 2.0 * sla.UNIT_SECONDS[unit.lower()]
    assert latency_sla({"slaProperties": [entry]}) == ("day", expected)
    tail = f"slaProperties:\n  - {{property: latency, value: 2, unit: {unit}, element: x.day}}\n"
    path = _write(tmp_path, contract("- {name: day, logicalType: date}", tail))
    [rule] = [r for r in compile_contract(load_contract(path), "x").rules if r.kind == "freshness"]
    assert rule.params == {"seconds": expected}
    assert sla.seconds({"value": 2}) == 2 * 86400  # no unit: days
    assert sla.seconds({"value": 2, "unit": "fortnight"}) is None


def test_months_are_refused_with_a_hint_and_a_quoted_number_is_a_number(tmp_path: Path) -> None:
    """Found by an adversarial run: ODCS types an SLA ``value`` loosely ("4" is valid ODCS)."""
    day = "- {name: day, logicalType: date}"
    month = "slaProperties:\n  - {property: latency, value: 1, unit: month, element: x.day}\n"
    with pytest.raises(ContractError, match="months vary in length") as err:
        compile_contract(load_contract(_write(tmp_path, contract(day, month))), "x")
    assert err.value.attrs()["path"] == "slaProperties[0].unit"
    quoted = "slaProperties:\n  - {property: latency, value: '4', unit: d, element: x.day}\n"
    compiled = compile_contract(load_contract(_write(tmp_path, contract(day, quoted))), "x")
    assert [r.params for r in compiled.rules if r.kind == "freshness"] == [{"seconds": 345600.0}]


def test_an_sla_may_name_a_property_by_its_logical_name(tmp_path: Path) -> None:
    """The element ``x.updated_at`` names the property whose stored name is UPDATED_AT."""
    props = (
        "- {name: updated_at, physicalName: UPDATED_AT, logicalType: timestamp}\n"
        "- {name: code, physicalName: CODE, logicalType: string, primaryKey: true}"
    )
    for element in ("x.updated_at", "x.UPDATED_AT", "updated_at"):
        tail = f"slaProperties:\n  - {{property: latency, value: 1, unit: d, element: {element}}}\n"
        compiled = compile_contract(load_contract(_write(tmp_path, contract(props, tail))), "x")
        [rule] = [r for r in compiled.rules if r.kind == "freshness"]
        assert rule.columns == ("UPDATED_AT",)
        assert any(r.columns == ("CODE",) and r.kind == "unique" for r in compiled.rules)


def test_contracts_compile_in_many_threads_at_once(tmp_path: Path) -> None:
    """Found in review: the compile checks shared one DuckDB connection, so a service compiling
    in several threads refused valid bounds ("connection is busy") or crashed."""
    from concurrent.futures import ThreadPoolExecutor

    from aiready.contracts import formats

    texts = [
        contract(
            f"- {{name: d, logicalType: date, logicalTypeOptions: {{minimum: '2024-01-{k:02d}'}}}}"
            "\n"
            f"- {{name: c, logicalType: string, logicalTypeOptions: {{pattern: '^a{{{k}}}$'}}}}"
        )
        for k in range(1, 29)
    ]
    paths = []
    for k, text in enumerate(texts):
        (tmp_path / str(k)).mkdir()
        paths.append(_write(tmp_path / str(k), text))

    def compile_one(i: int) -> int:
        if i % 28 == 0:  # checks asked anew, not answered from the cache
            formats.bound_seconds.cache_clear()
            formats.regex_error.cache_clear()
        return len(compile_contract(load_contract(paths[i % len(paths)]), "x").rules)

    with ThreadPoolExecutor(8) as pool:
        counts = list(pool.map(compile_one, range(400)))
    assert len(counts) == 400 and len(set(counts)) == 1
