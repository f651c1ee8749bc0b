"""A released strategic quarantine row replaces silver only if it is newer in bronze order.

Before the fix replay merged every passing row by key, so an old bad row released after the
contract was widened overwrote the newer good row that had reached silver since (key A below).
"""

from __future__ import annotations

import pyarrow as pa
from deltalake import DeltaTable

from aiready import Workspace
from aiready.layers.silver import NEWER
from aiready.storage import delta
from tests.conftest import WorkspaceFactory, silver_rows

CONTRACT = """\
schema:
  - name: customers
    properties:
      - {name: cid, logicalType: string, primaryKey: true}
      - name: segment
        logicalType: string
        required: true
        quality:
          - metric: invalidValues
            arguments: {validValues: [retail, smb]}
            mustBe: 0
"""


def _segments(ws: Workspace) -> dict[str, str]:
    return {str(r["cid"]): str(r["segment"]) for r in silver_rows(ws, "customers")}


def _status(ws: Workspace) -> dict[tuple[str, int], str]:
    rows = ws.quarantine("customers", status=None)
    return {(str(r["_source_file"]), int(r["_source_row"])): str(r["_status"]) for r in rows}


def _widen(ws: Workspace) -> None:
    path = ws.root / "contracts/customers.odcs.yaml"
    path.write_text(path.read_text().replace("[retail, smb]", "[retail, smb, bogus]"))


def test_replay_releases_only_rows_newer_than_silver(make_workspace: WorkspaceFactory) -> None:
    ws = make_workspace(
        contract=CONTRACT,
        kind="strategic",
        name="customers",
        # rows 1-6; C and D put a bad and a good row for one key in the same batch
        files={"data/a.csv": "cid,segment\nA,bogus\nB,retail\nC,bogus\nC,smb\nD,smb\nD,bogus\n"},
    )
    ws.ingest()
    ws.refine()
    (ws.root / "data/b.csv").write_text("cid,segment\nA,smb\nB,bogus\nE,bogus\n")
    ws.ingest()
    ws.refine()
    assert _segments(ws) == {"A": "smb", "B": "retail", "C": "smb", "D": "smb"}
    _widen(ws)
    [result] = ws.refine(replay_quarantine=True)
    assert result.replay is not None
    # A (older batch) and C (earlier row) lose to silver; B, D (later) and E (no row) win
    assert _segments(ws) == {"A": "smb", "B": "bogus", "C": "smb", "D": "bogus", "E": "bogus"}
    assert (result.replay.released, result.replay.superseded, result.replay.still_open) == (3, 2, 0)
    assert _status(ws) == {
        ("data/a.csv", 1): "superseded",
        ("data/a.csv", 3): "superseded",
        ("data/a.csv", 6): "released",
        ("data/b.csv", 2): "released",
        ("data/b.csv", 3): "released",
    }
    [again] = ws.refine(replay_quarantine=True)  # superseded rows are closed, not re-checked
    assert again.replay is not None and (again.replay.checked, again.replay.released) == (0, 0)
    assert _segments(ws)["A"] == "smb"


def test_the_merge_itself_refuses_to_replace_a_newer_row(make_workspace: WorkspaceFactory) -> None:
    """The guard is in the Delta MERGE too, not only in the split before it."""
    ws = make_workspace(
        contract=CONTRACT,
        kind="strategic",
        name="customers",
        files={"data/a.csv": "cid,segment\nA,smb\n"},
    )
    ws.ingest()
    ws.refine()
    path = ws.paths.table("silver", "customers")
    current = DeltaTable(str(path)).to_pyarrow_table()
    [row] = current.to_pylist()

    def merged(batch: str, source_row: int) -> str:
        stale = {**row, "segment": "retail", "_batch_id": batch, "_source_row": source_row}
        data = pa.Table.from_pylist([stale], schema=current.schema)
        delta.merge_by_key(path, data, ["cid"], update_if=NEWER)
        return _segments(ws)["A"]

    assert merged("0" + row["_batch_id"][1:], row["_source_row"] + 5) == "smb"  # older batch
    assert merged(row["_batch_id"], row["_source_row"]) == "smb"  # the same row
    assert merged(row["_batch_id"], row["_source_row"] + 1) == "retail"  # later in the batch
