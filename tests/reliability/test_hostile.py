"""Hostile input: fuzzed SQL, HTTP payloads and paths end in a clear error, never a leak."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import aiready
from aiready import AireadyError
from aiready.service import keys
from aiready.service.app import create_app
from tests.retrieval.test_retrieval import make
from tests.serving import serving

RAW_EMAILS = {f"writer{i}@example.com" for i in range(12)}


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> aiready.Workspace:
    os.environ["AIREADY_MLFLOW__ENABLED"] = "false"
    workspace = make(tmp_path_factory.mktemp("hostile"), n=12)
    # analysts may query gold.kb, but author_email is PII: always masked for them
    with (workspace.root / "policies/access.cedar").open("a") as f:
        f.write(
            '\n@id("analysts-query")\npermit(principal in Group::"analysts", '
            'action == Action::"query", resource);\n'
        )
    return aiready.Workspace.load(workspace.root)


FRAGMENTS = [
    "SELECT", "author_email", "doc_id", "FROM", "gold.kb", "silver.docs", "kb", "WHERE", "1=1",
    "UNION ALL", "(", ")", ",", "*", "lower(author_email)", "'x'", "--", ";", "DROP TABLE kb",
    "read_csv('/etc/passwd')", "getenv('HOME')", "ORDER BY", "LIMIT 1",
    "WITH t AS (SELECT * FROM kb)",
    "t", "JOIN", "ON", "AS e", "CAST(author_email AS BLOB)", "string_agg(author_email, ',')",
    "'\\x00'", "/*", "*/", "COPY", "ATTACH 'x.db'", "SELECT author_email FROM kb",
]  # fmt: skip


@settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(st.sampled_from(FRAGMENTS), min_size=1, max_size=12))
def test_fuzzed_sql_is_refused_or_governed_never_leaks(
    ws: aiready.Workspace, parts: list[str]
) -> None:
    sql = " ".join(parts)
    try:
        result = ws.query(sql, "alice", "support", limit=50)
    except AireadyError:
        return  # refused with a clear, typed error
    leaked = json.dumps(result.table.to_pylist(), default=str)
    assert not any(email in leaked for email in RAW_EMAILS), sql


@pytest.fixture(scope="module")
def url(ws: aiready.Workspace) -> Iterator[str]:
    with serving(create_app(ws)) as base:
        yield base


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.integers()
    | st.text(max_size=40),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=12,
)
payloads = st.dictionaries(
    st.sampled_from(
        ["kind", "purpose", "score", "dataset", "record_key", "column", "proposed_value",
         "query", "k", "datasets", "filters", "sql", "trace_id", "idempotency_key", "x"]
    ),
    json_values | st.sampled_from(["rating", "correction", "support", "kb", "../../etc", "d1"]),
    max_size=7,
)  # fmt: skip


@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.sampled_from(["/feedback", "/retrieve", "/query", "/decisions", "/outcomes"]), payloads)
def test_fuzzed_http_payloads_never_500(
    ws: aiready.Workspace, url: str, path: str, body: dict[str, Any]
) -> None:
    key = _key(ws)
    r = httpx.post(f"{url}{path}", json=body, headers={"X-API-Key": key}, timeout=60)
    assert r.status_code < 500, (path, body, r.text)
    if r.status_code >= 400:
        assert r.json(), r.text  # a body that says what was wrong


@pytest.mark.parametrize(
    "raw", [b'{"kind": "rating", "score": Infinity}', b'{"kind": NaN}', b"{", b"\xff\xfe", b"[]"]
)
def test_non_json_and_non_finite_bodies_are_refused(
    ws: aiready.Workspace, url: str, raw: bytes
) -> None:
    """Python's json accepts NaN/Infinity; httpx will not send them, so post the bytes."""
    for path in ("/feedback", "/retrieve", "/query"):
        r = httpx.post(
            f"{url}{path}",
            content=raw,
            headers={"X-API-Key": _key(ws), "Content-Type": "application/json"},
            timeout=60,
        )
        assert 400 <= r.status_code < 500, (path, raw, r.text)


_keys: dict[str, str] = {}


def _key(ws: aiready.Workspace) -> str:
    if "alice" not in _keys:
        _keys["alice"] = keys.create(ws.paths, "alice")[0]
    return _keys["alice"]


@pytest.mark.parametrize(
    "path",
    [
        "/datasets/..%2F..%2Fetc%2Fpasswd/context",
        "/datasets/../../etc/passwd/context",
        "/datasets/kb%00/context",
        "/ui/static/..%2F..%2Fkeys.py",
        "/ui/static/../templates/base.html",
    ],
)
def test_path_traversal_in_urls_reads_nothing(ws: aiready.Workspace, url: str, path: str) -> None:
    r = httpx.get(f"{url}{path}", params={"purpose": "support"}, headers={"X-API-Key": _key(ws)})
    assert r.status_code in (400, 403, 404), (path, r.status_code)
    assert "import" not in r.text and "{% block" not in r.text


@pytest.mark.parametrize("name", ["../evil", "a/b", "x.y", "", "1abc", "a" * 80])
def test_path_like_dataset_names_are_config_errors(tmp_path: Path, name: str) -> None:
    (tmp_path / "aiready.yaml").write_text(
        f"name: w\ndatasets:\n  {json.dumps(name)}:\n    source: data/a.csv\n    contract: c.yaml\n"
    )
    with pytest.raises(aiready.ConfigError, match="dataset names"):
        aiready.Workspace.load(tmp_path)


def test_feedback_cannot_name_a_path_as_dataset(ws: aiready.Workspace, url: str) -> None:
    body = {
        "kind": "correction", "purpose": "support", "dataset": "../../keys", "record_key": "d1",
        "column": "title", "proposed_value": "x",
    }  # fmt: skip
    r = httpx.post(f"{url}/feedback", json=body, headers={"X-API-Key": _key(ws)})
    assert r.status_code == 422 and "dataset" in r.text
    assert not (ws.paths.state / "keys").exists()
