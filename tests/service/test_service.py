"""The service as a client sees it: a real `aiready serve` on 127.0.0.1, real HTTP, real traces."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from deltalake import DeltaTable

import aiready
from aiready.service import keys
from aiready.service.app import FailureLimiter, create_app
from tests.retrieval.test_retrieval import make
from tests.serving import free_port, serving


def wait_healthy(url: str, proc: subprocess.Popen[bytes] | None = None) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise TimeoutError(url)


class Server:
    def __init__(self, ws: aiready.Workspace, url: str) -> None:
        self.ws, self.url = ws, url
        self.keys: dict[str, str] = {}

    def key(self, principal: str) -> str:
        if principal not in self.keys:
            out = subprocess.run(
                [sys.executable, "-m", "aiready", "keys", "create", "--principal", principal,
                 "--json", "-w", str(self.ws.root)],
                capture_output=True, text=True, check=True,
            )  # fmt: skip
            self.keys[principal] = json.loads(out.stdout)["key"]
        return self.keys[principal]

    def post(self, path: str, who: str, body: dict[str, Any]) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.key(who)}"}
        return httpx.post(f"{self.url}{path}", json=body, headers=headers, timeout=60)

    def get(self, path: str, who: str, **params: str) -> httpx.Response:
        headers = {"X-API-Key": self.key(who)}
        return httpx.get(f"{self.url}{path}", params=params, headers=headers, timeout=60)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    os.environ["AIREADY_MLFLOW__ENABLED"] = "false"
    ws = make(tmp_path_factory.mktemp("svc"))
    port = free_port()
    env = {**os.environ, "AIREADY_MLFLOW__ENABLED": "true", "MLFLOW_DISABLE_TELEMETRY": "true"}
    cmd = [sys.executable, "-m", "aiready", "serve", "-w", str(ws.root), "--port", str(port)]
    log = (ws.root / "serve.log").open("wb")
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=log)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, proc)
        yield Server(ws, url)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()


def traces(ws: aiready.Workspace, filter_string: str) -> list[Any]:
    """Traces in the workspace's store (a client of its own: no global MLflow state)."""
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=f"sqlite:///{ws.paths.mlflow_db}")
    experiment = client.get_experiment_by_name(ws.config.name)
    if experiment is None:
        return []
    return list(
        client.search_traces(locations=[experiment.experiment_id], filter_string=filter_string)
    )


def find_trace(ws: aiready.Workspace, trace_id: str, filter_string: str = "") -> Any:
    """The trace once the server's async exporter has persisted it (polled, bounded)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        found = [t for t in traces(ws, filter_string) if t.info.trace_id == trace_id]
        if found:
            return found[0]
        time.sleep(0.3)
    raise AssertionError(f"trace {trace_id} not found with {filter_string!r}")


def test_health_docs_and_no_key(server: Server) -> None:
    assert httpx.get(f"{server.url}/health").json() == {"status": "ok", "workspace": "kbws"}
    assert httpx.get(f"{server.url}/docs").status_code == 200
    paths = httpx.get(f"{server.url}/openapi.json").json()["paths"]
    assert {"/query", "/retrieve", "/feedback", "/decisions", "/outcomes"} <= set(paths)
    for headers in ({}, {"Authorization": "Bearer nope"}, {"X-API-Key": "ark_00_wrong"}):
        r = httpx.get(f"{server.url}/datasets", params={"purpose": "support"}, headers=headers)
        assert r.status_code == 401, headers
    forged = server.key("alice").rsplit("_", 1)[0] + "_forged"
    r = httpx.get(f"{server.url}/datasets", params={"purpose": "x"}, headers={"X-API-Key": forged})
    assert r.status_code == 401
    metrics = httpx.get(f"{server.url}/metrics").text
    assert "aiready_auth_failures_total 4" in metrics  # every 401 above is counted


def test_revoked_key_is_refused_at_once(server: Server) -> None:
    key, record = keys.create(server.ws.paths, "bob")
    headers = {"X-API-Key": key}
    assert (
        httpx.get(
            f"{server.url}/datasets", params={"purpose": "support"}, headers=headers
        ).status_code
        == 200
    )
    keys.revoke(server.ws.paths, record.id)
    assert (
        httpx.get(
            f"{server.url}/datasets", params={"purpose": "support"}, headers=headers
        ).status_code
        == 401
    )
    assert key not in (server.ws.paths.state / "keys.json").read_text()


def test_datasets_and_context_show_only_what_policy_allows(server: Server) -> None:
    alice = server.get("/datasets", "alice", purpose="support").json()["datasets"]
    assert [d["name"] for d in alice] == ["docs", "kb"]
    assert server.get("/datasets", "eve", purpose="support").json()["datasets"] == []
    assert server.get("/datasets", "alice", purpose="marketing").json()["datasets"] == []
    assert server.get("/datasets/kb/context", "alice", purpose="support").status_code == 200
    assert server.get("/datasets/kb/context", "eve", purpose="support").status_code == 403
    assert server.get("/datasets", "alice").status_code == 422  # purpose is required


def test_retrieve_is_governed_and_traced(server: Server) -> None:
    r = server.post("/retrieve", "alice", {"query": "refund", "purpose": "support", "k": 5})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["hits"] and {h["record"]["region"] for h in body["hits"]} == {"EU"}
    assert all(h["dataset"] == "kb" and h["version"] == 0 for h in body["hits"])
    assert body["hits"][0]["record"]["author_email"].count("***") == 1
    trace_id = body["trace_id"]
    assert trace_id
    trace = find_trace(server.ws, trace_id, "tag.`aiready.principal` = 'alice'")
    assert trace.info.tags["aiready.purpose"] == "support"
    assert trace.info.tags["aiready.decision"] == "allow"
    assert trace.info.tags["aiready.datasets"] == "kb@0"
    [span] = trace.data.spans
    assert span.outputs["ids"] == [f"kb@0:{h['key']}" for h in body["hits"]]
    assert span.attributes["latency_ms"] > 0

    denied = server.post(
        "/retrieve", "alice", {"query": "refund", "purpose": "marketing", "datasets": ["kb"]}
    )
    assert denied.status_code == 403 and "kb" in denied.json()["message"]
    nothing = server.post("/retrieve", "eve", {"query": "refund", "purpose": "support"})
    assert nothing.status_code == 200 and nothing.json()["hits"] == []


def test_query_is_masked_filtered_and_traced(server: Server) -> None:
    sql = "SELECT doc_id, region, author_email FROM gold.kb ORDER BY doc_id LIMIT 3"
    server.ws.root.joinpath("policies/access.cedar").read_text()
    r = server.post("/query", "sam", {"sql": sql, "purpose": "support"})
    assert r.status_code == 200, r.text
    assert r.json()["rows"][0]["author_email"].endswith("@example.com") and r.json()["trace_id"]
    refused = server.post("/query", "alice", {"sql": sql, "purpose": "support"})
    assert refused.status_code == 403  # alice may retrieve, not query
    writes = server.post("/query", "sam", {"sql": "DELETE FROM gold.kb", "purpose": "support"})
    assert writes.status_code == 400 and "read-only" in writes.json()["message"]


def test_feedback_is_stored_once_and_attached_to_the_trace(server: Server) -> None:
    answer = server.post("/retrieve", "alice", {"query": "invoice", "purpose": "support"}).json()
    body = {
        "kind": "rating",
        "purpose": "support",
        "score": 0.25,
        "comment": "half right",
        "trace_id": answer["trace_id"],
        "idempotency_key": "rating-1",
    }
    first = server.post("/feedback", "alice", body)
    again = server.post("/feedback", "alice", body)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"] and again.json()["created"] is False
    rows = DeltaTable(str(server.ws.paths.lake / "feedback/rating")).to_pyarrow_table().to_pylist()
    assert [r["idempotency_key"] for r in rows].count("rating-1") == 1
    trace = find_trace(server.ws, answer["trace_id"], "feedback.rating < 1")
    [assessment] = [a for a in trace.info.assessments if a.name == "rating"]
    assert assessment.value == 0.25 and assessment.source.source_id == "alice"

    decision = server.post(
        "/decisions",
        "alice",
        {"purpose": "support", "recommendation": "refund", "action": "overridden", "dataset": "kb"},
    )
    assert decision.status_code == 201
    outcome = server.post(
        "/outcomes",
        "alice",
        {
            "purpose": "support",
            "decision_id": decision.json()["id"],
            "result": "churned",
            "value": -120.0,
        },
    )
    assert outcome.status_code == 201


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "rating", "purpose": "support", "score": 5}, "score"),
        ({"kind": "rating", "score": 0.5}, "purpose"),
        (
            {"kind": "correction", "purpose": "s", "dataset": "kb", "record_key": "d1"},
            "proposed_value",
        ),
        ({"kind": "nonsense", "purpose": "s"}, "kind"),
        ({"kind": "rating", "purpose": "s", "score": 0.5, "admin": True}, "admin"),
        (
            {
                "kind": "correction",
                "purpose": "s",
                "dataset": "../etc",
                "record_key": "d1",
                "column": "x",
                "proposed_value": "y",
            },
            "dataset",
        ),
    ],
)
def test_bad_payloads_are_422_naming_the_field_and_store_nothing(
    server: Server, body: dict[str, Any], field: str
) -> None:
    before = (
        {p.name for p in (server.ws.paths.lake / "feedback").glob("*")}
        if (server.ws.paths.lake / "feedback").exists()
        else set()
    )
    r = server.post("/feedback", "alice", body)
    assert r.status_code == 422
    assert field in json.dumps(r.json()["detail"])
    after = (
        {p.name for p in (server.ws.paths.lake / "feedback").glob("*")}
        if (server.ws.paths.lake / "feedback").exists()
        else set()
    )
    assert "correction" not in after - before


def test_oversized_payload_is_refused(server: Server) -> None:
    body = {"query": "x" * (2 << 20), "purpose": "support"}
    assert server.post("/retrieve", "alice", body).status_code == 413
    chunked = iter([b'{"query": "', b"x" * (2 << 20), b'", "purpose": "support"}'])
    headers = {"X-API-Key": server.key("alice"), "Content-Type": "application/json"}
    assert httpx.post(f"{server.url}/retrieve", content=chunked, headers=headers).status_code == 413
    long_query = {"query": "x" * 3000, "purpose": "support"}
    assert server.post("/retrieve", "alice", long_query).status_code == 422


def test_two_clients_posting_500_each_store_exactly_1000_rows(server: Server) -> None:
    """Two clients post 500 each, 16 at a time, while two more retry every post: 1,000 rows."""
    key = server.key("alice")

    def post(http: httpx.Client, n: int, i: int) -> int:
        body = {"kind": "retrieval_failure", "purpose": "support", "query": f"q{n}-{i}"}
        return http.post(f"{server.url}/feedback", json={**body, "dataset": "kb"}).status_code

    def client(n: int) -> list[int]:
        with (
            httpx.Client(headers={"X-API-Key": key}, timeout=300) as http,
            ThreadPoolExecutor(max_workers=16) as pool,
        ):
            return list(pool.map(lambda i: post(http, n, i), range(500)))

    with ThreadPoolExecutor(max_workers=4) as clients:
        results = list(clients.map(client, [0, 1, 0, 1]))
    codes = [c for r in results for c in r]
    assert codes.count(201) == 1000 and codes.count(200) == 1000, set(codes)
    rows = DeltaTable(str(server.ws.paths.lake / "feedback/retrieval_failure")).to_pyarrow_table()
    assert rows.num_rows == 1000
    assert len(set(rows.column("idempotency_key").to_pylist())) == 1000


def test_failed_authentications_are_rate_limited(tmp_path: Path) -> None:
    ws = make(tmp_path, n=8)
    key, _ = keys.create(ws.paths, "alice")
    with serving(create_app(ws, FailureLimiter(limit=5, window=60))) as url:
        codes = [
            httpx.get(
                f"{url}/datasets", params={"purpose": "s"}, headers={"X-API-Key": f"ark_x_{i}"}
            ).status_code
            for i in range(8)
        ]
        assert codes == [401] * 5 + [429] * 3
        # even the right key waits out the window: brute force cannot continue
        right = httpx.get(f"{url}/datasets", params={"purpose": "s"}, headers={"X-API-Key": key})
        assert right.status_code == 429
