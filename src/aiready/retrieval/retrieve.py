"""Governed retrieval: ranked records from certified gold only, under policy.

For each model that declares ``retrieval:`` the caller needs a ``retrieve`` permit for the declared
purpose. Row filters (``policies/access.yaml``) become the set of record ids the caller may see and
restrict the search *before* ranking, so permitted records rank exactly as without the filter.
Records are then read from the certified Delta version with masks applied, and only the columns
the caller may ``retrieve`` are returned. Every decision is audited.
"""

from __future__ import annotations

import hashlib
import threading
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from aiready.certification.certify import certified_version
from aiready.engines.duckdb.sql import ident
from aiready.engines.runner import connect
from aiready.errors import NotFoundError
from aiready.policy import audit
from aiready.policy.access import access_rules, bind_principal, mask_for, mask_sql
from aiready.policy.engine import Decision
from aiready.policy.errors import AccessDenied, PolicyError
from aiready.retrieval import semantic
from aiready.retrieval.index import Searcher
from aiready.storage import delta
from aiready.storage.appender import appender
from aiready.storage.secret import load_secret
from aiready.workspace.config import ModelConfig

if TYPE_CHECKING:
    from aiready.workspace.workspace import Workspace

MAX_K = 100
FUSION_DEPTH = 50  # candidates taken from each ranking before fusing them
_base: Any = None
_base_lock = threading.Lock()


def _cursor() -> Any:
    """A cursor on one shared in-memory DuckDB (a new connection costs ~30 ms)."""
    global _base
    with _base_lock:
        if _base is None:
            _base = connect()
            _base.execute("SET GLOBAL TimeZone = 'UTC'")
        return _base.cursor()


@dataclass
class Hit:
    """One retrieved record with its citation."""

    dataset: str
    version: int
    key: str
    score: float
    """BM25, or the reciprocal-rank-fusion score when a semantic model took part."""
    record: dict[str, Any]
    signals: dict[str, float] = field(default_factory=dict)
    """What the ranking was fused from: ``bm25`` and/or ``cosine`` for this record."""


@dataclass
class RetrieveResult:
    query: str
    hits: list[Hit] = field(default_factory=list)
    decisions: list[Decision] = field(default_factory=list)
    versions: dict[str, int] = field(default_factory=dict)
    masked: dict[str, str] = field(default_factory=dict)
    filtered: dict[str, str] = field(default_factory=dict)
    latency_ms: float = 0.0
    trace_id: str | None = None

    def asdict(self) -> dict[str, Any]:
        data = asdict(self)
        data["decisions"] = [d.asdict() for d in self.decisions]
        return data


def retrievable(ws: Workspace) -> dict[str, ModelConfig]:
    return {n: m for n, m in ws.config.models.items() if m.retrieval is not None}


def retrieve(
    ws: Workspace,
    searcher: Searcher,
    query: str,
    principal: str,
    purpose: str,
    k: int = 10,
    datasets: list[str] | None = None,
    filters: dict[str, str] | None = None,
) -> RetrieveResult:
    """The top ``k`` permitted records for ``query`` across the certified retrievable models."""
    start = time.perf_counter()
    engine = ws.policy
    engine.principal_uid(principal)
    if not purpose or not purpose.strip():
        raise PolicyError("a purpose is required for every retrieval", principal=principal)
    if not 1 <= k <= MAX_K:
        raise PolicyError(f"k must be between 1 and {MAX_K}", principal=principal)
    models = _models(ws, datasets)
    filters = filters or {}
    result = RetrieveResult(query)
    hybrid = any(m.retrieval is not None and m.retrieval.semantic for m in models.values())
    depth = max(k, FUSION_DEPTH) if hybrid else k
    lexical: list[tuple[float, str, str]] = []
    vector: list[tuple[float, str, str]] = []
    for name, model in models.items():
        decision = engine.decide(principal, "retrieve", name, purpose)
        result.decisions.append(decision)
        if not decision.allowed:
            continue
        version = _certified(ws, name)
        if version is None:
            continue
        mine = _own_filters(model, filters, datasets is not None)
        if mine is None:
            continue
        allowed = _allowed_ids(ws, model, version, principal, purpose, result)
        result.versions[name] = version
        for key, score in searcher.search(ws.paths, model, version, query, depth, allowed, mine):
            lexical.append((score, name, key))
        assert model.retrieval is not None
        if model.retrieval.semantic:
            for key, score in searcher.nearest(
                ws.paths, model, version, query, depth, allowed, mine
            ):
                vector.append((score, name, key))
    denied = [d for d in result.decisions if not d.allowed]
    if datasets and denied and not result.versions:
        audit.append(ws.audit_path, ws.paths.locks, result.decisions)
        first = denied[0]
        raise AccessDenied(
            f"{principal} may not retrieve {first.resource} for {purpose!r}: {first.reason}",
            principal=principal,
            resource=first.resource,
            purpose=purpose,
        )
    top, signals = _rank(lexical, vector, k, hybrid)
    try:
        records = _fetch(ws, models, top, principal, purpose, result)
    finally:  # every decision of this request, in one audit commit
        audit.append(ws.audit_path, ws.paths.locks, result.decisions)
    result.hits = [
        Hit(
            name,
            result.versions[name],
            key,
            score,
            records.get((name, key), {}),
            signals.get((name, key), {}),
        )
        for score, name, key in top
    ]
    result.latency_ms = (time.perf_counter() - start) * 1000
    _log(ws, result, principal, purpose)
    return result


def _rank(
    lexical: list[tuple[float, str, str]],
    vector: list[tuple[float, str, str]],
    k: int,
    hybrid: bool,
) -> tuple[list[tuple[float, str, str]], dict[tuple[str, str], dict[str, float]]]:
    """The top ``k`` (score, model, key): by BM25 alone, or, when a semantic model takes part,
    by reciprocal rank fusion of the BM25 and the embedding rankings across all models."""
    lexical.sort(key=lambda t: (-t[0], t[1], t[2]))
    signals: dict[tuple[str, str], dict[str, float]] = {}
    for score, name, key in lexical:
        signals[(name, key)] = {"bm25": score}
    if not hybrid:
        return lexical[:k], signals
    vector.sort(key=lambda t: (-t[0], t[1], t[2]))
    for score, name, key in vector:
        signals.setdefault((name, key), {})["cosine"] = score
    fused = semantic.fuse([[(n, key) for _, n, key in lexical], [(n, key) for _, n, key in vector]])
    ranked = sorted(
        ((s, n, key) for (n, key), s in fused.items()), key=lambda t: (-t[0], t[1], t[2])
    )
    return ranked[:k], signals


LOG_SCHEMA = pa.schema(
    [
        ("at", pa.timestamp("us", tz="UTC")),
        ("principal", pa.string()),
        ("purpose", pa.string()),
        ("dataset", pa.string()),
        ("version", pa.int64()),
        ("query_sha256", pa.string()),
        ("hits", pa.int64()),
        ("empty", pa.bool_()),
        ("top_score", pa.float64()),
        ("latency_ms", pa.float64()),
    ]
)


def log_path(ws: Workspace) -> Path:
    return ws.paths.lake / "_retrievals"


def _log(ws: Workspace, result: RetrieveResult, principal: str, purpose: str) -> None:
    """One telemetry row per dataset searched: the retrieval log behind rates and drift."""
    log = appender(log_path(ws), LOG_SCHEMA)
    digest = hashlib.sha256(result.query.encode()).hexdigest()
    now = datetime.now(UTC)
    for name, version in result.versions.items():
        mine = [h for h in result.hits if h.dataset == name]
        log.put(
            {
                "at": now,
                "principal": principal,
                "purpose": purpose,
                "dataset": name,
                "version": version,
                "query_sha256": digest,
                "hits": len(mine),
                "empty": not result.hits,
                "top_score": mine[0].score if mine else 0.0,
                "latency_ms": result.latency_ms,
            }
        )


def _models(ws: Workspace, datasets: list[str] | None) -> dict[str, ModelConfig]:
    models = retrievable(ws)
    if datasets is None:
        return models
    unknown = [d for d in datasets if d not in models]
    if unknown:
        raise NotFoundError(
            f"not retrievable: {unknown}; retrievable gold models are {sorted(models)}",
            dataset=unknown[0],
        )
    return {d: models[d] for d in datasets}


def _certified(ws: Workspace, name: str) -> int | None:
    try:
        return certified_version(ws.paths, name)
    except NotFoundError:
        return None  # nothing certified yet: nothing to serve


def _own_filters(model: ModelConfig, filters: dict[str, str], named: bool) -> dict[str, str] | None:
    """The request filters that apply to ``model``; None when it cannot match them."""
    assert model.retrieval is not None
    declared = set(model.retrieval.filters)
    unknown = [f for f in filters if f not in declared]
    if unknown and named:
        raise PolicyError(
            f"{model.name} cannot be filtered on {unknown}; filters: {sorted(declared)}",
            dataset=model.name,
        )
    if unknown:
        return None  # this model has no such column: no record of it can match
    return {k: str(v) for k, v in filters.items()}


def _allowed_ids(
    ws: Workspace,
    model: ModelConfig,
    version: int,
    principal: str,
    purpose: str,
    result: RetrieveResult,
) -> frozenset[str] | None:
    """Ids the caller's row filter admits (None: no row filter applies)."""
    access = access_rules(ws)
    row_filter = (access.get("row_filters") or {}).get(model.name)
    if not row_filter:
        return None
    read = ws.policy.decide(principal, "read", model.name, purpose)
    result.decisions.append(read)
    if read.allowed:
        return None
    attrs: dict[str, Any] = next(
        (e["attrs"] for e in ws.policy.principal_list if e["uid"]["id"] == principal), {}
    )
    where = bind_principal(str(row_filter), attrs)
    result.filtered[model.name] = where
    return _ids_where(ws.paths.table("gold", model.name), model, version, where)


@lru_cache(maxsize=256)
def _ids_where(path: Path, model: ModelConfig, version: int, where: str) -> frozenset[str]:
    """Record ids of a (immutable) gold version that a row filter admits; cached."""
    assert model.retrieval is not None
    snapshot, _ = _version_table(path, version, model.retrieval.id)
    cursor = _cursor()
    cursor.register("__version", snapshot)
    rows = cursor.sql(
        f"SELECT CAST({ident(model.retrieval.id)} AS VARCHAR) FROM __version WHERE {where}"
    ).fetchall()
    cursor.close()
    return frozenset(str(r[0]) for r in rows)


@lru_cache(maxsize=8)
def _version_table(path: Path, version: int, key: str) -> tuple[pa.Table, dict[str, int]]:
    """A certified gold version in memory, with its record key → row position (a version never
    changes, and a retrievable model is a business-ready table, not a raw log)."""
    dt = delta.table(path, version)
    assert dt is not None
    names = [n for n in pa.schema(dt.schema().to_arrow()).names if not n.startswith("_")]
    table = dt.to_pyarrow_dataset().to_table(columns=names)
    keys = table.column(key).cast(pa.string()).to_pylist()
    return table, {k: i for i, k in enumerate(keys)}


@lru_cache(maxsize=256)
def _version_columns(path: Path, version: int) -> tuple[str, ...]:
    dt = delta.table(path, version)
    assert dt is not None
    return tuple(pa.schema(dt.schema().to_arrow()).names)


def _fetch(
    ws: Workspace,
    models: dict[str, ModelConfig],
    top: list[tuple[float, str, str]],
    principal: str,
    purpose: str,
    result: RetrieveResult,
) -> dict[tuple[str, str], dict[str, Any]]:
    """The hits' records from the certified version: permitted columns only, masks applied."""
    out: dict[tuple[str, str], dict[str, Any]] = {}
    access = access_rules(ws)
    extra: list[Decision] = []
    for name in sorted({n for _, n, _ in top}):
        model = models[name]
        assert model.retrieval is not None
        version = result.versions[name]
        keys = [k for _, n, k in top if n == name]
        path = ws.paths.table("gold", name)
        columns = [c for c in _version_columns(path, version) if not c.startswith("_")]
        projections = []
        for column in columns:
            decision = ws.policy.decide(principal, "retrieve", f"{name}.{column}", purpose)
            extra.append(decision)
            if not decision.allowed:
                continue
            expr = ident(column)
            mask = mask_for(ws, access, name, column)
            if mask:
                read = ws.policy.decide(principal, "read", f"{name}.{column}", purpose)
                extra.append(read)
                if not read.allowed:
                    expr = mask_sql(expr, mask, load_secret(ws.paths.state).key)
                    result.masked[f"{name}.{column}"] = mask
            projections.append(f"{expr} AS {ident(column)}")
        snapshot, positions = _version_table(path, version, model.retrieval.id)
        hits = snapshot.take([positions[k] for k in keys if k in positions])
        key_col = ident(model.retrieval.id)
        body = ", ".join([f"CAST({key_col} AS VARCHAR) AS __key", *projections])
        cursor = _cursor()
        cursor.register("__hits", hits)  # masks run in SQL, on the k hits only
        table = cursor.sql(f"SELECT {body} FROM __hits").to_arrow_table()
        cursor.close()
        for row in table.to_pylist():
            key = row.pop("__key")
            out[(name, key)] = row
    result.decisions.extend(extra)
    return out
