"""Hostile input: fuzzed SQL, HTTP payloads and paths end in a clear error, never a leak."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlglot
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import aiready
from aiready import AireadyError
from aiready.service import keys
from aiready.service.app import create_app
from tests.reliability.sql_grammar import Query, queries
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


# d0, d3, d6, d9 are region US: alice (EU) may read them from silver.docs, never from gold.kb
US_IDS = {f"d{i}" for i in range(0, 12, 3)}
US_TITLES = [
    "How to handle refund policy 0",
    "How to handle invoice errors 3",
    "How to handle warranty claims 6",
    "How to handle delivery times 9",
]
FUZZ_EXAMPLES = 150


def _leak(query: Query, rows: list[dict[str, Any]]) -> str | None:
    """What in ``rows`` alice must not see: a raw e-mail anywhere, or a US row of gold.kb."""
    text = json.dumps(rows, default=str)
    if email := next((e for e in RAW_EMAILS if e in text), None):
        return f"raw PII {email}"
    if query.reads_docs:  # silver.docs has no row filter: US rows are permitted there
        return None
    tokens = set(re.findall(r"[A-Za-z0-9]+", text))
    if found := (tokens & (US_IDS | {"US"})) or [t for t in US_TITLES if t in text]:
        return f"row outside alice's filter: {sorted(found)}"
    return None


def test_fuzzed_sql_is_refused_or_governed_never_leaks(ws: aiready.Workspace) -> None:
    """Grammar-built SELECTs (tests/reliability/sql_grammar.py) that mostly parse and return rows:
    each is refused with a typed error or returns only masked PII and permitted rows."""
    truth = ws.query("SELECT author_email FROM kb", "sam", "support").table
    assert set(truth.column(0).to_pylist()) == RAW_EMAILS  # the oracle looks at real values
    stats = {"examples": 0, "parsed": 0, "rows": 0, "refused": 0, "hostile": 0}

    @settings(max_examples=FUZZ_EXAMPLES, derandomize=True, database=None, deadline=None)
    @given(queries())
    def one(query: Query) -> None:
        stats["examples"] += 1
        stats["hostile"] += query.hostile
        try:
            sqlglot.parse_one(query.sql, dialect="duckdb")
            stats["parsed"] += 1
        except sqlglot.errors.SqlglotError:
            pass
        try:
            result = ws.query(query.sql, "alice", "support", limit=50)
        except AireadyError:
            stats["refused"] += 1  # a typed refusal; anything else fails the test
            return
        rows = result.table.to_pylist()
        stats["rows"] += bool(rows)
        assert (leak := _leak(query, rows)) is None, (leak, query.sql)

    one()
    n = stats["examples"]
    print(
        f"\nSQL fuzz: {n} queries, parsed {stats['parsed'] / n:.0%}, returned rows "
        f"{stats['rows'] / n:.0%}, refused {stats['refused'] / n:.0%}, "
        f"with a hostile piece {stats['hostile'] / n:.0%}"
    )
    assert n >= 120
    assert stats["parsed"] / n >= 0.8 and stats["rows"] / n >= 0.3, stats
    assert stats["hostile"] > 0 and stats["refused"] > 0, stats


def test_the_fuzz_oracle_sees_leaks(ws: aiready.Workspace) -> None:
    """The steward reads raw e-mails and US rows of gold.kb: the oracle must call both a leak."""
    kb_only = Query("SELECT doc_id, title FROM kb", True, False, False)
    rows = ws.query(kb_only.sql, "sam", "support").table.to_pylist()
    assert (_leak(kb_only, rows) or "").startswith("row outside")
    agg = Query("SELECT string_agg(author_email, ',') FROM docs", False, True, False)
    rows = ws.query(agg.sql, "sam", "support").table.to_pylist()
    assert (_leak(agg, rows) or "").startswith("raw PII")
    assert _leak(kb_only, ws.query(kb_only.sql, "alice", "support").table.to_pylist()) is None


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
