"""A strategic batch retried after a newer one was merged must not replace the newer master data."""

from __future__ import annotations

import time

from aiready.storage import delta
from tests.conftest import WorkspaceFactory

STRICT = """\
schema:
  - name: customers
    properties:
      - {name: id, logicalType: integer, primaryKey: true}
      - name: name
        logicalType: string
        required: true
        quality:
          - metric: invalidValues
            arguments: {pattern: '^[A-Z][a-z]+$'}
            mustBe: 0
            customProperties: [{property: onFail, value: fail}]
"""


def names(ws: object) -> dict[int, str]:
    table = delta.read(ws.paths.table("silver", "customers"))  # type: ignore[attr-defined]
    assert table is not None
    return {r["id"]: r["name"] for r in table.to_pylist()}


def test_an_older_batch_retried_late_is_refused_and_a_rebuild_orders_it(
    make_workspace: WorkspaceFactory,
) -> None:
    ws = make_workspace(
        contract=STRICT,
        kind="strategic",
        name="customers",
        files={"data/1.csv": "id,name\n1,Ann\n2,bob\n"},  # `bob` fails the batch (onFail: fail)
    )
    ws.ingest()
    [first] = ws.refine()
    assert first.pending  # the old batch failed its gate
    time.sleep(0.01)
    (ws.root / "data/2.csv").write_text("id,name\n1,Anna\n2,Bob\n")  # newer master data
    ws.ingest()
    [second] = ws.refine()
    assert names(ws) == {1: "Anna", 2: "Bob"}
    assert second.pending == first.pending  # still failing: unchanged contract

    # the owner relaxes the rule; the old batch now passes its gate but is older than silver's
    contract = ws.root / "contracts/customers.odcs.yaml"
    contract.write_text(contract.read_text().replace("value: fail", "value: warn"))
    [retry] = ws.refine()
    assert retry.pending == first.pending
    [report] = retry.reports
    assert any("is older than batch" in f and "--rebuild" in f for f in report.failures)
    assert names(ws) == {1: "Anna", 2: "Bob"}  # the newer rows stay

    [rebuilt] = ws.refine("customers", rebuild=True)
    assert not rebuilt.pending
    assert names(ws) == {1: "Anna", 2: "Bob"}  # bronze order: the newer batch merged last
