"""The README's annotated contract is a real one: it loads, compiles and refines data."""

from __future__ import annotations

import re
from pathlib import Path

import aiready
from aiready.contracts import compile_contract, load_contract

README = Path(__file__).parents[2] / "README.md"
PLANES = """apiVersion: v3.1.0
kind: DataContract
id: urn:acme:aviation:planes
name: planes
version: 1.0.0
status: active
team: {name: ops, members: [{username: ops-lead@example.com, role: owner}]}
schema:
  - name: planes
    properties:
      - {name: tailnum, logicalType: string, primaryKey: true}
"""


def readme_contract() -> str:
    text = README.read_text()
    start = text.index("A complete contract, annotated")
    block = re.search(r"```yaml\n(.*?)```", text[start:], re.S)
    assert block is not None
    return block.group(1)


def test_the_readme_contract_compiles_with_every_kind_of_rule(tmp_path: Path) -> None:
    path = tmp_path / "flights.odcs.yaml"
    path.write_text(readme_contract())
    kinds = {r.kind for r in compile_contract(load_contract(path), "flights").rules}
    assert kinds >= {
        "not_null",
        "unique",
        "pattern",
        "type",
        "sql_row",
        "missing_values",
        "relationship",
        "valid_values",
        "row_count",
    }


def test_the_readme_contract_refines_real_looking_rows(tmp_path: Path) -> None:
    for folder in ("contracts", "data/flights", "data/planes"):
        (tmp_path / folder).mkdir(parents=True)
    (tmp_path / "contracts/flights.odcs.yaml").write_text(readme_contract())
    (tmp_path / "contracts/planes.odcs.yaml").write_text(PLANES)
    (tmp_path / "aiready.yaml").write_text(
        "name: acme\ndatasets:\n"
        "  flights: {source: data/flights/*.csv, contract: contracts/flights.odcs.yaml,"
        ' null_values: ["NA"]}\n'
        "  planes: {kind: strategic, source: data/planes/*.csv,"
        " contract: contracts/planes.odcs.yaml}\n"
    )
    (tmp_path / "data/planes/p.csv").write_text("tailnum\nN1\nN2\n")
    (tmp_path / "data/flights/f.csv").write_text(
        "flight_id,carrier,dep_delay,tailnum,origin,passenger_email,time_hour\n"
        "F1,UA,2.0,N1,EWR,a@example.com,2013-01-01T10:00:00Z\n"
        "F2,AA,NA,UNKNOWN,JFK,,2013-01-01T11:00:00Z\n"
        "F3,B6,3000,N9,LGA,b@example.com,2013-01-01T12:00:00Z\n"
        "F4,B6,1,N2,XXX,,2013-01-01T12:00:00Z\n"
    )
    ws = aiready.Workspace.load(tmp_path)
    ws.ingest()
    results = {r.dataset: r for r in ws.refine()}
    [report] = results["flights"].reports
    failed = {r.rule: r.failed for r in report.rules if r.failed}
    assert failed == {
        "dep_delay_not_absurd": 1,  # 3000 minutes: quarantined
        "origin_is_ours": 1,
        "tailnum_unknown_token": 1,  # counted, kept as null
        "tailnum.references.planes": 1,  # N9 is not a plane we know: warned
        "dep_delay.null_values": 1,
        "time_hour.freshness": 1,  # 2013 data under a 1-day latency SLA: stale, warned
    }
    assert (report.rows_out, report.rows_quarantined) == (2, 2)
