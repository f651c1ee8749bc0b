"""What ODCS declares is what the gate does: pattern search, formats, precision, freshness,
complete reasons. Each test refines a real workspace (Delta, DuckDB) and reads silver and
quarantine back."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pyarrow as pa
import pytest
from deltalake import DeltaTable

import aiready
from aiready.errors import ContractError
from tests.conftest import WorkspaceFactory


def refine(ws: aiready.Workspace, dataset: str = "payments") -> aiready.RefineResult:
    ws.ingest()
    [result] = ws.refine(dataset)
    return result


def silver(ws: aiready.Workspace, dataset: str = "payments") -> pa.Table:
    return DeltaTable(str(ws.paths.table("silver", dataset))).to_pyarrow_table()


def reasons(ws: aiready.Workspace, dataset: str = "payments") -> dict[int, set[str]]:
    return {r["_source_row"]: {x["rule"] for x in r["_reasons"]} for r in ws.quarantine(dataset)}


def one_column(name: str, spec: str) -> str:
    """A contract with an integer key and one column ``name`` whose keys are ``spec`` lines."""
    keys = "".join(f"        {line.strip()}\n" for line in spec.splitlines())
    return (
        "schema:\n  - name: payments\n    properties:\n"
        "      - {name: id, logicalType: integer, primaryKey: true}\n"
        f"      - name: {name}\n{keys}"
    )


def test_a_pattern_matches_anywhere_unless_anchored(make_workspace: WorkspaceFactory) -> None:
    contract = """\
    schema:
      - name: payments
        properties:
          - {name: id, logicalType: integer, primaryKey: true}
          - {name: loose, logicalType: string, logicalTypeOptions: {pattern: 'B[0-9]'}}
          - {name: strict, logicalType: string, logicalTypeOptions: {pattern: '^B[0-9]$'}}
    """
    rows = "id,loose,strict\n1,xB1y,B1\n2,B1,xB1y\n3,b1,B1\n4,B1,B1\n"
    ws = make_workspace(contract=contract, files={"data/a.csv": rows})
    refine(ws)
    assert sorted(silver(ws).column("id").to_pylist()) == [1, 4]
    assert reasons(ws) == {2: {"strict.pattern"}, 3: {"loose.pattern"}}


@pytest.mark.parametrize(
    ("fmt", "good", "bad"),
    [
        (
            "email",
            ["a@example.com", "first.last+tag@sub.example.org"],
            ["a@b", "a b@c.de", "@x.io"],
        ),
        (
            "uuid",
            ["123e4567-e89b-12d3-a456-426614174000"],
            ["123e4567e89b12d3a456426614174000", "x123e4567-e89b-12d3-a456-426614174000"],
        ),
        ("ipv4", ["10.0.0.1", "255.255.255.255"], ["256.1.1.1", "1.2.3", "01.2.3.4x"]),
        ("uri", ["https://example.com/a?b=1", "urn:isbn:0451450523"], ["no scheme", "http://a b"]),
    ],
)
def test_string_formats_are_checked_per_value(
    make_workspace: WorkspaceFactory, fmt: str, good: list[str], bad: list[str]
) -> None:
    spec = f"        logicalType: string\n        logicalTypeOptions: {{format: {fmt}}}"
    values = good + bad
    csv = "id,v\n" + "".join(f'{i},"{v}"\n' for i, v in enumerate(values, start=1))
    ws = make_workspace(contract=one_column("v", spec), files={"data/a.csv": csv})
    refine(ws)
    assert sorted(silver(ws).column("v").to_pylist()) == sorted(good)
    failed = {n: r for n, r in reasons(ws).items()}
    assert failed == {len(good) + i: {"v.format"} for i in range(1, len(bad) + 1)}


def test_a_date_pattern_replaces_iso(make_workspace: WorkspaceFactory) -> None:
    spec = (
        "        logicalType: date\n"
        "        logicalTypeOptions: {format: dd/MM/yyyy, minimum: '2020-01-01'}"
    )
    csv = "id,day\n1,05/01/2024\n2,2024-01-05\n3,31/02/2024\n4,5/1/2024\n5,01/01/2019\n6,\n"
    ws = make_workspace(contract=one_column("day", spec), files={"data/a.csv": csv})
    refine(ws)
    rows = {r["id"]: r["day"] for r in silver(ws).to_pylist()}
    assert rows == {1: dt.date(2024, 1, 5), 6: None}
    assert reasons(ws) == {2: {"day.type"}, 3: {"day.type"}, 4: {"day.type"}, 5: {"day.range"}}
    [message] = [x["message"] for r in ws.quarantine("payments") for x in r["_reasons"]][:1]
    assert "dd/MM/yyyy" in message  # says which layout was expected


def test_a_timestamp_pattern_with_an_offset(make_workspace: WorkspaceFactory) -> None:
    spec = "        logicalType: timestamp\n        logicalTypeOptions: {format: 'd.M.yy H:mm XX'}"
    csv = "id,at\n1,5.1.24 9:30 +0200\n2,05.01.24 09:30 Z\n3,5.1.24 9:30\n4,5.1.24 9:30 +02\n"
    ws = make_workspace(contract=one_column("at", spec), files={"data/a.csv": csv})
    result = refine(ws)
    rows = {r["id"]: r["at"] for r in silver(ws).to_pylist()}
    assert rows == {
        1: dt.datetime(2024, 1, 5, 7, 30, tzinfo=dt.UTC),
        2: dt.datetime(2024, 1, 5, 9, 30, tzinfo=dt.UTC),
    }
    assert reasons(ws) == {3: {"at.type"}, 4: {"at.type"}}
    assert not any("time zone" in w for w in result.reports[0].warnings)  # the pattern has one


def test_a_time_of_day_and_an_integer_width(make_workspace: WorkspaceFactory) -> None:
    contract = """\
    schema:
      - name: payments
        properties:
          - {name: id, logicalType: integer, primaryKey: true}
          - {name: tm, logicalType: time, logicalTypeOptions: {format: 'HH:mm'}}
          - {name: small, logicalType: integer, logicalTypeOptions: {format: i8}}
    """
    csv = "id,tm,small\n1,09:30,-128\n2,25:00,1\n3,9:30,1\n4,23:59,128\n"
    ws = make_workspace(contract=contract, files={"data/a.csv": csv})
    refine(ws)
    assert silver(ws).column("id").to_pylist() == [1]
    assert reasons(ws) == {2: {"tm.format"}, 3: {"tm.format"}, 4: {"small.format"}}


@pytest.mark.parametrize("bad", ["yyyy-QQ", "dd MMM yyyy", "yyyy-MM", "HH:mm", "yyy-MM-dd"])
def test_an_unusable_date_pattern_is_a_contract_error(
    make_workspace: WorkspaceFactory, bad: str
) -> None:
    spec = f"        logicalType: date\n        logicalTypeOptions: {{format: '{bad}'}}"
    ws = make_workspace(contract=one_column("day", spec), files={"data/a.csv": "id,day\n1,x\n"})
    with pytest.raises(ContractError) as err:
        ws.contract("payments")
    assert err.value.attrs()["path"].endswith("logicalTypeOptions.format")


def test_precision_and_scale_in_custom_properties(make_workspace: WorkspaceFactory) -> None:
    spec = (
        "        logicalType: number\n        physicalType: DECIMAL\n"
        "        customProperties: [{property: precision, value: 6}, {property: scale, value: 2}]"
    )
    csv = "id,amt\n1,1.25\n2,1.239\n3,12345.6\n4,1234.5\n"
    ws = make_workspace(contract=one_column("amt", spec), files={"data/a.csv": csv})
    refine(ws)
    table = silver(ws)
    assert table.schema.field("amt").type == pa.decimal128(6, 2)
    assert {r["id"]: r["amt"] for r in table.to_pylist()} == {
        1: Decimal("1.25"),
        4: Decimal("1234.50"),
    }
    assert reasons(ws) == {2: {"amt.type"}, 3: {"amt.type"}}


def _sla(day: str) -> tuple[str, str]:
    contract = """\
    schema:
      - name: payments
        properties:
          - {name: id, logicalType: integer, primaryKey: true}
          - {name: day, logicalType: date}
    slaProperties:
      - {property: latency, value: 2, unit: d, element: payments.day}
    """
    return contract, f"id,day\n1,{day}\n2,\n"


def test_a_stale_batch_is_warned_at_refine_and_kept(make_workspace: WorkspaceFactory) -> None:
    contract, csv = _sla("2013-01-01")
    ws = make_workspace(contract=contract, files={"data/a.csv": csv})
    result = refine(ws)
    assert result.passed and silver(ws).num_rows == 2  # late is not wrong: nothing quarantined
    [report] = result.reports
    fresh = next(r for r in report.rules if r.rule == "day.freshness")
    assert (fresh.failed, fresh.code, fresh.category) == (1, "stale_data", "freshness")
    assert fresh.metric is not None and fresh.metric > 365 * 86400
    assert any(w.startswith("stale: newest day") for w in report.warnings)


def test_a_fresh_batch_passes_the_freshness_rule(make_workspace: WorkspaceFactory) -> None:
    contract, csv = _sla(dt.date.today().isoformat())
    ws = make_workspace(contract=contract, files={"data/a.csv": csv})
    [report] = refine(ws).reports
    fresh = next(r for r in report.rules if r.rule == "day.freshness")
    assert fresh.failed == 0 and not report.warnings


def test_an_sla_on_a_column_the_object_lacks_is_an_error(make_workspace: WorkspaceFactory) -> None:
    contract, csv = _sla("2013-01-01")
    ws = make_workspace(contract=contract.replace("payments.day", "payments.dya"), files={})
    with pytest.raises(ContractError, match="dya"):
        ws.contract("payments")


def test_reasons_name_the_duplicate_too(make_workspace: WorkspaceFactory) -> None:
    """A quarantined row that shares its key names duplicate_key among its reasons; the first
    copy that passes every other rule goes to silver, even when an earlier copy was broken."""
    csv = (
        "id,amount,currency\n"
        "1,-5,EUR\n"  # broken first copy of 1
        "1,5,EUR\n"  # first passing copy: silver
        "1,6,EUR\n"  # later copy: duplicate
        "2,-1,EUR\n"  # broken, key unique: no duplicate reason
        "3,-1,EUR\n"
        "3,-2,EUR\n"  # two broken copies: both name the duplicate
    )
    ws = make_workspace(files={"data/a.csv": csv})
    refine(ws)
    assert {r["id"]: r["amount"] for r in silver(ws).to_pylist()} == {1: Decimal("5.00")}
    codes = {
        r["_source_row"]: {x["code"] for x in r["_reasons"]} for r in ws.quarantine("payments")
    }
    assert codes == {
        1: {"out_of_range", "duplicate_key"},
        3: {"duplicate_key"},
        4: {"out_of_range"},
        5: {"out_of_range", "duplicate_key"},
        6: {"out_of_range", "duplicate_key"},
    }


def good_then_bad(
    make_workspace: WorkspaceFactory, spec: str, good: list[str], bad: list[str]
) -> aiready.Workspace:
    """Refine column ``at`` (``spec``) holding ``good`` then ``bad`` values: the good reach
    silver, each bad one is quarantined for its type alone."""
    csv = "id,at\n" + "".join(f"{i},{v}\n" for i, v in enumerate(good + bad, start=1))
    ws = make_workspace(contract=one_column("at", spec), files={"data/a.csv": csv})
    refine(ws)
    assert silver(ws).num_rows == len(good)
    assert reasons(ws) == {len(good) + i: {"at.type"} for i in range(1, len(bad) + 1)}
    return ws


@pytest.mark.parametrize(
    ("spec", "good", "bad"),
    [
        (
            "logicalType: timestamp",
            ["2024-01-01T10:00:00+18:00", "2024-01-01T10:00:00-05", "2024-01-01T10:00:00+0530"],
            ["2024-01-01T10:00:00+24:00", "2024-01-01T10:00:00+18:30", "2024-01-01T10:00:00+00:60"],
        ),
        (
            "logicalType: timestamp\nlogicalTypeOptions: {format: \"yyyy-MM-dd'T'HH:mm:ssXXX\"}",
            ["2024-01-01T10:00:00+05:30", "2024-01-01T10:00:00Z"],
            ["2024-01-01T10:00:00+99:99", "2024-01-01T10:00:00+05:75", "2024-01-01T10:00:00+24:00"],
        ),
    ],
)
def test_offsets_beyond_18_hours_or_59_minutes_are_not_instants(
    make_workspace: WorkspaceFactory, spec: str, good: list[str], bad: list[str]
) -> None:
    """Found by an adversarial run: +99:99 was read as some other instant."""
    good_then_bad(make_workspace, spec, good, bad)


@pytest.mark.parametrize("pattern", ["[a-z", "(?<=a)b", "(a)\\1", "a{2,1}"])
def test_a_pattern_the_engine_cannot_run_is_named_with_its_path(
    make_workspace: WorkspaceFactory, pattern: str
) -> None:
    spec = f"logicalType: string\nlogicalTypeOptions: {{pattern: '{pattern}'}}"
    ws = make_workspace(contract=one_column("code", spec), files={"data/a.csv": "id,code\n1,x\n"})
    with pytest.raises(ContractError, match="not a regular expression aiready runs") as err:
        ws.contract("payments")
    assert err.value.attrs()["path"] == "schema[0].properties[1].logicalTypeOptions.pattern"


def test_trailing_zeros_are_exact_decimals(make_workspace: WorkspaceFactory) -> None:
    spec = "logicalType: number\nphysicalType: DECIMAL(5,2)"
    csv = "id,amt\n1,123.450\n2,1.0\n3,1000.00\n4,1.239\n"
    ws = make_workspace(contract=one_column("amt", spec), files={"data/a.csv": csv})
    refine(ws)
    assert {r["id"]: r["amt"] for r in silver(ws).to_pylist()} == {
        1: Decimal("123.45"),
        2: Decimal("1.00"),
    }
    messages = {r["_source_row"]: r["_reasons"][0]["message"] for r in ws.quarantine("payments")}
    assert set(messages) == {3, 4}
    assert "at most 3 digits before the point and 2 after it" in messages[3]


def test_freshness_is_measured_on_rows_that_pass(make_workspace: WorkspaceFactory) -> None:
    """A quarantined future-dated row must not make a stale batch look fresh."""
    contract = """\
    schema:
      - name: payments
        properties:
          - {name: id, logicalType: integer, primaryKey: true}
          - {name: day, logicalType: date}
          - {name: amount, logicalType: number, logicalTypeOptions: {minimum: 0}}
    slaProperties:
      - {property: latency, value: 1, unit: d, element: payments.day}
    """
    csv = "id,day,amount\n1,2013-01-01,5\n2,2099-01-01,-3\n"
    ws = make_workspace(contract=contract, files={"data/a.csv": csv})
    [report] = refine(ws).reports
    fresh = next(r for r in report.rules if r.rule == "day.freshness")
    assert fresh.failed == 1 and any(w.startswith("stale:") for w in report.warnings)


@pytest.mark.parametrize(
    ("spec", "good", "bad"),
    [
        (
            "logicalType: timestamp",
            ["2024-01-01T10:00:00.123456Z", "2024-01-01T10:00:00.123456000Z", "2024-01-01 10:00"],
            ["2024-01-01T10:00:00.123456789Z", "2024-01-01T10:00:00.0000001Z"],
        ),
        (
            "logicalType: timestamp\n"
            'logicalTypeOptions: {format: "yyyy-MM-dd HH:mm:ss.SSSSSSSSSXXX"}',
            ["2024-01-01 10:00:00.123456000Z"],
            ["2024-01-01 10:00:00.123456789Z", "2024-01-01 10:00:00.000000001+02:00"],
        ),
    ],
)
def test_timestamps_past_the_microsecond_are_refused_not_cut(
    make_workspace: WorkspaceFactory, spec: str, good: list[str], bad: list[str]
) -> None:
    """Found by an adversarial run: .123456789 reached silver as .123456, silently."""
    ws = good_then_bad(make_workspace, spec, good, bad)
    message = ws.quarantine("payments")[0]["_reasons"][0]["message"]
    assert "to the microsecond at most" in message


@pytest.mark.parametrize("physical", ["timestamp", "TIMESTAMP WITH TIME ZONE", "datetime"])
def test_a_v30_date_stored_as_a_timestamp_is_a_timestamp(
    make_workspace: WorkspaceFactory, physical: str
) -> None:
    """ODCS v3.0 had no timestamp logical type: `date` + a timestamp physicalType means one."""
    spec = f"logicalType: date\nphysicalType: {physical}"
    csv = "id,at\n1,2024-01-05T10:00:00Z\n2,2024-01-05\n3,2024-01-05T10:00:00.123+01:00\n4,noon\n"
    ws = make_workspace(contract=one_column("at", spec), files={"data/a.csv": csv})
    assert ws.contract("payments").column("at").sql_type == "TIMESTAMPTZ"
    refine(ws)
    assert silver(ws).num_rows == 3 and reasons(ws) == {4: {"at.type"}}
