"""Idempotency keys belong to the principal who posted them: nobody can drop another's post.

Before the fix the store deduplicated by key alone, so bob posting first with alice's key made
alice's own post come back ``created: false`` with bob's row id, and her feedback was lost.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from deltalake import DeltaTable

import aiready
from aiready.feedback.models import Rating
from aiready.service import keys
from aiready.service.app import create_app
from tests.retrieval.test_retrieval import make
from tests.serving import serving

BODIES: dict[str, dict[str, Any]] = {
    "/feedback": {"kind": "rating", "purpose": "support", "score": 0.5},
    "/decisions": {"purpose": "support", "recommendation": "refund", "action": "accepted"},
    "/outcomes": {"purpose": "support", "decision_id": "d-1", "result": "kept"},
}
TABLES = {"/feedback": "rating", "/decisions": "decision", "/outcomes": "outcome"}


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[aiready.Workspace, str]]:
    ws = make(tmp_path_factory.mktemp("idem"), n=8)
    with serving(create_app(ws)) as url:
        yield ws, url


def _post(url: str, ws: aiready.Workspace, who: str, path: str, key: str) -> httpx.Response:
    token, _ = keys.create(ws.paths, who)
    body = {**BODIES[path], "idempotency_key": key}
    return httpx.post(f"{url}{path}", json=body, headers={"X-API-Key": token}, timeout=60)


def _rows(ws: aiready.Workspace, path: str, key: str) -> list[dict[str, Any]]:
    table = DeltaTable(str(ws.paths.lake / "feedback" / TABLES[path])).to_pyarrow_table()
    return [r for r in table.to_pylist() if r["idempotency_key"] == key]


@pytest.mark.parametrize("path", sorted(BODIES))
def test_another_principals_key_does_not_drop_my_post(
    site: tuple[aiready.Workspace, str], path: str
) -> None:
    ws, url = site
    key = f"shared{path.replace('/', '-')}"
    squatter = _post(url, ws, "bob", path, key)  # bob takes alice's key first
    mine = _post(url, ws, "alice", path, key)
    assert (squatter.status_code, mine.status_code) == (201, 201)
    assert mine.json()["created"] is True and mine.json()["id"] != squatter.json()["id"]
    again = _post(url, ws, "alice", path, key)  # alice retrying is still deduplicated
    assert again.status_code == 200 and again.json()["id"] == mine.json()["id"]
    bob_again = _post(url, ws, "bob", path, key)
    assert bob_again.status_code == 200 and bob_again.json()["id"] == squatter.json()["id"]
    rows = _rows(ws, path, key)
    assert sorted(r["principal"] for r in rows) == ["alice", "bob"]


def test_python_api_and_concurrent_group_commits_are_scoped_too(
    site: tuple[aiready.Workspace, str],
) -> None:
    """The CLI's path (add_now), a fresh store reading the scope back, and the writer's group
    commit where posts of several principals with one key land in the same batch."""
    ws, _ = site
    item = Rating(purpose="support", score=1.0, idempotency_key="api-k")
    first = ws.add_feedback(item, "bob")
    mine = ws.add_feedback(item, "alice")
    assert first.created and mine.created and first.id != mine.id
    assert not ws.add_feedback(item, "alice").created
    # a fresh store (another process) reads the scope back from the table, not from memory
    fresh = type(ws.feedback)(ws.paths)
    assert fresh.add_now(item, "alice").id == mine.id
    assert fresh.add_now(item, "helper").created
    batch = type(ws.feedback)(ws.paths)
    with_key = Rating(purpose="support", score=0.0, idempotency_key="batch-k")
    who = [f"p{i % 20}" for i in range(60)]  # 20 principals, each posting the same key 3 times
    with ThreadPoolExecutor(max_workers=16) as pool:
        results = list(pool.map(lambda p: batch.add(with_key, p), who))
    assert sum(r.created for r in results) == 20
    ids = {p: {r.id for r, q in zip(results, who, strict=True) if q == p} for p in set(who)}
    assert all(len(v) == 1 for v in ids.values()) and len(set().union(*ids.values())) == 20
    rows = [r for r in batch.rows("rating") if r["idempotency_key"] == "batch-k"]
    assert sorted(r["principal"] for r in rows) == sorted(set(who))
