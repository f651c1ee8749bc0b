"""OpenLineage events from real steps, validated against the spec's schema, and walked back."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from datetime import datetime
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from deltalake import DeltaTable

import aiready
from aiready import ConfigError, NotFoundError
from aiready.lineage.columns import column_lineage
from tests.layers.test_gold import CONFIG, build

SPEC = json.loads((Path(__file__).parent / "openlineage_spec.json").read_text())
FACET_DEF = {  # facet key → the spec $def its _schemaURL names
    "schema": "SchemaDatasetFacet",
    "version": "DatasetVersionDatasetFacet",
    "lifecycleStateChange": "LifecycleStateChangeDatasetFacet",
    "columnLineage": "ColumnLineageDatasetFacet",
    "dataQualityAssertions": "DataQualityAssertionsDatasetFacet",
    "dataQualityMetrics": "DataQualityMetricsInputDatasetFacet",
    "outputStatistics": "OutputStatisticsOutputDatasetFacet",
    "errorMessage": "ErrorMessageRunFacet",
    "processing_engine": "ProcessingEngineRunFacet",
    "jobType": "JobTypeJobFacet",
    "sql": "SQLJobFacet",
    "tags": "BaseFacet",  # added by openlineage-python itself (TagsJobFacet / TagsRunFacet)
}
MULTI = CONFIG.replace("source: data/payments.csv", "source: data/payments*.csv")


def _validator(definition: str) -> jsonschema.Draft202012Validator:
    schema = {**SPEC, "$ref": f"#/$defs/{definition}"}
    schema.pop("oneOf")
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())


def validate(event: dict[str, Any]) -> None:
    """The event against RunEvent, and every facet we know against its own facet schema."""
    _validator("RunEvent").validate(event)
    datetime.fromisoformat(event["eventTime"])
    facets = [
        *event["run"].get("facets", {}).items(),
        *event["job"].get("facets", {}).items(),
    ]
    for ds in event.get("inputs", []) + event.get("outputs", []):
        for group in ("facets", "inputFacets", "outputFacets"):
            facets.extend(ds.get(group, {}).items())
    for key, facet in facets:
        if key in FACET_DEF:
            assert FACET_DEF[key].replace("BaseFacet", "Tags") in facet["_schemaURL"], key
            _validator(FACET_DEF[key]).validate(facet)
        else:
            assert key.startswith("aiready"), f"unprefixed custom facet {key}"


def events(ws: aiready.Workspace) -> list[dict[str, Any]]:
    out = [json.loads(p.read_text()) for p in sorted(ws.paths.lineage.glob("*.json"))]
    return sorted(out, key=lambda e: e["eventTime"])


def files_of(node: dict[str, Any]) -> set[str]:
    """Source files reached by an upstream walk."""
    found = {Path(node["dataset"]).name} if node.get("namespace") == "file" else set()
    for run in node.get("produced_by", []):
        for child in run["inputs"]:
            found |= files_of(child)
    return found


def reached(node: dict[str, Any]) -> set[tuple[str, Any, Any]]:
    """(dataset, version, column) of every node a downstream walk reached."""
    found = {(node["dataset"], node.get("version"), node.get("column"))}
    for run in node.get("consumed_by", []):
        for child in run["outputs"]:
            found |= reached(child)
    return found


def test_every_step_emits_start_and_complete_valid_against_the_spec(tmp_path: Path) -> None:
    ws = build(tmp_path)
    assert ws.run().passed
    evs = events(ws)
    for event in evs:
        validate(event)
    by_run: dict[str, list[str]] = {}
    for event in evs:
        by_run.setdefault(event["run"]["runId"], []).append(event["eventType"])
    assert sorted(by_run.values()) == [["START", "COMPLETE"]] * len(by_run)
    jobs = {e["job"]["name"] for e in evs}
    assert jobs == {
        "ingest.payments",
        "ingest.customers",
        "refine.payments",
        "refine.customers",
        "publish.customer_value",
        "publish.top_customers",
    }
    assert {e["job"]["namespace"] for e in evs} == {"aiready://goldws"}

    done = {e["job"]["name"]: e for e in evs if e["eventType"] == "COMPLETE"}
    [src] = done["ingest.payments"]["inputs"]
    assert (src["namespace"], src["name"]) == ("file", str(tmp_path / "data/payments.csv"))
    sha = DeltaTable(str(ws.paths.table("bronze", "payments"))).to_pyarrow_table()
    assert src["facets"]["version"]["datasetVersion"] == sha.column("_source_sha256")[0].as_py()

    [bronze_in] = done["refine.payments"]["inputs"]
    assertions = {
        a["assertion"]: a for a in bronze_in["inputFacets"]["dataQualityAssertions"]["assertions"]
    }
    report = ws.refine("payments")  # nothing pending: no new assertions, just the same rules
    assert not report[0].reports
    assert {"amount.type", "id.primary_key", "cid.required"} <= set(assertions)
    assert all(a["success"] for a in assertions.values())
    silver_out = {o["name"]: o for o in done["refine.payments"]["outputs"]}
    assert set(silver_out) == {"silver.payments"}  # nothing quarantined: no quarantine write
    assert silver_out["silver.payments"]["outputFacets"]["outputStatistics"]["rowCount"] == 3

    publish = done["publish.customer_value"]
    assert publish["job"]["facets"]["sql"]["query"].startswith("SELECT c.cid AS customer_id")
    [gold_out] = publish["outputs"]
    assert gold_out["facets"]["lifecycleStateChange"]["lifecycleStateChange"] == "OVERWRITE"
    fields = gold_out["facets"]["columnLineage"]["fields"]
    pairs = {k: {(f["name"], f["field"]) for f in v["inputFields"]} for k, v in fields.items()}
    assert pairs == {
        "customer_id": {("silver.customers", "cid")},
        "segment": {("silver.customers", "segment")},
        "payments": {("silver.payments", "id")},
        "total": {("silver.payments", "amount")},
    }
    assert {i["name"]: i["facets"]["version"]["datasetVersion"] for i in publish["inputs"]} == {
        "silver.customers": "0",
        "silver.payments": "0",
    }


def test_failed_gate_is_a_fail_event_with_the_reason(tmp_path: Path) -> None:
    ws = build(
        tmp_path,
        sql={
            "customer_value": "SELECT cid AS customer_id, segment, 1 AS payments, "
            "-1 AS total FROM silver.customers\n"
        },
    )
    ws.ingest()
    ws.refine()
    [result] = ws.publish("customer_value")
    assert not result.published
    [fail] = [e for e in events(ws) if e["eventType"] == "FAIL"]
    validate(fail)
    assert fail["job"]["name"] == "publish.customer_value"
    assert "total" in fail["run"]["facets"]["errorMessage"]["message"]
    assert fail["outputs"] == []


def test_upstream_of_a_gold_version_names_exactly_its_source_files_and_batches(
    tmp_path: Path,
) -> None:
    ws = build(tmp_path, config=MULTI)
    assert ws.run().passed  # gold v0 from payments.csv only
    (tmp_path / "data/payments_2.csv").write_text("id,cid,amount\n4,C,7\n")
    assert ws.run().passed  # gold v1 also from payments_2.csv

    v0 = ws.lineage_of("customer_value", version=0)
    v1 = ws.lineage_of("customer_value", version=1)
    assert files_of(v0) == {"payments.csv", "customers.csv"}
    assert files_of(v1) == {"payments.csv", "payments_2.csv", "customers.csv"}

    total = ws.lineage_of("customer_value", version=1, column="total")
    assert files_of(total) == {"payments.csv", "payments_2.csv"}  # not customers.csv
    bronze = DeltaTable(str(ws.paths.table("bronze", "payments"))).to_pyarrow_table()
    by_file = {
        Path(f).name: b
        for f, b in zip(
            bronze.column("_source_file").to_pylist(),
            bronze.column("_batch_id").to_pylist(),
            strict=True,
        )
    }
    text = json.dumps(total)
    assert all(batch in text for batch in by_file.values())
    segment = ws.lineage_of("customer_value", version=1, column="segment")
    assert files_of(segment) == {"customers.csv"}

    with pytest.raises(NotFoundError, match="version 9"):
        ws.lineage_of("customer_value", version=9)
    with pytest.raises(NotFoundError, match="nope"):
        ws.lineage_of("nope")


def test_downstream_of_a_source_file_reaches_only_the_versions_it_fed(tmp_path: Path) -> None:
    ws = build(tmp_path, config=MULTI)
    ws.run()
    (tmp_path / "data/payments_2.csv").write_text("id,cid,amount\n4,C,7\n")
    ws.run()
    late = reached(ws.lineage_of("data/payments_2.csv"))
    assert ("gold.customer_value", 1, None) in late
    assert ("gold.top_customers", 1, None) in late
    assert not any(ds == "gold.customer_value" and v == 0 for ds, v, _ in late)
    early = reached(ws.lineage_of("data/payments.csv", column="amount"))
    assert ("gold.customer_value", 0, "total") in early
    assert ("gold.customer_value", 1, "total") in early
    assert ("gold.top_customers", 1, "total") in early
    assert not any(c == "segment" for _, _, c in early)


def test_column_lineage_through_ctes_subqueries_and_unions() -> None:
    schema = {
        "silver": {
            "a": {"id": "INT", "x": "INT", "y": "INT"},
            "b": {"id": "INT", "z": "INT"},
        }
    }
    sql = """
    WITH t AS (SELECT id, x + y AS s FROM silver.a)
    SELECT t.id, t.s * 2 AS s2, (SELECT max(z) FROM silver.b) AS mz FROM t
    UNION ALL
    SELECT id, z, 0 FROM silver.b
    """
    got = column_lineage(sql, ["id", "s2", "mz"], schema)
    assert set(got["id"]) == {("silver.a", "id"), ("silver.b", "id")}
    assert set(got["s2"]) == {("silver.a", "x"), ("silver.a", "y"), ("silver.b", "z")}
    assert set(got["mz"]) == {("silver.b", "z")}


class _Collector(BaseHTTPRequestHandler):
    received: list[tuple[str, str, dict[str, Any]]] = []

    def do_POST(self) -> None:  # noqa: N802
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.received.append((self.path, self.headers.get("Authorization", ""), body))
        self.send_response(201)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


def test_http_transport_posts_every_event_with_the_key_and_never_writes_the_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = HTTPServer(("127.0.0.1", 0), _Collector)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_port}"
        config = MULTI + f"lineage:\n  transport: http\n  url: {url}\n  api_key_env: OL_KEY\n"
        monkeypatch.setenv("OL_KEY", "s3cr3t-lineage-key")
        ws = build(tmp_path, config=config)
        ws.ingest("payments")
    finally:
        server.shutdown()
        server.server_close()
    on_disk = events(ws)
    assert len(_Collector.received) == len(on_disk) == 2
    assert {p for p, _, _ in _Collector.received} == {"/api/v1/lineage"}
    assert {a for _, a, _ in _Collector.received} == {"Bearer s3cr3t-lineage-key"}
    assert [b["eventType"] for _, _, b in _Collector.received] == ["START", "COMPLETE"]
    for path in ws.root.joinpath(".aiready").rglob("*"):
        if path.is_file():
            assert b"s3cr3t-lineage-key" not in path.read_bytes(), path


def test_unreachable_http_endpoint_does_not_fail_the_step(tmp_path: Path) -> None:
    config = MULTI + "lineage:\n  transport: http\n  url: http://127.0.0.1:9\n"
    ws = build(tmp_path, config=config)
    [result] = ws.ingest("payments")
    assert not result.errors and result.rows == 3
    assert len(events(ws)) == 2  # the file transport still has them


@pytest.mark.parametrize(
    ("block", "key"),
    [
        ("lineage: [file]\n", "lineage"),
        ("lineage:\n  transport: kafka\n", "lineage.transport"),
        ("lineage:\n  transport: http\n", "lineage.url"),
        ("lineage:\n  tranport: file\n", "lineage"),
    ],
)
def test_bad_lineage_config_names_the_key(tmp_path: Path, block: str, key: str) -> None:
    with pytest.raises(ConfigError) as err:
        build(tmp_path, config=CONFIG + block)
    assert err.value.attrs()["key"] == key


def test_transport_none_writes_no_events(tmp_path: Path) -> None:
    ws = build(tmp_path, config=CONFIG + "lineage:\n  transport: none\n")
    assert ws.run().passed
    assert events(ws) == []


def test_cli_lineage_json_and_tree(tmp_path: Path) -> None:
    ws = build(tmp_path)
    ws.run()
    cmd = [sys.executable, "-m", "aiready", "lineage", "-w", str(ws.root)]
    out = subprocess.run(
        [*cmd, "customer_value", "--column", "total", "--json"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert files_of(json.loads(out.stdout)) == {"payments.csv"}
    tree = subprocess.run(
        [*cmd, "silver.payments", "--downstream"], capture_output=True, text=True, check=True
    )
    assert "gold.customer_value" in tree.stdout and "publish.customer_value" in tree.stdout
    bad = subprocess.run([*cmd, "customer_value", "--version", "5"], capture_output=True, text=True)
    assert bad.returncode != 0 and "version 5" in bad.stderr
