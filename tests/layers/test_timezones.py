"""A timestamp without a zone is read as UTC, and the gate report says how many there were."""

from __future__ import annotations

from datetime import UTC, datetime

from aiready.storage import delta
from tests.conftest import WorkspaceFactory

CONTRACT = """\
schema:
  - name: events
    properties:
      - {name: id, logicalType: integer}
      - {name: at, logicalType: timestamp}
"""
ROWS = (
    "id,at\n1,2024-01-01 10:00:00\n2,2024-01-01T10:00:00+01:00\n3,2024-01-01T10:00:00Z\n"
    "4,2024-01-01T10:00\n5,\n6,not a time\n"
)


def test_zoneless_timestamps_are_utc_and_counted(make_workspace: WorkspaceFactory) -> None:
    ws = make_workspace(contract=CONTRACT, files={"data/e.csv": ROWS}, name="events")
    ws.ingest()
    [result] = ws.refine()
    [report] = result.reports
    warnings = [w for w in report.warnings if "no time zone" in w]
    assert warnings == [
        "2 values of at have no time zone (e.g. 2013-01-01 05:00): read as UTC; write the "
        "offset (Z, +01:00) in the source if they are local time"
    ]
    table = delta.read(ws.paths.table("silver", "events"))
    assert table is not None
    at = {r["id"]: r["at"] for r in table.to_pylist()}
    assert at[1] == at[3] == at[4] == datetime(2024, 1, 1, 10, tzinfo=UTC)
    assert at[2] == datetime(2024, 1, 1, 9, tzinfo=UTC)
    assert at[5] is None and 6 not in at  # empty is null; garbage is quarantined, not counted


def test_no_warning_when_every_value_has_a_zone(make_workspace: WorkspaceFactory) -> None:
    ws = make_workspace(
        contract=CONTRACT, files={"data/e.csv": "id,at\n1,2024-01-01T10:00:00Z\n"}, name="events"
    )
    ws.ingest()
    [result] = ws.refine()
    assert not [w for w in result.reports[0].warnings if "time zone" in w]
