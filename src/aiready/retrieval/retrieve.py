"""Governed retrieval: ranked records from certified gold only, under policy.

For each model that declares ``retrieval:`` the caller needs a ``retrieve`` permit for the declared
purpose. Row filters (``policies/access.yaml``) become the set of record ids the caller may see and
restrict the search *before* ranking, so permitted records rank exactly as without the filter.
Records are then read from the certified Delta version with masks applied, and only the columns
the caller may ``retrieve`` are returned. Every decision is audited.

What a caller may see decides what they may *ask about*: only text columns they may ``retrieve``
unmasked are searched (lexically and by embedding), a ``filters`` entry on a column they see masked
or not at all is refused (:class:`AccessDenied`, audited) rather than answered, and the cited
``key`` is masked like its column. Otherwise a search or a filter would answer yes/no to a guess
at a masked value.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import pyarrow as pa

from aiready.certification.certify import certified_version
from aiready.config.models import ModelConfig, WorkspaceConfig
from aiready.config.paths import Paths
from aiready.errors import NotFoundError
from aiready.policy import audit, sandbox
from aiready.policy.access import access_rules, bind_principal, mask_sql
from aiready.policy.context import PolicyContext
from aiready.policy.engine import Decision
from aiready.policy.errors import AccessDenied, PolicyError
from aiready.policy.protection import mask_for
from aiready.retrieval import semantic
from aiready.retrieval.index import Searcher
from aiready.sqltext import ident
from aiready.storage import delta
from aiready.storage.appender import appender
from aiready.storage.secret import load_secret

MAX_K = 100
FUSION_DEPTH = 50  # candidates taken from each ranking before fusing them


@dataclass
class Hit:
    """One retrieved record with its citation."""

    dataset: str
    version: int
    key: str
    """The record's id as this caller may see it: masked like its column, or ``[REDACTED]``."""
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


def retrievable(config: WorkspaceConfig) -> dict[str, ModelConfig]:
    return {n: m for n, m in config.models.items() if m.retrieval is not None}


def retrieve(
    ctx: PolicyContext,
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
    engine = ctx.engine
    engine.principal_uid(principal)
    if not purpose or not purpose.strip():
        raise PolicyError("a purpose is required for every retrieval", principal=principal)
    if not 1 <= k <= MAX_K:
        raise PolicyError(f"k must be between 1 and {MAX_K}", principal=principal)
    models = _models(ctx.config, datasets)
    filters = filters or {}
    result = RetrieveResult(query)
    hybrid = any(m.retrieval is not None and m.retrieval.semantic for m in models.values())
    depth = max(k, FUSION_DEPTH) if hybrid else k
    lexical: list[tuple[float, str, str]] = []
    vector: list[tuple[float, str, str]] = []
    views: dict[str, dict[str, str | None]] = {}
    for name, model in models.items():
        decision = engine.decide(principal, "retrieve", name, purpose)
        result.decisions.append(decision)
        if not decision.allowed:
            continue
        version = _certified(ctx.paths, name)
        if version is None:
            continue
        mine = _own_filters(model, filters, datasets is not None)
        if mine is None:
            continue
        view = views[name] = _view(ctx, name, version, principal, purpose, result.decisions)
        _refuse_hidden_filters(ctx, name, mine, view, principal, purpose, result.decisions)
        allowed = _allowed_ids(ctx, model, version, principal, purpose, result)
        result.versions[name] = version
        assert model.retrieval is not None
        columns = [c for c in model.retrieval.text if c in view and view[c] is None]
        for key, score in searcher.search(
            ctx.paths, model, version, query, depth, allowed, mine, columns
        ):
            lexical.append((score, name, key))
        if model.retrieval.semantic:
            for key, score in searcher.nearest(
                ctx.paths, model, version, query, depth, allowed, mine, columns
            ):
                vector.append((score, name, key))
    denied = [d for d in result.decisions if not d.allowed]
    if datasets and denied and not result.versions:
        audit.append(ctx.audit_path, ctx.paths.locks, result.decisions)
        first = denied[0]
        raise AccessDenied(
            f"{principal} may not retrieve {first.resource} for {purpose!r}: {first.reason}",
            principal=principal,
            resource=first.resource,
            purpose=purpose,
        )
    top, signals = _rank(lexical, vector, k, hybrid)
    try:
        records = _fetch(ctx.paths, models, views, top, result)
    finally:  # every decision of this request, in one audit commit
        audit.append(ctx.audit_path, ctx.paths.locks, result.decisions)
    result.hits = []
    for score, name, key in top:
        cite, record = records.get((name, key), ("", {}))
        result.hits.append(
            Hit(name, result.versions[name], cite, score, record, signals.get((name, key), {}))
        )
    result.latency_ms = (time.perf_counter() - start) * 1000
    _log(ctx.paths, result, principal, purpose)
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


def _log(paths: Paths, result: RetrieveResult, principal: str, purpose: str) -> None:
    """One telemetry row per dataset searched: the retrieval log behind rates and drift."""
    log = appender(paths.retrieval_log, LOG_SCHEMA)
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


def _models(config: WorkspaceConfig, datasets: list[str] | None) -> dict[str, ModelConfig]:
    models = retrievable(config)
    if datasets is None:
        return models
    unknown = [d for d in datasets if d not in models]
    if unknown:
        raise NotFoundError(
            f"not retrievable: {unknown}; retrievable gold models are {sorted(models)}",
            dataset=unknown[0],
        )
    return {d: models[d] for d in datasets}


def _certified(paths: Paths, name: str) -> int | None:
    try:
        return certified_version(paths, name)
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


def _view(
    ctx: PolicyContext,
    name: str,
    version: int,
    principal: str,
    purpose: str,
    decisions: list[Decision],
) -> dict[str, str | None]:
    """Each column of the version the caller may ``retrieve``, with the mask it is shown under
    (None: as stored); a column they may not retrieve is absent. Decided once per request and
    used for the search fields, the filters, the cited key and the returned record alike."""
    access = access_rules(ctx.root, ctx.engine)
    path = ctx.paths.table("gold", name)
    shown: dict[str, str | None] = {}
    for column in (c for c in _version_columns(path, version) if not c.startswith("_")):
        decision = ctx.engine.decide(principal, "retrieve", f"{name}.{column}", purpose)
        decisions.append(decision)
        if not decision.allowed:
            continue
        mask = mask_for(ctx, access, name, column)
        if mask:
            read = ctx.engine.decide(principal, "read", f"{name}.{column}", purpose)
            decisions.append(read)
            if read.allowed:
                mask = None
        shown[column] = mask
    return shown


def _refuse_hidden_filters(
    ctx: PolicyContext,
    name: str,
    filters: dict[str, str],
    view: dict[str, str | None],
    principal: str,
    purpose: str,
    decisions: list[Decision],
) -> None:
    """Refuse (and audit) a filter on a column the caller sees masked or not at all: answering
    it, even with "no hits", would confirm or deny a guess at the hidden value."""
    for column in sorted(filters):
        if column in view and view[column] is None:
            continue
        how = "not at all" if column not in view else f"only masked ({view[column]})"
        reason = f"filter on a column the caller may see {how}"
        resource = f"{name}.{column}"
        decisions.append(Decision(principal, "retrieve", resource, purpose, False, [], reason))
        audit.append(ctx.audit_path, ctx.paths.locks, decisions)
        raise AccessDenied(
            f"{principal} may not filter on {resource} for {purpose!r}: they may see it {how}",
            principal=principal,
            resource=resource,
            purpose=purpose,
        )


def _allowed_ids(
    ctx: PolicyContext,
    model: ModelConfig,
    version: int,
    principal: str,
    purpose: str,
    result: RetrieveResult,
) -> frozenset[str] | None:
    """Ids the caller's row filter admits (None: no row filter applies)."""
    access = access_rules(ctx.root, ctx.engine)
    row_filter = (access.get("row_filters") or {}).get(model.name)
    if not row_filter:
        return None
    read = ctx.engine.decide(principal, "read", model.name, purpose)
    result.decisions.append(read)
    if read.allowed:
        return None
    attrs: dict[str, Any] = next(
        (e["attrs"] for e in ctx.engine.principal_list if e["uid"]["id"] == principal), {}
    )
    where = bind_principal(str(row_filter), attrs)
    result.filtered[model.name] = where
    return _ids_where(ctx.paths.table("gold", model.name), model, version, where)


@lru_cache(maxsize=256)
def _ids_where(path: Path, model: ModelConfig, version: int, where: str) -> frozenset[str]:
    """Record ids of a (immutable) gold version that a row filter admits; cached."""
    assert model.retrieval is not None
    snapshot, _ = _version_table(path, version, model.retrieval.id)
    cursor = sandbox.cursor({"__version": snapshot})
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
    paths: Paths,
    models: dict[str, ModelConfig],
    views: dict[str, dict[str, str | None]],
    top: list[tuple[float, str, str]],
    result: RetrieveResult,
) -> dict[tuple[str, str], tuple[str, dict[str, Any]]]:
    """The hits' citations and records from the certified version, as the caller's view shows
    them: permitted columns only, masks applied, the key masked like its column (redacted if
    the caller may not retrieve that column)."""
    out: dict[tuple[str, str], tuple[str, dict[str, Any]]] = {}
    for name in sorted({n for _, n, _ in top}):
        model = models[name]
        assert model.retrieval is not None
        view, version = views[name], result.versions[name]
        secret = load_secret(paths.state).key
        projections = []
        for column, mask in view.items():
            expr = ident(column) if mask is None else mask_sql(ident(column), mask, secret)
            if mask is not None:
                result.masked[f"{name}.{column}"] = mask
            projections.append(f"{expr} AS {ident(column)}")
        key_col = ident(model.retrieval.id)
        key_mask = view.get(model.retrieval.id, "redact")
        cite = f"CAST({key_col} AS VARCHAR)"
        if key_mask is not None:
            cite = f"CAST({mask_sql(key_col, key_mask, secret)} AS VARCHAR)"
        keys = [k for _, n, k in top if n == name]
        snapshot, positions = _version_table(paths.table("gold", name), version, model.retrieval.id)
        hits = snapshot.take([positions[k] for k in keys if k in positions])
        body = ", ".join(
            [f"CAST({key_col} AS VARCHAR) AS __key", f"{cite} AS __cite", *projections]
        )
        cursor = sandbox.cursor({"__hits": hits})  # masks run in SQL, on the k hits only
        table = cursor.sql(f"SELECT {body} FROM __hits").to_arrow_table()
        cursor.close()
        for row in table.to_pylist():
            key = row.pop("__key")
            out[(name, key)] = (str(row.pop("__cite")), row)
    return out
