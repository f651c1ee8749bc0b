"""Silver schema evolution: a widening keeps every value exactly, a narrowing is refused."""

from __future__ import annotations

import json
import shutil
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pytest
from deltalake import DeltaTable

from aiready import ContractError, Workspace
from aiready.layers.evolve import classify
from tests.conftest import WorkspaceFactory, silver_rows

QTY = """\
schema:
  - name: payments
    properties:
      - {name: id, logicalType: integer, primaryKey: true}
      - {name: qty, logicalType: integer}
"""
INT_QTY = QTY.replace(
    "{name: qty, logicalType: integer}", "{name: qty, logicalType: integer, physicalType: INT}"
)
"""qty as INT: every INT is a DOUBLE, so integer → number widens (a BIGINT would not: 2**53+1)."""
TO_NUMBER = ("logicalType: integer, physicalType: INT", "logicalType: number")


def contract_path(ws: Workspace) -> Path:
    return ws.root / "contracts/payments.odcs.yaml"


def edit_contract(ws: Workspace, old: str, new: str) -> None:
    path = contract_path(ws)
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


def forget_applied_contracts(ws: Workspace) -> None:
    """Silver as written before aiready kept contract texts (``.aiready/contracts/``).

    With the texts kept, a breaking edit under the same major version is refused before evolve
    runs (tests/layers/test_contract_change.py); evolve's data checks are the guard left for a
    table whose earlier contract cannot be read back, which is what these tests exercise.
    """
    shutil.rmtree(ws.paths.state / "contracts")


def silver_type(ws: Workspace, column: str) -> pa.DataType:
    dt = DeltaTable(str(ws.paths.table("silver", "payments")))
    return pa.schema(dt.schema().to_arrow()).field(column).type


def by_id(ws: Workspace, column: str) -> dict[int, object]:
    return {int(r["id"]): r[column] for r in silver_rows(ws)}  # type: ignore[call-overload]


def test_widening_then_replay_keeps_the_fraction_exactly(make_workspace: WorkspaceFactory) -> None:
    ws = make_workspace(contract=INT_QTY, files={"data/a.csv": "id,qty\n1,2\n2,1.5\n"})
    ws.ingest()
    ws.refine()
    assert by_id(ws, "qty") == {1: 2}
    edit_contract(ws, *TO_NUMBER)
    [result] = ws.refine(replay_quarantine=True)
    assert result.replay is not None and result.replay.released == 1
    assert by_id(ws, "qty") == {1: 2.0, 2: 1.5}  # was {1: 2, 2: 1}: a silent lossy cast
    assert pa.types.is_floating(silver_type(ws, "qty"))
    assert [(c.column, c.kind, c.old) for c in result.schema_changes] == [
        ("qty", "widened", "int32")
    ]
    (ws.root / "data/b.csv").write_text("id,qty\n3,0.25\n")  # the next run used to fail
    ws.ingest()
    [nxt] = ws.refine()
    assert nxt.passed and by_id(ws, "qty")[3] == 0.25


def test_widening_is_one_recorded_delta_commit_and_history_keeps_the_old_type(
    make_workspace: WorkspaceFactory,
) -> None:
    ws = make_workspace(contract=INT_QTY, files={"data/a.csv": "id,qty\n1,2\n2,7\n"})
    ws.ingest()
    ws.refine()
    before = DeltaTable(str(ws.paths.table("silver", "payments"))).version()
    edit_contract(ws, *TO_NUMBER)
    (ws.root / "data/b.csv").write_text("id,qty\n3,0.5\n")
    ws.ingest()
    ws.refine()
    dt = DeltaTable(str(ws.paths.table("silver", "payments")))
    widen = [h for h in dt.history() if "aiready.schema_change" in h]
    assert len(widen) == 1 and widen[0]["version"] == before + 1
    assert json.loads(widen[0]["aiready.schema_change"]) == [
        {"column": "qty", "kind": "widened", "old": "int32", "new": "double"}
    ]
    assert by_id(ws, "qty") == {1: 2.0, 2: 7.0, 3: 0.5}
    old = DeltaTable(str(ws.paths.table("silver", "payments")), version=before)
    assert old.to_pyarrow_table().column("qty").type == pa.int32()


def test_decimal_widening_and_a_new_optional_column(make_workspace: WorkspaceFactory) -> None:
    ws = make_workspace(files={"data/a.csv": "id,amount,currency\n1,2.50,EUR\n"})
    ws.ingest()
    ws.refine()
    edit_contract(ws, "DECIMAL(10,2)", "DECIMAL(14,4)")
    path = contract_path(ws)
    path.write_text(path.read_text() + "      - {name: note, logicalType: string}\n")
    (ws.root / "data/b.csv").write_text("id,amount,currency,note\n2,3.1234,USD,hi\n")
    ws.ingest()
    [result] = ws.refine()
    assert result.passed
    assert silver_type(ws, "amount") == pa.decimal128(14, 4)
    assert by_id(ws, "amount") == {1: Decimal("2.5000"), 2: Decimal("3.1234")}
    assert by_id(ws, "note") == {1: None, 2: "hi"}
    kinds = {(c.column, c.kind) for c in result.schema_changes}
    assert kinds == {("amount", "widened"), ("note", "added")}


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            "name: qty, logicalType: number",
            "name: qty, logicalType: integer",
            "'qty' is double in silver but the contract now makes it int64",
        ),
        (
            "name: qty, logicalType: number",
            "name: qty, logicalType: string",
            "'qty' is double in silver but the contract now makes it string",
        ),
    ],
)
def test_narrowing_is_refused_naming_column_types_and_the_command(
    make_workspace: WorkspaceFactory, old: str, new: str, message: str
) -> None:
    contract = QTY.replace("name: qty, logicalType: integer", "name: qty, logicalType: number")
    ws = make_workspace(contract=contract, files={"data/a.csv": "id,qty\n1,2\n"})
    ws.ingest()
    ws.refine()
    forget_applied_contracts(ws)
    edit_contract(ws, old, new)
    (ws.root / "data/b.csv").write_text("id,qty\n2,3\n")
    ws.ingest()
    with pytest.raises(ContractError, match=message) as info:
        ws.refine()
    assert "aiready refine payments --rebuild" in str(info.value)
    assert info.value.attrs()["column"] == "qty"
    assert by_id(ws, "qty") == {1: 2.0}  # nothing written
    assert ws.status()["datasets"][0]["batches"]["pending"]


def test_narrowing_is_refused_on_replay_too(make_workspace: WorkspaceFactory) -> None:
    capped = "name: qty, logicalType: number, logicalTypeOptions: {maximum: 2}"
    contract = QTY.replace("name: qty, logicalType: integer", capped)
    ws = make_workspace(contract=contract, files={"data/a.csv": "id,qty\n1,1.5\n2,3\n"})
    ws.ingest()
    ws.refine()
    forget_applied_contracts(ws)
    edit_contract(ws, capped, "name: qty, logicalType: integer")  # row 2 would be released
    with pytest.raises(ContractError, match="'qty' is double in silver .* int64.*--rebuild"):
        ws.refine(replay_quarantine=True)
    assert by_id(ws, "qty") == {1: 1.5}
    assert [r["_status"] for r in ws.quarantine("payments")] == ["open"]


def test_a_widening_that_would_round_an_existing_value_is_refused(
    make_workspace: WorkspaceFactory,
) -> None:
    big = 2**53 + 1  # int64 → double cannot hold it
    ws = make_workspace(contract=QTY, files={"data/a.csv": f"id,qty\n1,{big}\n"})
    ws.ingest()
    ws.refine()
    forget_applied_contracts(ws)  # else the diff refuses BIGINT → DOUBLE before evolve looks
    edit_contract(ws, "name: qty, logicalType: integer", "name: qty, logicalType: number")
    (ws.root / "data/b.csv").write_text("id,qty\n2,0.5\n")
    ws.ingest()
    with pytest.raises(ContractError, match=f"value {big} would not survive"):
        ws.refine()
    assert by_id(ws, "qty") == {1: big}


def test_removed_column_with_data_and_a_shorter_max_length_are_refused(
    make_workspace: WorkspaceFactory,
) -> None:
    ws = make_workspace(files={"data/a.csv": "id,amount,currency\n1,2,EUR\n"})
    ws.ingest()
    ws.refine()
    forget_applied_contracts(ws)
    text = contract_path(ws).read_text()
    currency = text[text.index("      - name: currency") :]
    contract_path(ws).write_text(text.replace(currency, ""))
    (ws.root / "data/b.csv").write_text("id,amount\n2,3\n")
    ws.ingest()
    with pytest.raises(ContractError, match="'currency' is string in silver .* removed"):
        ws.refine()
    contract_path(ws).write_text(
        text.replace(
            "logicalType: string\n",
            "logicalType: string\n        logicalTypeOptions: {maxLength: 2}\n",
        )
    )
    with pytest.raises(ContractError, match="maxLength 2: existing values are up to 3"):
        ws.refine()


def test_a_new_required_column_is_refused_when_silver_has_rows(
    make_workspace: WorkspaceFactory,
) -> None:
    ws = make_workspace(contract=QTY, files={"data/a.csv": "id,qty\n1,2\n"})
    ws.ingest()
    ws.refine()
    forget_applied_contracts(ws)
    path = contract_path(ws)
    path.write_text(path.read_text() + "      - {name: ref, logicalType: string, required: true}\n")
    (ws.root / "data/b.csv").write_text("id,qty,ref\n2,3,r\n")
    ws.ingest()
    with pytest.raises(ContractError, match="'ref' is absent in silver .* required"):
        ws.refine()


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (pa.int32(), pa.int64(), "widen"),
        (pa.int64(), pa.int32(), "narrow"),
        (pa.uint32(), pa.int64(), "widen"),
        (pa.int64(), pa.uint64(), "narrow"),
        (pa.int64(), pa.decimal128(20, 0), "widen"),
        (pa.float32(), pa.float64(), "widen"),
        (pa.float64(), pa.decimal128(38, 10), "narrow"),
        (pa.decimal128(10, 2), pa.decimal128(12, 2), "widen"),
        (pa.decimal128(10, 2), pa.decimal128(10, 4), "narrow"),
        (pa.decimal128(10, 2), pa.decimal128(12, 1), "narrow"),
        (pa.string(), pa.large_string(), "same"),
        (pa.string(), pa.int64(), "narrow"),
        (pa.int64(), pa.string(), "narrow"),
        (pa.date32(), pa.timestamp("us", tz="UTC"), "narrow"),
    ],
)
def test_classify(old: pa.DataType, new: pa.DataType, expected: str) -> None:
    assert classify(old, new) == expected
