"""The service's edges under attack: huge and chunked bodies, spoofed X-Forwarded-For, revoked keys
in console sessions, unaudited refusals, and memory an attacker can grow without bound.

Real servers on 127.0.0.1: `aiready serve` as a subprocess where the server's own memory or the
operator's defaults are the point, the app in a uvicorn thread (configured as `aiready serve`
configures it) where the test reads the audit log the server writes.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.requests import Request

import aiready
from aiready.policy import audit
from aiready.service import keys
from aiready.service.app import MAX_BODY, FailureLimiter, create_app
from aiready.service.console import PER_KEY, Sessions
from aiready.service.gate import client_of
from tests.retrieval.test_retrieval import make
from tests.service.test_service import wait_healthy
from tests.serving import free_port, serving

MiB = 1 << 20


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> aiready.Workspace:
    os.environ["AIREADY_MLFLOW__ENABLED"] = "false"
    return make(tmp_path_factory.mktemp("edges"), n=8)


@pytest.fixture(scope="module")
def served(ws: aiready.Workspace) -> Iterator[tuple[str, int]]:
    """`aiready serve` with no trusted proxy, in an environment that would trust every proxy."""
    port = free_port()
    env = {**os.environ, "AIREADY_MLFLOW__ENABLED": "false", "FORWARDED_ALLOW_IPS": "*"}
    env.pop("AIREADY_SERVICE__TRUSTED_PROXIES", None)
    cmd = [sys.executable, "-m", "aiready", "serve", "-w", str(ws.root), "--port", str(port)]
    log = (ws.root / "serve-edges.log").open("wb")
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=log)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, proc)
        yield url, proc.pid
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()


@pytest.fixture(scope="module")
def app_url(ws: aiready.Workspace) -> Iterator[str]:
    with serving(create_app(ws)) as url:
        yield url


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError(f"no VmRSS for {pid}")


class Chunks:
    """A body of ``total`` bytes sent chunked (no Content-Length), counting what was taken."""

    def __init__(self, total: int, chunk: int = 64 * 1024) -> None:
        self.total, self.chunk, self.sent = total, chunk, 0

    def __iter__(self) -> Iterator[bytes]:
        block = b"x" * self.chunk
        while self.sent < self.total:
            piece = block[: self.total - self.sent]
            self.sent += len(piece)
            yield piece


def metric(url: str, name: str) -> int:
    for line in httpx.get(f"{url}/metrics").text.splitlines():
        if line.startswith(f"aiready_{name}_total "):
            return int(line.split()[1])
    raise AssertionError(f"no metric {name}")


def audit_rows(ws: aiready.Workspace) -> list[dict[str, Any]]:
    table = audit.read(ws.audit_path, ws.paths.locks)
    return [] if table is None else sorted(table.to_pylist(), key=lambda r: r["seq"])


def test_chunked_bodies_are_413_while_streaming_and_server_memory_stays_flat(
    ws: aiready.Workspace, served: tuple[str, int]
) -> None:
    url, pid = served
    key, _ = keys.create(ws.paths, "sam")
    warm = {"sql": "SELECT doc_id FROM gold.kb LIMIT 1", "purpose": "support"}
    r = httpx.post(f"{url}/query", json=warm, headers={"X-API-Key": key}, timeout=60)
    assert r.status_code == 200, r.text  # the query path is loaded before memory is measured
    before = rss_mib(pid)
    for _ in range(3):
        body = Chunks(10 * MiB)
        r = httpx.post(f"{url}/query", content=body, headers={"X-API-Key": key}, timeout=120)
        assert r.status_code == 413, r.text
        assert r.request.headers["transfer-encoding"] == "chunked"
    flood = Chunks(300 * MiB)  # no key at all: nothing should be read past the limit
    r = httpx.post(f"{url}/query", content=flood, timeout=120)
    assert r.status_code == 413
    assert flood.sent < 64 * MiB, f"the client got to send {flood.sent / MiB:.0f} MiB"
    grown = rss_mib(pid) - before
    assert grown < 50, f"server RSS grew {grown:.0f} MiB for bodies it refused"
    assert metric(url, "body_too_large") >= 4
    assert metric(url, "auth_failures") == 0  # refused before any key was looked at


def test_declared_length_over_the_limit_is_refused_before_the_body_is_sent(
    served: tuple[str, int],
) -> None:
    url, _ = served
    port = int(url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(
            b"POST /query HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: 400000000\r\n\r\n"
        )
        head = s.recv(4096)  # not one body byte sent: the answer must come anyway
    assert head.startswith(b"HTTP/1.1 413"), head[:80]


@pytest.mark.parametrize("size", [MAX_BODY + 1, 2 * MAX_BODY])
def test_bodies_just_past_the_limit_are_413_chunked_or_not(app_url: str, size: int) -> None:
    payload = b'{"sql": "' + b"x" * size + b'", "purpose": "support"}'
    chunked = httpx.post(f"{app_url}/query", content=iter([payload[:1000], payload[1000:]]))
    plain = httpx.post(f"{app_url}/query", content=payload)
    assert (chunked.status_code, plain.status_code) == (413, 413)


def test_bodies_under_the_limit_pass_chunked_or_not(ws: aiready.Workspace, app_url: str) -> None:
    key, _ = keys.create(ws.paths, "sam")
    body = json.dumps({"sql": "SELECT doc_id FROM gold.kb LIMIT 2", "purpose": "support"})
    data = body.encode()
    headers = {"X-API-Key": key, "Content-Type": "application/json"}
    pieces = iter([data[i : i + 7] for i in range(0, len(data), 7)])
    chunked = httpx.post(f"{app_url}/query", content=pieces, headers=headers)
    assert chunked.status_code == 200, chunked.text
    assert len(chunked.json()["rows"]) == 2
    padded = data[:-1] + b" " * (MAX_BODY - len(data)) + b"}"  # exactly at the limit
    assert len(padded) == MAX_BODY
    assert httpx.post(f"{app_url}/query", content=padded, headers=headers).status_code == 200


def test_console_sign_in_form_is_limited_too(app_url: str) -> None:
    form = b"key=" + b"a" * (3 * MiB) + b"&purpose=support"
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    r = httpx.post(f"{app_url}/ui/login", content=iter([form]), headers=headers)
    assert r.status_code == 413


def test_spoofed_forwarded_for_does_not_escape_the_limiter(
    ws: aiready.Workspace, served: tuple[str, int]
) -> None:
    """Default `aiready serve`, even with FORWARDED_ALLOW_IPS=* in its environment."""
    url, _ = served
    codes = [
        httpx.get(f"{url}/datasets", params={"purpose": "s"},
                  headers={"X-API-Key": f"ark_x_{i}", "X-Forwarded-For": f"203.0.113.{i}"},
                  ).status_code
        for i in range(24)
    ]  # fmt: skip
    assert codes == [401] * 20 + [429] * 4
    key, _ = keys.create(ws.paths, "alice")
    spoofed = {"X-API-Key": key, "X-Forwarded-For": "198.51.100.7", "Forwarded": "for=1.2.3.4"}
    r = httpx.get(f"{url}/datasets", params={"purpose": "support"}, headers=spoofed)
    assert r.status_code == 429
    assert metric(url, "rate_limited") >= 5


def test_forwarded_for_counts_only_from_a_named_proxy(ws: aiready.Workspace) -> None:
    """The control: a named proxy's header is believed, an unnamed one's is not."""

    def codes(trusted: tuple[str, ...]) -> list[int]:
        app = create_app(ws, FailureLimiter(limit=3, window=60))
        with serving(app, trusted_proxies=trusted) as url:
            return [
                httpx.get(f"{url}/datasets", params={"purpose": "s"},
                          headers={"X-API-Key": "ark_x_y", "X-Forwarded-For": f"192.0.2.{i}"},
                          ).status_code
                for i in range(5)
            ]  # fmt: skip

    assert codes(("127.0.0.1",)) == [401] * 5  # each forwarded client has its own budget
    assert codes(("10.9.9.9",)) == [401] * 3 + [429] * 2  # we are not that proxy


@pytest.fixture
def clients() -> Iterator[list[httpx.Client]]:
    """Clients a test opens, closed after it."""
    opened: list[httpx.Client] = []
    yield opened
    for c in opened:
        c.close()


def signed_in(
    ws: aiready.Workspace, url: str, who: str, opened: list[httpx.Client]
) -> tuple[httpx.Client, keys.KeyRecord]:
    key, record = keys.create(ws.paths, who)
    client = httpx.Client(base_url=url, follow_redirects=False, timeout=60)
    opened.append(client)
    r = client.post("/ui/login", data={"key": key, "purpose": "support"})
    assert r.status_code == 303 and r.headers["location"] == "/ui", r.text
    assert client.get("/ui").status_code == 200
    return client, record


def revoke_with_cli(ws: aiready.Workspace, key_id: str) -> None:
    subprocess.run(
        [sys.executable, "-m", "aiready", "keys", "revoke", key_id, "-w", str(ws.root)],
        check=True, capture_output=True,
    )  # fmt: skip


def test_revoking_a_key_ends_its_console_sessions(
    ws: aiready.Workspace, app_url: str, clients: list[httpx.Client]
) -> None:
    first, record = signed_in(ws, app_url, "sam", clients)
    second = httpx.Client(base_url=app_url, follow_redirects=False, timeout=60)
    clients.append(second)
    second.cookies = first.cookies  # the same cookie replayed from elsewhere
    page = first.get("/ui/quarantine/docs")
    assert page.status_code == 200
    csrf = page.text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
    revoke_with_cli(ws, record.id)
    for client in (first, second):
        for r in (
            client.get("/ui"),
            client.get("/ui/datasets/kb"),
            client.post("/ui/quarantine/docs/replay", data={"csrf": csrf}),
        ):
            assert r.status_code == 303 and r.headers["location"] == "/ui/login", r.request.url
    denies = [
        r for r in audit_rows(ws)
        if r["principal"] == f"key:{record.id}" and r["action"] == "authenticate"
    ]  # fmt: skip
    assert denies and all(r["decision"] == "deny" for r in denies)
    assert "revoked" in denies[0]["reason"]


def test_console_decisions_are_audited_like_the_api(
    ws: aiready.Workspace, app_url: str, clients: list[httpx.Client]
) -> None:
    before = len(audit_rows(ws))
    alice, _ = signed_in(ws, app_url, "alice", clients)  # opens the catalog once
    assert alice.get("/ui/quarantine/docs").status_code == 403  # may retrieve, not read
    new = audit_rows(ws)[before:]
    mine = [r for r in new if r["principal"] == "alice" and r["purpose"] == "support"]
    seen = {(r["action"], r["resource"], r["decision"]) for r in mine}
    assert ("retrieve", "kb", "allow") in seen
    assert ("read", "docs", "deny") in seen
    catalog = {(r["action"], r["resource"]) for r in mine}
    every = {(a, n) for n in ("docs", "kb") for a in ("query", "retrieve", "read")}
    assert every <= catalog  # the catalog's own checks, not only the page's


def test_refused_keys_are_counted_and_audited_without_the_secret(
    ws: aiready.Workspace, app_url: str
) -> None:
    live, live_record = keys.create(ws.paths, "alice")
    dead, dead_record = keys.create(ws.paths, "alice")
    keys.revoke(ws.paths, dead_record.id)
    wrong = f"ark_{live_record.id}_{'A' * 43}"
    attempts = [
        ({}, "anonymous", "no API key"),
        ({"X-API-Key": "not-a-key"}, "anonymous", "malformed"),
        ({"X-API-Key": "ark_ffffffffffff_secret"}, "anonymous", "unknown"),
        ({"X-API-Key": wrong}, f"key:{live_record.id}", "wrong"),
        ({"Authorization": f"Bearer {dead}"}, f"key:{dead_record.id}", "revoked"),
    ]
    limiter = FailureLimiter(limit=100)
    with serving(create_app(ws, limiter)) as url:
        before = len(audit_rows(ws))
        for headers, _, _ in attempts:
            r = httpx.get(f"{url}/datasets/kb/context", params={"purpose": "s"}, headers=headers)
            assert r.status_code == 401
        login = httpx.post(f"{url}/ui/login", data={"key": wrong, "purpose": "support"})
        assert login.status_code == 401
        assert metric(url, "auth_failures") == len(attempts) + 1
    new = [r for r in audit_rows(ws)[before:] if r["action"] == "authenticate"]
    assert [(r["principal"], r["resource"]) for r in new] == [
        *[(who, "/datasets/{name}/context") for _, who, _ in attempts],
        (f"key:{live_record.id}", "/ui/login"),
    ]
    for row, (_, _, reason) in zip(new, attempts, strict=False):
        assert row["decision"] == "deny" and reason in row["reason"]
    stored = json.dumps(audit_rows(ws), default=str)
    journal = audit.journal_path(ws.audit_path)
    stored += journal.read_text() if journal.exists() else ""
    for secret in (live, dead, wrong):
        assert secret.split("_", 2)[2] not in stored


def test_one_key_signing_in_again_and_again_keeps_only_its_newest_sessions(
    ws: aiready.Workspace, app_url: str, clients: list[httpx.Client]
) -> None:
    other, _ = signed_in(ws, app_url, "alice", clients)
    key, _ = keys.create(ws.paths, "sam")
    cookies = []
    for _ in range(PER_KEY + 5):
        r = httpx.post(f"{app_url}/ui/login", data={"key": key, "purpose": "support"})
        cookies.append(r.cookies["aiready_session"])
    status = [
        httpx.get(f"{app_url}/ui", cookies={"aiready_session": c}).status_code for c in cookies
    ]
    assert status == [303] * 5 + [200] * PER_KEY
    assert other.get("/ui").status_code == 200  # another key's session is untouched


def test_limiter_memory_is_bounded_for_100k_clients() -> None:
    limiter = FailureLimiter(limit=3, window=60, clients=1000)
    for i in range(100_000):
        assert not limiter.blocked(f"10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}")
    assert len(limiter) == 0  # asking does not remember anyone
    for i in range(100_000):
        limiter.fail(f"client-{i}")
    assert len(limiter) == 1000
    for _ in range(1000):
        limiter.fail("persistent")  # one client's own history is bounded too
    assert limiter.blocked("persistent") and len(limiter) == 1000


def test_sessions_memory_is_bounded_for_100k_sign_ins() -> None:
    sessions = Sessions(size=1000)
    tokens = [sessions.open("p", "support", f"key{i}") for i in range(100_000)]
    assert len(sessions) == 1000
    assert sessions.get(tokens[0]) is None and sessions.get(tokens[-1]) is not None


@pytest.mark.parametrize(
    ("peer", "counted"),
    [
        ("2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64"),
        ("::ffff:198.51.100.9", "198.51.100.9"),
        ("198.51.100.9", "198.51.100.9"),
    ],
)
def test_ipv6_clients_are_limited_by_their_64(peer: str, counted: str) -> None:
    """Rotating through a /64's 2^64 addresses does not buy fresh attempts."""
    request = Request({"type": "http", "client": (peer, 1234), "headers": []})
    assert client_of(request) == counted


@pytest.mark.parametrize("depth", [50, 5_000])
def test_deeply_nested_sql_is_a_client_error(
    ws: aiready.Workspace, app_url: str, depth: int
) -> None:
    key, _ = keys.create(ws.paths, "sam")
    sql = "SELECT " + "(" * depth + "1" + ")" * depth + " AS x FROM gold.kb"
    r = httpx.post(f"{app_url}/query", json={"sql": sql, "purpose": "support"},
                   headers={"X-API-Key": key}, timeout=120)  # fmt: skip
    # 50 levels may parse or not, depending on the stack the request thread has left: either an
    # answer or a client error, never a 500; 5,000 levels is always refused
    allowed = (200, 400, 422) if depth < 1_000 else (400, 422)
    assert r.status_code in allowed, r.text
    if r.status_code == 200:
        assert r.json()["rows"][0] == {"x": 1}
    assert httpx.get(f"{app_url}/health").status_code == 200


@pytest.mark.parametrize("per_key", [1, 3])
def test_sessions_per_key_keep_the_newest(per_key: int) -> None:
    sessions = Sessions(size=100, per_key=per_key)
    other = sessions.open("q", "support", "other")
    tokens = [sessions.open("p", "support", "k") for _ in range(per_key + 4)]
    assert [sessions.get(t) is not None for t in tokens] == [False] * 4 + [True] * per_key
    assert sessions.get(other) is not None and len(sessions) == per_key + 1


@pytest.mark.parametrize("path", ["/health", "/datasets?purpose=support", "/ui/login", "/nope"])
def test_big_bodies_are_413_even_where_no_body_is_read(app_url: str, path: str) -> None:
    """A route that ignores its body must not let the server drain a huge one for it."""
    body = Chunks(50 * MiB)
    r = httpx.request("GET", f"{app_url}{path}", content=body, timeout=60)
    assert r.status_code == 413
    assert body.sent < 40 * MiB
