"""Silver: exact types, every rule, actions, batch limits, strategic merge, review loop."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

import pytest
from deltalake import DeltaTable

from aiready import ContractError, GateFailedError, Workspace
from tests.conftest import WorkspaceFactory, silver_rows


def codes(ws: Workspace, dataset: str = "payments") -> dict[int, set[str]]:
    return {
        int(r["_source_row"]): {x["code"] for x in r["_reasons"]}
        for r in ws.quarantine(dataset, status=None)
    }


def refine_all(ws: Workspace) -> None:
    ws.ingest()
    ws.refine()


def test_each_reason_code_and_nothing_lost(make_workspace: WorkspaceFactory) -> None:
    csv = (
        "id,amount,currency\n"
        "1,10.50,EUR\n"  # ok
        "2,-1,EUR\n"  # out_of_range
        "3,1.239,EUR\n"  # type_mismatch: would round
        "x,5,EUR\n"  # type_mismatch on the key
        "5,,EUR\n"  # null_value
        "6,5,GBP\n"  # invalid_value
        "1,7,USD\n"  # duplicate_key of row 1
        "8,9,EUR,extra\n"  # ragged: malformed_record
        "9, 12 ,  USD \n"  # trimmed: ok
        "10,-3,JPY\n"  # two reasons
    )
    ws = make_workspace(files={"data/a.csv": csv})
    refine_all(ws)
    silver = {r["id"]: r for r in silver_rows(ws)}
    assert set(silver) == {1, 9}
    assert silver[9]["amount"] == Decimal("12.00") and silver[9]["currency"] == "USD"
    assert codes(ws) == {
        2: {"out_of_range"},
        3: {"type_mismatch"},
        4: {"type_mismatch"},
        5: {"null_value"},
        6: {"invalid_value"},
        7: {"duplicate_key"},
        8: {"malformed_record"},
        10: {"out_of_range", "invalid_value"},
    }
    [row10] = [r for r in ws.quarantine("payments") if r["_source_row"] == 10]
    assert row10["amount"] == "-3" and row10["_source_file"] == "data/a.csv"
    assert {x["rule"] for x in row10["_reasons"]} == {"amount.range", "currency.invalidValues"}
    [report] = ws.refine()  # nothing pending now
    assert report.reports == []


def test_exact_casts_for_every_type(make_workspace: WorkspaceFactory) -> None:
    contract = """\
    schema:
      - name: payments
        properties:
          - {name: i, logicalType: integer}
          - {name: f, logicalType: number}
          - {name: b, logicalType: boolean}
          - {name: d, logicalType: date}
          - {name: t, logicalType: timestamp}
    """
    csv = (
        "i,f,b,d,t\n"
        "1,1.5,true,2024-02-29,2024-01-01T10:00:00+02:00\n"
        "1.5,1e3,0,2024-01-01,2024-01-01\n"
        "0x10,abc,yes,2023-02-29,2024-01-01 25:00\n"
        "1_000,1e400,TRUE,2024-1-1,yesterday\n"
    )
    ws = make_workspace(contract=contract, files={"data/a.csv": csv})
    refine_all(ws)
    [ok] = silver_rows(ws)
    assert (ok["i"], ok["f"], ok["b"], str(ok["d"])) == (1, 1.5, True, "2024-02-29")
    assert ok["t"].isoformat() == "2024-01-01T08:00:00+00:00"
    bad = {
        int(r["_source_row"]): {x["rule"] for x in r["_reasons"]} for r in ws.quarantine("payments")
    }
    assert bad[2] == {"i.type"}
    assert bad[3] == {"i.type", "f.type", "b.type", "d.type", "t.type"}
    assert bad[4] == {"i.type", "f.type", "d.type", "t.type"}


def test_actions_warn_drop_and_fail(make_workspace: WorkspaceFactory) -> None:
    contract = """\
    schema:
      - name: payments
        properties:
          - name: id
            logicalType: integer
            required: true
            customProperties: [{property: onFail, value: drop}]
          - name: note
            logicalType: string
            quality:
              - metric: invalidValues
                arguments: {pattern: '[a-z]+'}
                mustBe: 0
                severity: warning
    """
    ws = make_workspace(contract=contract, files={"data/a.csv": "id,note\n1,ok\n,ok\n3,BAD\n"})
    refine_all(ws)
    [result] = ws.refine()
    assert {r["id"] for r in silver_rows(ws)} == {1, 3}
    [dropped] = ws.quarantine("payments")
    assert dropped["_action"] == "drop" and dropped["_source_row"] == 2
    failing = contract.replace(
        "severity: warning", "customProperties: [{property: onFail, value: fail}]"
    )
    ws2 = make_workspace(
        contract=failing,
        files={"data/a.csv": "id,note\n1,ok\n3,BAD\n"},
        root=ws.root.parent / "ws2",
    )
    ws2.ingest()
    [result] = ws2.refine()
    assert not result.passed and "onFail: fail" in result.reports[0].failures[0]
    assert silver_rows(ws2) == [] and ws2.quarantine("payments") == []
    with pytest.raises(GateFailedError):
        result.raise_on_failure()


def test_warned_rows_are_counted(make_workspace: WorkspaceFactory) -> None:
    contract = """\
    schema:
      - name: payments
        properties:
          - name: note
            logicalType: string
            quality:
              - metric: invalidValues
                arguments: {validValues: [a]}
                mustBe: 0
                severity: warning
    """
    ws = make_workspace(contract=contract, files={"data/a.csv": "note\na\nb\nb\n"})
    ws.ingest()
    [result] = ws.refine()
    assert result.totals()["rows_warned"] == 2 and result.totals()["rows_out"] == 3


def test_circuit_breaker_fails_batch_which_stays_pending(make_workspace: WorkspaceFactory) -> None:
    contract = """\
    schema:
      - name: payments
        properties:
          - name: n
            logicalType: string
          - name: id
            logicalType: integer
            quality:
              - metric: nullValues
                mustBeLessThan: 20
                unit: percent
    """
    rows = "id,n\n1,a\n,b\n3,c\n,d\n5,e\n"  # 40 % nulls
    ws = make_workspace(contract=contract, files={"data/a.csv": rows})
    ws.ingest()
    [result] = ws.refine()
    assert not result.passed and result.pending
    assert "breaks the batch limit mustBeLessThan 20 %" in result.reports[0].failures[0]
    assert silver_rows(ws) == [] and ws.quarantine("payments") == []
    assert ws.status()["datasets"][0]["batches"]["pending"] == result.pending
    # the owner loosens the limit: the pending batch is refined, the null rows quarantined
    path = ws.root / "contracts/payments.odcs.yaml"
    path.write_text(path.read_text().replace("mustBeLessThan: 20", "mustBeLessThan: 50"))
    [result] = ws.refine()
    assert result.passed and len(silver_rows(ws)) == 3 and len(ws.quarantine("payments")) == 2


def test_sql_row_rule_and_dataset_rules(make_workspace: WorkspaceFactory) -> None:
    contract = """\
    schema:
      - name: payments
        properties:
          - {name: id, logicalType: integer}
          - {name: amount, logicalType: number}
        quality:
          - type: sql
            name: big_needs_id
            query: SELECT COUNT(*) FROM {object} WHERE amount > 100 AND id IS NULL
            mustBe: 0
          - type: sql
            name: avg_amount
            query: SELECT AVG(amount) FROM {object}
            mustBeLessThan: 1000
          - metric: rowCount
            mustBeGreaterThan: 2
    """
    ws = make_workspace(contract=contract, files={"data/a.csv": "id,amount\n1,500\n,500\n3,1\n"})
    ws.ingest()
    [result] = ws.refine()
    assert result.passed
    assert codes(ws) == {2: {"sql_rule"}}
    by_rule = {r.rule: r for r in result.reports[0].rules}
    assert by_rule["avg_amount"].metric == pytest.approx(1001 / 3)
    (ws.root / "data/b.csv").write_text("id,amount\n4,5000\n5,5000\n6,5000\n")
    ws.ingest()
    [result] = ws.refine()
    assert not result.passed and "avg_amount" in result.reports[0].failures[0]


def test_duplicates_against_silver_and_first_passing_wins(make_workspace: WorkspaceFactory) -> None:
    ws = make_workspace(files={"data/a.csv": "id,amount,currency\n1,1,EUR\n2,2,EUR\n"})
    refine_all(ws)
    (ws.root / "data/b.csv").write_text("id,amount,currency\n2,9,EUR\n3,-1,EUR\n3,4,EUR\n")
    refine_all(ws)
    assert sorted(r["id"] for r in silver_rows(ws)) == [1, 2, 3]
    assert {r["id"]: r["amount"] for r in silver_rows(ws)}[3] == Decimal("4.00")
    q = {
        (r["_source_file"], r["_source_row"]): {x["code"] for x in r["_reasons"]}
        for r in ws.quarantine("payments")
    }
    # row 2 fails its range and shares key 3 with row 3: both reasons; row 3 (the first copy
    # that passes) is the one in silver
    assert q == {
        ("data/b.csv", 1): {"duplicate_key"},
        ("data/b.csv", 2): {"out_of_range", "duplicate_key"},
    }


STRATEGIC = """\
schema:
  - name: customers
    properties:
      - {name: cid, logicalType: string, primaryKey: true}
      - {name: segment, logicalType: string, required: true}
"""


def test_strategic_merges_by_key_and_quarantines_conflicts(
    make_workspace: WorkspaceFactory,
) -> None:
    ws = make_workspace(
        contract=STRATEGIC,
        kind="strategic",
        name="customers",
        files={"data/a.csv": "cid,segment\nA,retail\nB,smb\nB,smb\nC,x\nC,y\n"},
    )
    refine_all(ws)
    assert {r["cid"]: r["segment"] for r in silver_rows(ws, "customers")} == {
        "A": "retail",
        "B": "smb",
    }
    assert codes(ws, "customers") == {
        3: {"duplicate_key"},
        4: {"conflicting_duplicate"},
        5: {"conflicting_duplicate"},
    }
    (ws.root / "data/b.csv").write_text("cid,segment\nA,enterprise\nD,smb\n")
    refine_all(ws)
    current = {r["cid"]: r["segment"] for r in silver_rows(ws, "customers")}
    assert current == {"A": "enterprise", "B": "smb", "D": "smb"}
    table = DeltaTable(str(ws.paths.table("silver", "customers")))
    earlier = {
        r["cid"]: r["segment"]
        for r in DeltaTable(str(table.table_uri), version=0).to_pyarrow_table().to_pylist()
    }
    assert earlier["A"] == "retail"  # history keeps the previous row


def test_strategic_needs_key_and_owner(make_workspace: WorkspaceFactory) -> None:
    no_key = STRATEGIC.replace(", primaryKey: true", "")
    ws = make_workspace(
        contract=no_key,
        kind="strategic",
        name="customers",
        files={"data/a.csv": "cid,segment\nA,retail\n"},
    )
    ws.ingest()
    with pytest.raises(ContractError, match="primaryKey"):
        ws.refine()
    path = ws.root / "contracts/customers.odcs.yaml"
    path.write_text(path.read_text().replace("role: owner", "role: steward") + "")
    path.write_text(
        path.read_text().replace(
            "{name: cid, logicalType: string}", "{name: cid, logicalType: string, primaryKey: true}"
        )
    )
    with pytest.raises(ContractError, match="owner"):
        ws.refine()


def test_replay_releases_rows_that_now_pass_and_reject_closes_the_rest(
    make_workspace: WorkspaceFactory,
) -> None:
    ws = make_workspace(
        files={"data/a.csv": "id,amount,currency\n1,1,EUR\n2,2,CHF\n3,3,JPY\n4,4,EUR,x\n"}
    )
    refine_all(ws)
    assert sorted(codes(ws)) == [2, 3, 4]
    path = ws.root / "contracts/payments.odcs.yaml"
    path.write_text(path.read_text().replace("[EUR, USD]", "[EUR, USD, CHF]"))
    [result] = ws.refine(replay_quarantine=True)
    assert result.replay is not None
    assert (
        result.replay.checked,
        result.replay.released,
        result.replay.still_open,
        result.replay.not_replayable,
    ) == (2, 1, 1, 1)
    assert sorted(r["id"] for r in silver_rows(ws)) == [1, 2]
    status = {r["_source_row"]: r["_status"] for r in ws.quarantine("payments", status=None)}
    assert status == {2: "released", 3: "open", 4: "open"}
    [again] = ws.refine(replay_quarantine=True)  # idempotent: nothing more released
    assert again.replay is not None and again.replay.released == 0
    assert sorted(r["id"] for r in silver_rows(ws)) == [1, 2]
    assert ws.reject("payments", by="alice", reason="malformed_record") == 1
    assert ws.reject("payments", by="alice") == 1
    rejected = [r for r in ws.quarantine("payments", status="rejected")]
    assert {r["_reviewed_by"] for r in rejected} == {"alice"} and len(rejected) == 2


def test_missing_required_column_fails_batch_and_extra_column_is_reported(
    make_workspace: WorkspaceFactory,
) -> None:
    ws = make_workspace(files={"data/a.csv": "id,currency,channel\n1,EUR,web\n"})
    ws.ingest()
    [result] = ws.refine()
    report = result.reports[0]
    assert not result.passed and "missing_column" in report.failures[0]
    assert "'amount'" in report.failures[0] and "data/a.csv" in report.failures[0]
    assert report.unknown_columns == ["channel"]


def test_optional_missing_column_is_null_with_a_warning(make_workspace: WorkspaceFactory) -> None:
    ws = make_workspace(files={"data/a.csv": "id,amount\n1,5\n"})
    ws.ingest()
    [result] = ws.refine()
    assert result.passed and "currency" in result.reports[0].warnings[0]
    assert silver_rows(ws)[0]["currency"] is None


def test_unquoted_no_in_valid_values(make_workspace: WorkspaceFactory) -> None:
    contract = """\
    schema:
      - name: payments
        properties:
          - name: answer
            logicalType: string
            quality:
              - metric: invalidValues
                arguments:
                  validValues: [YES, NO]
                mustBe: 0
    """
    ws = make_workspace(contract=contract, files={"data/a.csv": "answer\nYES\nNO\nFalse\n"})
    refine_all(ws)
    assert [r["answer"] for r in silver_rows(ws)] == ["YES", "NO"]


def test_jsonl_source_end_to_end(make_workspace: WorkspaceFactory) -> None:
    ws = make_workspace(
        source="data/*.jsonl",
        files={
            "data/a.jsonl": (
                '{"id": 1, "amount": 2.5, "currency": "EUR"}\n'
                '{"id": 2, "amount": "oops", "currency": "EUR"}\n'
                '{"id": 3, "amount": 1\n'
            )
        },
    )
    refine_all(ws)
    assert [r["id"] for r in silver_rows(ws)] == [1]
    assert codes(ws) == {2: {"type_mismatch"}, 3: {"malformed_record"}}


def test_counts_add_up_across_batches(make_workspace: WorkspaceFactory) -> None:
    ws = make_workspace(
        files={
            f"data/{i}.csv": "id,amount,currency\n"
            + "".join(f"{i * 10 + j},{j - 2},EUR\n" for j in range(6))
            for i in range(3)
        }
    )
    refine_all(ws)
    [result] = ws.refine()
    status = ws.status()["datasets"][0]
    rows = status["rows"]
    assert rows["bronze"] == 18 == rows["silver"] + rows["quarantine"]
    assert Counter(
        c for r in ws.quarantine("payments") for c in (x["code"] for x in r["_reasons"])
    ) == {"out_of_range": 6}
    assert result.reports == []


def test_one_megabyte_field_reaches_silver(make_workspace: WorkspaceFactory) -> None:
    contract = """\
    schema:
      - name: payments
        properties:
          - {name: id, logicalType: integer}
          - {name: body, logicalType: string}
    """
    big = "y" * 1_048_576
    ws = make_workspace(contract=contract, files={"data/a.csv": f'id,body\n1,"{big}"\n'})
    refine_all(ws)
    [row] = silver_rows(ws)
    assert row["body"] == big


def test_contract_retyping_a_silver_column_is_a_clear_error(
    make_workspace: WorkspaceFactory,
) -> None:
    ws = make_workspace(files={"data/a.csv": "id,amount,currency\n1,2,EUR\n"})
    refine_all(ws)
    path = ws.root / "contracts/payments.odcs.yaml"
    path.write_text(path.read_text().replace("DECIMAL(10,2)", "DECIMAL(10,4)"))  # 6 digits left
    (ws.root / "data/b.csv").write_text("id,amount,currency\n2,3,EUR\n")
    ws.ingest()
    message = r"DECIMAL\(10,2\) → DECIMAL\(10,4\) \(digits before the point 8 → 6\)\. Raise"
    with pytest.raises(ContractError, match=message):
        ws.refine()
    assert ws.status()["datasets"][0]["batches"]["pending"]  # nothing half-published
