"""Gold: models from SQL in dependency order, all-or-nothing publication through the contract."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest
from deltalake import DeltaTable

import aiready
from aiready import ConfigError, NotFoundError
from tests.conftest import CONTRACT_HEAD

CONFIG = """\
name: goldws
datasets:
  payments:
    kind: operational
    source: data/payments.csv
    contract: contracts/payments.odcs.yaml
  customers:
    kind: strategic
    source: data/customers.csv
    contract: contracts/customers.odcs.yaml
models:
  customer_value:
    sql: models/customer_value.sql
    contract: contracts/customer_value.odcs.yaml
    primary_key: customer_id
    strategic: true
  top_customers:
    sql: models/top_customers.sql
    contract: contracts/top_customers.odcs.yaml
"""
CONTRACTS = {
    "payments": """\
schema:
  - name: payments
    properties:
      - {name: id, logicalType: integer, primaryKey: true}
      - {name: cid, logicalType: string, required: true}
      - {name: amount, logicalType: number, physicalType: 'DECIMAL(10,2)'}
""",
    "customers": """\
schema:
  - name: customers
    properties:
      - {name: cid, logicalType: string, primaryKey: true}
      - {name: segment, logicalType: string, required: true}
""",
    "customer_value": """\
schema:
  - name: customer_value
    properties:
      - {name: customer_id, logicalType: string, primaryKey: true}
      - {name: segment, logicalType: string}
      - {name: payments, logicalType: integer}
      - name: total
        logicalType: number
        physicalType: DECIMAL(18,2)
        logicalTypeOptions: {minimum: 0}
""",
    "top_customers": """\
schema:
  - name: top_customers
    properties:
      - {name: customer_id, logicalType: string, required: true}
      - {name: total, logicalType: number, physicalType: 'DECIMAL(18,2)'}
""",
}
SQL = {
    "customer_value": """\
SELECT c.cid AS customer_id, c.segment, count(p.id) AS payments,
       coalesce(sum(p.amount), 0) AS total
FROM silver.customers AS c LEFT JOIN silver.payments AS p ON p.cid = c.cid
GROUP BY c.cid, c.segment
""",
    "top_customers": "SELECT customer_id, total FROM gold.customer_value WHERE total > 10\n",
}


def build(root: Path, sql: dict[str, str] | None = None, config: str = CONFIG) -> aiready.Workspace:
    for folder in ("contracts", "data", "models"):
        (root / folder).mkdir(parents=True, exist_ok=True)
    (root / "aiready.yaml").write_text(config)
    for name, body in CONTRACTS.items():
        (root / f"contracts/{name}.odcs.yaml").write_text(
            CONTRACT_HEAD.format(id=name) + textwrap.dedent(body)
        )
    for name, body in {**SQL, **(sql or {})}.items():
        (root / f"models/{name}.sql").write_text(body)
    (root / "data/payments.csv").write_text("id,cid,amount\n1,A,10\n2,A,5.5\n3,B,3\n")
    (root / "data/customers.csv").write_text("cid,segment\nA,retail\nB,smb\nC,smb\n")
    return aiready.Workspace.load(root)


def gold(ws: aiready.Workspace, model: str, version: int | None = None) -> list[dict[str, object]]:
    dt = DeltaTable(str(ws.paths.table("gold", model)), version=version)
    return sorted(dt.to_pyarrow_table().to_pylist(), key=lambda r: str(r["customer_id"]))


def test_run_publishes_models_in_dependency_order(tmp_path: Path) -> None:
    ws = build(tmp_path)
    assert ws.model_order() == ["customer_value", "top_customers"]
    result = ws.run()
    assert result.passed, result.asdict()
    [value, top] = result.publishes
    assert value.published and value.gold_version == 0 and value.rows == 3
    assert value.inputs == {"silver.customers": 0, "silver.payments": 0}
    assert top.inputs == {"gold.customer_value": 0}
    rows = gold(ws, "customer_value")
    assert [(r["customer_id"], r["payments"], str(r["total"])) for r in rows] == [
        ("A", 2, "15.50"),
        ("B", 1, "3.00"),
        ("C", 0, "0.00"),
    ]
    assert [r["customer_id"] for r in gold(ws, "top_customers")] == ["A"]


def test_failing_gate_keeps_previous_version(tmp_path: Path) -> None:
    ws = build(tmp_path)
    ws.run()
    (tmp_path / "data/payments2.csv").write_text("id,cid,amount\n4,B,-100\n")
    cfg = (tmp_path / "aiready.yaml").read_text().replace("data/payments.csv", "data/payments*.csv")
    (tmp_path / "aiready.yaml").write_text(cfg)
    ws = aiready.Workspace.load(tmp_path)
    ws.ingest()
    ws.refine()
    [result] = ws.publish("customer_value")
    assert not result.published and result.previous_version == 0
    assert "total.range" in result.reasons[0]
    assert DeltaTable(str(ws.paths.table("gold", "customer_value"))).version() == 0
    with pytest.raises(aiready.GateFailedError):
        result.raise_on_failure()


def test_merge_by_key_updates_and_deletes(tmp_path: Path) -> None:
    ws = build(tmp_path)
    ws.run()
    sql = (
        SQL["customer_value"].replace("FROM silver.customers AS c", "FROM silver.customers AS c")
        + ""
    )
    (tmp_path / "models/customer_value.sql").write_text(
        sql.replace("GROUP BY", "WHERE c.cid <> 'C' GROUP BY")
    )
    [result] = ws.publish("customer_value")
    assert result.published and result.gold_version == 1
    assert [r["customer_id"] for r in gold(ws, "customer_value")] == ["A", "B"]
    assert [r["customer_id"] for r in gold(ws, "customer_value", version=0)] == ["A", "B", "C"]


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        ("SELECT * FROM bronze.payments", "gold reads only silver and gold"),
        ("SELECT * FROM quarantine.payments", "gold reads only silver and gold"),
        ("SELECT * FROM silver.nope", "unknown table"),
        ("SELECT * FROM read_csv('/etc/passwd')", "models read only"),
        ("SELECT FROM WHERE (", "does not parse"),
        ("SELECT * FROM gold.top_customers", "cycle"),
    ],
)
def test_bad_model_sql_is_an_error_naming_the_model(tmp_path: Path, sql: str, message: str) -> None:
    ws = build(tmp_path, sql={"customer_value": sql})
    ws.ingest()
    ws.refine()
    with pytest.raises(ConfigError, match=message) as info:
        ws.publish()
    assert info.value.attrs()["model"] in ("customer_value", "top_customers")


def test_strategic_model_reads_operational_data_only_aggregated(tmp_path: Path) -> None:
    raw = (
        "SELECT p.cid AS customer_id, 'x' AS segment, 1 AS payments, p.amount AS total "
        "FROM silver.payments AS p"
    )
    ws = build(tmp_path, sql={"customer_value": raw})
    ws.ingest()
    ws.refine()
    with pytest.raises(ConfigError, match="operational silver.payments without aggregating"):
        ws.publish("customer_value")


def test_publish_before_refine_names_the_missing_table(tmp_path: Path) -> None:
    ws = build(tmp_path)
    with pytest.raises(NotFoundError, match="silver.customers does not exist yet"):
        ws.publish("customer_value")


def _with_sla(root: Path, seconds: float) -> None:
    """Add a last_paid_at column with a latency SLA to the contract, or change the SLA."""
    path = root / "contracts/customer_value.odcs.yaml"
    text = path.read_text()
    if "slaProperties" in text:
        text = re.sub(r"value: [0-9.]+\n    unit: s", f"value: {seconds}\n    unit: s", text)
    else:
        text = text.replace(
            "      - {name: payments, logicalType: integer}",
            "      - {name: payments, logicalType: integer}\n"
            "      - {name: last_paid_at, logicalType: timestamp}",
        ) + (
            f"slaProperties:\n  - property: latency\n    value: {seconds}\n    unit: s\n"
            f"    element: customer_value.last_paid_at\n"
        )
    path.write_text(text)


def test_publish_certifies_and_read_certified_time_travels(tmp_path: Path) -> None:
    ws = build(tmp_path)
    result = ws.run()
    [value, top] = result.publishes
    assert value.certified and top.certified, (value.certificate_reasons, top.certificate_reasons)
    assert ws.read_certified("customer_value").num_rows == 3
    # a new version whose contract leaves a PII column unclassified is published but not certified
    path = tmp_path / "contracts/customer_value.odcs.yaml"
    path.write_text(
        path.read_text().replace(
            "{name: segment, logicalType: string}",
            "{name: segment, logicalType: string, tags: [pii]}",
        )
    )
    (tmp_path / "models/customer_value.sql").write_text(
        SQL["customer_value"].replace("GROUP BY", "WHERE c.cid <> 'C' GROUP BY")
    )
    [again] = ws.publish("customer_value")
    assert again.published and again.gold_version == 1 and again.certified is False
    assert "PII columns without classification: segment" in again.certificate_reasons
    certified = aiready.read_certified("customer_value", str(tmp_path))
    assert certified.num_rows == 3  # version 0: never the uncertified newer one
    [top_again] = ws.publish("top_customers")
    assert top_again.certified is False
    assert "input gold.customer_value@v1 is not certified" in top_again.certificate_reasons


def test_sla_lapse_decertifies(tmp_path: Path) -> None:
    ws = build(
        tmp_path,
        sql={
            "customer_value": SQL["customer_value"].replace(
                "count(p.id) AS payments,", "count(p.id) AS payments, max(now()) AS last_paid_at,"
            )
        },
    )
    _with_sla(tmp_path, seconds=3600)
    ws.ingest()
    ws.refine()
    [published] = ws.publish("customer_value")
    assert published.certified, published.certificate_reasons
    [fresh] = ws.certify("customer_value")
    assert fresh.certified and fresh.freshness_lag_s is not None and fresh.freshness_lag_s < 60
    # the owner tightens the SLA (a limit must be above 0): the data is now too old
    _with_sla(tmp_path, seconds=0.001)
    [stale] = ws.certify("customer_value")
    assert not stale.certified
    assert any("contract changed" in r for r in stale.reasons)
    assert any(r.startswith("stale:") for r in stale.reasons)
    with pytest.raises(NotFoundError, match="no certified, fresh version"):
        ws.read_certified("customer_value")


def test_certificate_lists_inputs_down_to_source_files(tmp_path: Path) -> None:
    ws = build(tmp_path)
    ws.run()
    [cert] = ws.certify("customer_value")
    lineage = cert.inputs["silver.payments"]
    assert lineage["version"] == 0
    [batch] = lineage["batches"]
    assert batch["source_file"] == "data/payments.csv" and len(batch["sha256"]) == 64


def test_status_reports_models(tmp_path: Path) -> None:
    ws = build(tmp_path)
    ws.run()
    models = {m["model"]: m for m in ws.status()["models"]}
    value = models["customer_value"]
    assert (value["rows"], value["gold_version"], value["certified_version"]) == (3, 0, 0)
    assert value["certified"] and not value["stale"] and value["strategic"]
    assert value["owners"] == ["owner@example.com"]


def _retention(root: Path, seconds: int, pii_unclassified: bool = False) -> None:
    path = root / "contracts/customer_value.odcs.yaml"
    text = (
        path.read_text() + f"slaProperties:\n  - property: retention\n    value: {seconds}\n"
        f"    unit: s\n"
    )
    if pii_unclassified:
        text = text.replace(
            "{name: segment, logicalType: string}",
            "{name: segment, logicalType: string, tags: [pii]}",
        )
    path.write_text(text)


def _republish(ws: aiready.Workspace, root: Path, where: str) -> None:
    (root / "models/customer_value.sql").write_text(
        SQL["customer_value"].replace("GROUP BY", f"WHERE {where} GROUP BY")
    )
    ws.publish("customer_value")


def test_vacuum_removes_old_files_but_keeps_certified_versions(tmp_path: Path) -> None:
    uncertified = build(tmp_path / "a")
    _retention(tmp_path / "a", 0, pii_unclassified=True)
    uncertified.run()
    _republish(uncertified, tmp_path / "a", "c.cid <> 'C'")
    report = {r["table"]: r for r in uncertified.vacuum()}
    assert report[".aiready/lake/gold/customer_value"]["files_removed"] >= 1
    with pytest.raises(Exception):  # noqa: B017 - version 0's files are gone, as retention allows
        DeltaTable(
            str(uncertified.paths.table("gold", "customer_value")), version=0
        ).to_pyarrow_table()
    certified = build(tmp_path / "b")
    _retention(tmp_path / "b", 0)
    certified.run()
    _republish(certified, tmp_path / "b", "c.cid <> 'C'")
    report = {r["table"]: r for r in certified.vacuum()}
    assert report[".aiready/lake/gold/customer_value"]["protected_versions"] == [0, 1]
    assert len(gold(certified, "customer_value", version=0)) == 3  # time travel still works


HISTORIC = "TIMESTAMPTZ '2013-12-31 18:00:00+00'"


def test_historic_data_is_certified_against_its_declared_as_of_time(tmp_path: Path) -> None:
    """Data of 2013 is years old by design: without `as_of` it is stale; with it, fresh then."""
    sql = {
        "customer_value": SQL["customer_value"].replace(
            "count(p.id) AS payments,", f"count(p.id) AS payments, {HISTORIC} AS last_paid_at,"
        )
    }
    ws = build(tmp_path, sql=sql)
    _with_sla(tmp_path, seconds=86400)
    ws.ingest()
    ws.refine()
    [published] = ws.publish("customer_value")
    assert not published.certified
    stale = [r for r in published.certificate_reasons if r.startswith("stale:")]
    assert len(stale) == 1 and stale[0].endswith(" old, the SLA allows 1 d"), stale
    assert stale[0].startswith("stale: newest last_paid_at is 12 y "), stale
    config = tmp_path / "aiready.yaml"
    config.write_text(
        config.read_text().replace(
            "    strategic: true\n", "    strategic: true\n    as_of: 2013-12-31T23:59:59Z\n"
        )
    )
    ws = aiready.Workspace.load(tmp_path)
    [cert] = ws.certify("customer_value")
    assert cert.certified, cert.reasons
    assert cert.freshness_lag_s is not None and 5 * 3600 < cert.freshness_lag_s < 6 * 3600
    model = next(m for m in ws.status()["models"] if m["model"] == "customer_value")
    assert model["certified"] and not model["stale"]
    # the declared time is checked: a time after the SLA window is stale again
    config.write_text(config.read_text().replace("2013-12-31T23:59:59Z", "2014-01-03T00:00:00Z"))
    [late] = aiready.Workspace.load(tmp_path).certify("customer_value")
    assert not late.certified and any(r.startswith("stale:") for r in late.reasons)


@pytest.mark.parametrize("value", ["2013-12-31", "2013-12-31T23:59:59", "yesterday"])
def test_as_of_needs_a_time_with_a_zone(tmp_path: Path, value: str) -> None:
    build(tmp_path)
    config = tmp_path / "aiready.yaml"
    config.write_text(
        config.read_text().replace(
            "    strategic: true\n", f"    strategic: true\n    as_of: {value}\n"
        )
    )
    with pytest.raises(aiready.ConfigError, match="as_of must be an ISO 8601 time with a zone"):
        aiready.Workspace.load(tmp_path)
