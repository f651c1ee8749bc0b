"""``aiready.contracts.diff``: each change kind classified breaking or compatible, and why."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import aiready
from aiready.contracts import load_contract
from aiready.contracts.diff import KINDS, ContractDiff, diff_contracts
from aiready.contracts.importer import to_yaml
from aiready.errors import ContractError

BASE = """\
apiVersion: v3.1.0
kind: DataContract
id: orders
name: orders
version: 1.0.0
status: active
description: {purpose: Orders as the shop records them}
customProperties:
  - property: allowedPurposes
    value: [analytics, fraud]
slaProperties:
  - property: latency
    value: 1
    unit: d
  - property: retention
    value: 90
    unit: d
schema:
  - name: orders
    properties:
      - name: id
        logicalType: integer
        physicalType: BIGINT
        primaryKey: true
      - name: amount
        logicalType: number
        physicalType: DECIMAL(10,2)
        required: true
        logicalTypeOptions: {minimum: 0, maximum: 1000}
      - name: qty
        logicalType: integer
        physicalType: INT
      - name: status
        logicalType: string
        classification: internal
        logicalTypeOptions: {maxLength: 10}
        quality:
          - metric: invalidValues
            arguments: {validValues: [new, paid]}
            mustBe: 0
      - name: note
        logicalType: string
        description: free text
    quality:
      - name: enough_rows
        metric: rowCount
        mustBeGreaterThan: 0
      - name: few_duplicates
        metric: duplicateValues
        arguments: {properties: [id]}
        mustBeLessThan: 10
"""

NOTE = "      - name: note\n        logicalType: string\n        description: free text\n"
AMOUNT_OPTS = "logicalTypeOptions: {minimum: 0, maximum: 1000}"
PK = "        physicalType: BIGINT\n        primaryKey: true\n"

Case = tuple[str, str, str, str, bool, str]


def retyped(old: str, physical: str, kind: str, breaking: bool, reason: str) -> Case:
    """Column id (BIGINT), qty (INT) or amount (DECIMAL(10,2)) gets the number type ``physical``."""
    if old in ("BIGINT", "INT"):
        before = f"logicalType: integer\n        physicalType: {old}"
        after = f"logicalType: number\n        physicalType: {physical}"
        return (f"{old}→{physical}", before, after, kind, breaking, reason)
    return (f"{old}→{physical}", old, physical, kind, breaking, reason)


TYPE_CASES = [
    retyped(
        "BIGINT",
        "DECIMAL(1,0)",
        "type_narrowed",
        True,
        "BIGINT → DECIMAL(1,0) (BIGINT has up to 19 digits, DECIMAL(1,0) holds 1 before the point)",
    ),
    retyped("BIGINT", "DECIMAL(18,0)", "type_narrowed", True, "DECIMAL(18,0) holds 18 before"),
    retyped(
        "BIGINT", "DECIMAL(19,0)", "type_widened", False, "type widened: BIGINT → DECIMAL(19,0)"
    ),
    retyped(
        "BIGINT", "DECIMAL(38,2)", "type_widened", False, "type widened: BIGINT → DECIMAL(38,2)"
    ),
    retyped("INT", "DECIMAL(10,0)", "type_widened", False, "type widened: INT → DECIMAL(10,0)"),
    retyped("INT", "DECIMAL(9,0)", "type_narrowed", True, "INT has up to 10 digits"),
    retyped("DECIMAL(10,2)", "DECIMAL(12,2)", "type_widened", False, "DECIMAL(12,2)"),
    retyped("DECIMAL(10,2)", "DECIMAL(12,4)", "type_widened", False, "DECIMAL(12,4)"),
    retyped(
        "DECIMAL(10,2)",
        "DECIMAL(11,4)",
        "type_narrowed",
        True,
        "DECIMAL(10,2) → DECIMAL(11,4) (digits before the point 8 → 7)",
    ),
    retyped("DECIMAL(10,2)", "DECIMAL(12,1)", "type_narrowed", True, "decimal places 2 → 1"),
    retyped(
        "BIGINT",
        "DOUBLE",
        "type_narrowed",
        True,
        "BIGINT → DOUBLE (DOUBLE holds integers exactly only up to 2^53: 2^53+1 would be rounded)",
    ),
    retyped("INT", "DOUBLE", "type_widened", False, "type widened: INT → DOUBLE"),
    retyped("INT", "FLOAT", "type_narrowed", True, "FLOAT holds integers exactly only up to 2^24"),
    retyped("DECIMAL(10,2)", "DOUBLE", "type_widened", False, "DECIMAL(10,2) → DOUBLE"),
    retyped("DECIMAL(10,2)", "FLOAT", "type_narrowed", True, "FLOAT keeps 6 significant digits"),
]
"""Numbers: widened only when the new type holds every value of the old one."""

# (case id, text replaced, replacement, expected kind, breaking, reason contains)
CASES: list[Case] = [
    ("removed column", NOTE, "", "column_removed", True, "column note removed"),
    (
        "renamed column (same position, same definition)",
        "- name: note\n",
        "- name: remark\n",
        "column_renamed",
        True,
        "note renamed to remark (same position and definition)",
    ),
    (
        "renamed physical column",
        "      - name: note\n",
        "      - name: note\n        physicalName: remark\n",
        "column_renamed",
        True,
        "stored column note → remark",
    ),
    (
        "narrowed type string→integer",
        "- name: note\n        logicalType: string",
        "- name: note\n        logicalType: integer",
        "type_changed",
        True,
        "VARCHAR → BIGINT",
    ),
    (
        "narrowed type bigint→int",
        "physicalType: BIGINT",
        "physicalType: INT",
        "type_narrowed",
        True,
        "BIGINT → INT",
    ),
    (
        "narrowed decimal precision",
        "DECIMAL(10,2)",
        "DECIMAL(8,2)",
        "type_narrowed",
        True,
        "DECIMAL(10,2) → DECIMAL(8,2)",
    ),
    (
        "widened int→bigint",
        "physicalType: INT\n",
        "physicalType: BIGINT\n",
        "type_widened",
        False,
        "INT → BIGINT",
    ),
    (
        "widened decimal",
        "DECIMAL(10,2)",
        "DECIMAL(14,4)",
        "type_widened",
        False,
        "DECIMAL(10,2) → DECIMAL(14,4)",
    ),
    *TYPE_CASES,
    (
        "required spelt out on the primary key",
        PK,
        PK + "        required: true\n",
        "documentation",
        False,
        "required spelt out: id was never null already (primary key)",
    ),
    (
        "nullable → required",
        "- name: note\n        logicalType: string\n",
        "- name: note\n        logicalType: string\n        required: true\n",
        "required_added",
        True,
        "note is now required",
    ),
    (
        "required → nullable",
        "        required: true\n",
        "",
        "required_removed",
        False,
        "amount may be null",
    ),
    (
        "new required column",
        NOTE,
        NOTE + "      - {name: ref, logicalType: string, required: true}\n",
        "column_added_required",
        True,
        "new required column ref",
    ),
    (
        "new optional column",
        NOTE,
        NOTE + "      - {name: ref, logicalType: string}\n",
        "column_added_optional",
        False,
        "new optional column ref",
    ),
    (
        "maximum lowered",
        AMOUNT_OPTS,
        "logicalTypeOptions: {minimum: 0, maximum: 500}",
        "constraint_tightened",
        True,
        "maximum lowered: 1000 → 500",
    ),
    (
        "maximum raised",
        AMOUNT_OPTS,
        "logicalTypeOptions: {minimum: 0, maximum: 5000}",
        "constraint_loosened",
        False,
        "maximum raised: 1000 → 5000",
    ),
    (
        "minimum removed",
        AMOUNT_OPTS,
        "logicalTypeOptions: {maximum: 1000}",
        "constraint_loosened",
        False,
        "bound minimum 0 removed",
    ),
    (
        "maxLength lowered",
        "{maxLength: 10}",
        "{maxLength: 5}",
        "constraint_tightened",
        True,
        "maxLength lowered: 10 → 5",
    ),
    (
        "pattern added",
        "{maxLength: 10}",
        "{maxLength: 10, pattern: '[a-z]+'}",
        "pattern_changed",
        True,
        "pattern None → [a-z]+",
    ),
    (
        "valid value removed",
        "validValues: [new, paid]",
        "validValues: [new]",
        "valid_value_removed",
        True,
        'no longer allowed: ["paid"]',
    ),
    (
        "valid value added",
        "validValues: [new, paid]",
        "validValues: [new, paid, sent]",
        "valid_value_added",
        False,
        'now allowed too: ["sent"]',
    ),
    (
        "mustBeLessThan lowered",
        "mustBeLessThan: 10",
        "mustBeLessThan: 5",
        "quality_tightened",
        True,
        "mustBeLessThan tightened: 10 → 5",
    ),
    (
        "mustBeGreaterThan lowered",
        "mustBeGreaterThan: 0",
        "mustBeGreaterThan: -1",
        "quality_loosened",
        False,
        "mustBeGreaterThan loosened: 0 → -1",
    ),
    (
        "new quality rule",
        "        description: free text\n",
        "        description: free text\n        quality:\n"
        "          - {metric: nullValues, mustBe: 0}\n",
        "quality_added",
        True,
        "new quality rule nullValues",
    ),
    (
        "quality rule removed",
        "      - name: enough_rows\n        metric: rowCount\n        mustBeGreaterThan: 0\n",
        "",
        "quality_removed",
        False,
        "quality rule enough_rows removed",
    ),
    (
        "quality rule checks another metric",
        "metric: duplicateValues",
        "metric: nullValues",
        "quality_changed",
        True,
        "metric changed",
    ),
    (
        "classification more restrictive",
        "classification: internal",
        "classification: confidential",
        "classification_restricted",
        True,
        "internal → confidential",
    ),
    (
        "classification less restrictive",
        "classification: internal",
        "classification: public",
        "classification_relaxed",
        False,
        "internal → public",
    ),
    (
        "purpose removed",
        "value: [analytics, fraud]",
        "value: [analytics]",
        "purpose_removed",
        True,
        'purposes no longer allowed: ["fraud"]',
    ),
    (
        "purpose added",
        "value: [analytics, fraud]",
        "value: [analytics, fraud, support]",
        "purpose_added",
        False,
        'purposes now allowed: ["support"]',
    ),
    (
        "primary key change",
        "        physicalType: BIGINT\n        primaryKey: true\n",
        "        physicalType: BIGINT\n",
        "primary_key_changed",
        True,
        "primary key (id) → (none)",
    ),
    (
        "stricter latency",
        "  - property: latency\n    value: 1\n    unit: d",
        "  - property: latency\n    value: 6\n    unit: h",
        "sla_stricter",
        True,
        "latency stricter: 1 d → 6 h",
    ),
    (
        "looser latency",
        "  - property: latency\n    value: 1\n    unit: d",
        "  - property: latency\n    value: 2\n    unit: d",
        "sla_looser",
        False,
        "latency looser: 1 d → 2 d",
    ),
    (
        "longer retention is stricter",
        "    value: 90\n",
        "    value: 365\n",
        "sla_stricter",
        True,
        "retention stricter: 90 d → 365 d",
    ),
    (
        "new SLA",
        "slaProperties:\n",
        "slaProperties:\n  - property: freshness\n    value: 1\n    unit: h\n",
        "sla_stricter",
        True,
        "new SLA freshness 1 h",
    ),
    (
        "schema object renamed",
        "schema:\n  - name: orders\n",
        "schema:\n  - name: purchases\n",
        "object_renamed",
        True,
        "orders renamed to purchases (same position and definition)",
    ),
    (
        "schema object added",
        "schema:\n",
        "schema:\n  - name: extra\n    properties:\n      - {name: x, logicalType: string}\n",
        "object_added",
        False,
        "schema object extra added",
    ),
    (
        "description changed",
        "description: free text",
        "description: whatever the clerk typed",
        "documentation",
        False,
        "description changed",
    ),
    (
        "unknown change",
        "status: active\n",
        "status: active\nservers:\n  - {server: prod, type: postgres, host: db, port: 5432, "
        "database: shop, schema: public}\n",
        "not_classified",
        True,
        "not classified",
    ),
    (
        "unique added",
        "- name: note\n        logicalType: string\n",
        "- name: note\n        logicalType: string\n        unique: true\n",
        "unique_added",
        True,
        "note must be unique",
    ),
    (
        "schema object inserted before another",
        "schema:\n  - name: orders\n",
        "schema:\n  - name: extra\n    properties:\n      - {name: x, logicalType: string}\n"
        "  - name: orders\n",
        "object_added",
        False,
        "schema object extra added",
    ),
    (
        "reference check added",
        "- name: note\n        logicalType: string\n",
        "- name: note\n        logicalType: string\n"
        "        relationships:\n          - {to: notes.id}\n",
        "relationship_added",
        True,
        "new reference check",
    ),
    (
        "onFail stricter",
        "- name: note\n        logicalType: string\n",
        "- name: note\n        logicalType: string\n"
        "        customProperties:\n          - {property: onFail, value: fail}\n",
        "constraint_tightened",
        True,
        "onFail quarantine → fail",
    ),
]


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def diff_texts(tmp_path: Path, old: str, new: str, force: bool = False) -> ContractDiff:
    a = load_contract(write(tmp_path, "old.odcs.yaml", old))
    b = load_contract(write(tmp_path, "new.odcs.yaml", new))
    return diff_contracts(a, b, force=force)


@pytest.mark.parametrize(
    ("old", "new", "kind", "breaking", "reason"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_each_change_kind(
    tmp_path: Path, old: str, new: str, kind: str, breaking: bool, reason: str
) -> None:
    assert old in BASE, "the case must edit the base contract"
    result = diff_texts(tmp_path, BASE, BASE.replace(old, new, 1))
    assert [(c.kind, c.breaking) for c in result.changes] == [(kind, breaking)], result.text()
    [change] = result.changes
    assert reason in change.reason
    assert KINDS[kind] is breaking


def test_the_matrix_covers_every_kind_but_id_and_relationships() -> None:
    covered = {case[3] for case in CASES}
    missing = set(KINDS) - covered
    assert missing <= {
        "id_changed",
        "object_removed",
        "unique_added",
        "unique_removed",
        "pattern_removed",
        "relationship_added",
        "relationship_removed",
    }, missing


def test_identical_contracts_have_no_changes(tmp_path: Path) -> None:
    result = diff_texts(tmp_path, BASE, BASE)
    assert result.changes == () and not result.breaking
    assert "no changes" in result.text()


def test_a_removed_object_and_several_changes_at_once(tmp_path: Path) -> None:
    two = BASE + "  - name: extra\n    properties:\n      - {name: x, logicalType: string}\n"
    edited = BASE.replace("validValues: [new, paid]", "validValues: [new, sent]").replace(NOTE, "")
    result = diff_texts(tmp_path, two, edited)
    kinds = [(c.kind, c.path) for c in result.changes]
    assert kinds == [
        ("object_removed", "schema[1]"),
        ("column_removed", "schema[0].properties[4]"),
        ("valid_value_removed", "schema[0].properties[3].quality[0].arguments.validValues"),
        ("valid_value_added", "schema[0].properties[3].quality[0].arguments.validValues"),
    ]
    assert len(result.breaking) == 3 and len(result.compatible) == 1


def test_a_column_renamed_keeping_its_id_is_a_rename_even_when_it_moves(tmp_path: Path) -> None:
    old = BASE.replace("      - name: note\n", "      - name: note\n        id: note_col\n")
    moved = "      - name: remark\n        id: note_col\n        logicalType: string\n"
    new = old.replace(NOTE.replace("- name: note\n", "- name: note\n        id: note_col\n"), "")
    new = new.replace("      - name: id\n", moved + "      - name: id\n")
    result = diff_texts(tmp_path, old, new)
    renamed = [c for c in result.changes if c.kind == "column_renamed"]
    assert [c.reason for c in renamed] == ["column note renamed to remark (same id)"]
    assert not [c for c in result.changes if c.kind in ("column_removed", "column_added_optional")]


def test_a_removed_and_an_added_column_elsewhere_are_not_guessed_as_a_rename(
    tmp_path: Path,
) -> None:
    new = BASE.replace(NOTE, "").replace(
        "      - name: id\n", "      - {name: remark, logicalType: string}\n      - name: id\n"
    )
    kinds = sorted(c.kind for c in diff_texts(tmp_path, BASE, new).changes)
    assert kinds == ["column_added_optional", "column_removed"]


def test_unrelated_contracts_are_refused_unless_forced(tmp_path: Path) -> None:
    other = BASE.replace("id: orders", "id: invoices")
    with pytest.raises(ContractError, match="two different contracts") as info:
        diff_texts(tmp_path, BASE, other)
    assert info.value.attrs()["path"] == "id"
    assert info.value.attrs()["file"].endswith("new.odcs.yaml")
    forced = diff_texts(tmp_path, BASE, other, force=True)
    assert [(c.kind, c.breaking) for c in forced.changes] == [("id_changed", True)]


@pytest.mark.parametrize(
    ("old", "new", "raised"),
    [("1.4.2", "2.0.0", True), ("1.0.0", "1.5.0", False), ("2.0.0", "1.0.0", False),
     ("one", "2.0.0", False), ("1.0.0", "10.0.0-rc1", True)],
)  # fmt: skip
def test_major_raised(tmp_path: Path, old: str, new: str, raised: bool) -> None:
    result = diff_texts(
        tmp_path, BASE.replace("1.0.0", old), BASE.replace("1.0.0", new).replace(NOTE, "")
    )
    assert result.major_raised is raised
    assert (result.old_version, result.new_version) == (old, new)


def test_markdown_is_a_changelog_section(tmp_path: Path) -> None:
    new = BASE.replace("version: 1.0.0", "version: 2.0.0").replace(NOTE, "")
    new = new.replace("validValues: [new, paid]", "validValues: [new, paid, sent]")
    md = diff_texts(tmp_path, BASE, new).markdown()
    assert md.splitlines()[:5] == [
        "## orders 1.0.0 → 2.0.0",
        "",
        "### Breaking",
        "",
        "- `schema[0].properties[4]`: column note removed (column_removed)",
    ]
    assert "### Compatible\n\n- `schema[0].properties[3].quality[0].arguments.validValues`" in md


def test_asdict_is_json_ready(tmp_path: Path) -> None:
    data = diff_texts(tmp_path, BASE, BASE.replace(NOTE, "")).asdict()
    assert json.loads(json.dumps(data)) == data
    assert data["breaking"] == 1 and data["changes"][0]["kind"] == "column_removed"


def test_undoing_a_tightening_is_compatible(tmp_path: Path) -> None:
    pattern = "{maxLength: 10, pattern: '[a-z]+'}"
    undo = diff_texts(tmp_path, BASE.replace("{maxLength: 10}", pattern), BASE)
    assert [(c.kind, c.breaking) for c in undo.changes] == [("pattern_removed", False)]
    unique = BASE.replace("description: free text", "description: free text\n        unique: true")
    undo = diff_texts(tmp_path, unique, BASE)
    assert [(c.kind, c.breaking) for c in undo.changes] == [("unique_removed", False)]


@pytest.mark.parametrize(
    ("op", "old", "new", "kind", "word"),
    [
        ("mustBeBetween", "[0, 10]", "[2, 8]", "quality_tightened", "tightened"),
        ("mustBeBetween", "[0, 10]", "[0, 20]", "quality_loosened", "loosened"),
        ("mustBeBetween", "[0, 10]", "[5, 15]", "quality_tightened", "changed"),
        ("mustNotBeBetween", "[0, 10]", "[0, 20]", "quality_tightened", "tightened"),
        ("mustNotBeBetween", "[0, 10]", "[2, 8]", "quality_loosened", "loosened"),
        ("mustBe", "0", "1", "quality_tightened", "changed"),
    ],
)
def test_range_and_equality_thresholds(
    tmp_path: Path, op: str, old: str, new: str, kind: str, word: str
) -> None:
    rule = "        mustBeGreaterThan: 0\n"
    before = BASE.replace(rule, f"        {op}: {old}\n")
    after = BASE.replace(rule, f"        {op}: {new}\n")
    [change] = diff_texts(tmp_path, before, after).changes
    assert (change.kind, change.breaking) == (kind, KINDS[kind])
    assert change.reason.startswith(f"{op} {word}: ")


def test_types_are_judged_as_silver_stores_them(tmp_path: Path) -> None:
    """``logicalType: integer`` alone is BIGINT in silver, ``number`` alone DOUBLE."""
    bare = BASE.replace("        physicalType: INT\n", "")
    [change] = diff_texts(
        tmp_path,
        bare,
        bare.replace(
            "name: qty\n        logicalType: integer", "name: qty\n        logicalType: number"
        ),
    ).changes
    assert (change.kind, change.breaking) == ("type_narrowed", True)
    assert change.reason.startswith("type narrowed: BIGINT → DOUBLE (DOUBLE holds integers")
    precision = "customProperties: [{property: precision, value: 20}]"
    wide = bare.replace(
        "name: qty\n        logicalType: integer",
        f"name: qty\n        logicalType: number\n        {precision}",
    )
    [change] = diff_texts(tmp_path, bare, wide).changes
    assert (change.kind, change.reason) == ("type_widened", "type widened: BIGINT → DECIMAL(20,0)")


def test_required_on_a_primary_key_column_changes_no_rule(tmp_path: Path) -> None:
    """A primary-key column is never null either way: dropping ``required`` breaks nothing."""
    spelt = BASE.replace(PK, PK + "        required: true\n")
    [change] = diff_texts(tmp_path, spelt, BASE).changes
    assert (change.kind, change.breaking) == ("documentation", False)
    assert change.reason == "required dropped: id is still never null (primary key)"
    nullable = BASE.replace(PK, "        physicalType: BIGINT\n")
    kinds = [(c.kind, c.breaking) for c in diff_texts(tmp_path, nullable, spelt).changes]
    assert kinds == [("primary_key_changed", True), ("required_added", True)]  # id was nullable


ROUND_TRIP = """\
apiVersion: v3.1.0
kind: DataContract
id: orders
name: orders
version: 1.0.0
status: active
schema:
  - name: orders
    properties:
      - {name: id, logicalType: integer, physicalType: BIGINT, primaryKey: true}
      - {name: amount, logicalType: number, physicalType: "DECIMAL(10,2)", required: true}
      - {name: qty, logicalType: integer, physicalType: INT}
      - {name: code, logicalType: string, unique: true}
      - {name: note, logicalType: string, description: free text}
"""


def test_a_contract_and_its_sql_export_imported_back_have_no_breaking_change(
    tmp_path: Path,
) -> None:
    """The DDL makes the primary key NOT NULL, so the import spells ``required: true`` on it;
    the import also names the object's kind (``physicalType: table``), which is documentation."""
    original = load_contract(write(tmp_path, "orders.odcs.yaml", ROUND_TRIP))
    draft = aiready.import_sql(aiready.export_contract(original, "sql"))
    draft["id"] = original.raw["id"]  # an import is a draft with an id of its own
    back = load_contract(write(tmp_path, "back.odcs.yaml", to_yaml(draft)))
    result = diff_contracts(original, back)
    assert not result.breaking, result.text()
    assert back.raw["schema"][0]["properties"][0]["required"] is True
    assert [(c.path, c.reason) for c in result.changes if c.path.endswith(".required")] == [
        (
            "schema[0].properties[0].required",
            "required spelt out: id was never null already (primary key)",
        )
    ]


@pytest.mark.parametrize(("old", "new"), [(None, "table"), ("table", "view"), ("topic", None)])
def test_the_object_kind_is_documentation(tmp_path: Path, old: str | None, new: str | None) -> None:
    def kind(value: str | None) -> str:
        line = f"    physicalType: {value}\n" if value else ""
        return ROUND_TRIP.replace("  - name: orders\n", "  - name: orders\n" + line)

    [change] = diff_texts(tmp_path, kind(old), kind(new)).changes
    assert (change.kind, change.breaking, change.path) == (
        "documentation",
        False,
        "schema[0].physicalType",
    )
