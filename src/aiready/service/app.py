"""The governed door for AI systems: FastAPI over one workspace (no postponed annotations:
FastAPI resolves the endpoint signatures, which use a dependency alias local to ``create_app``).

Every endpoint but ``/health`` needs an API key (``Authorization: Bearer <key>`` or
``X-API-Key``) and a declared purpose, decides through the Cedar policies and writes the audit
log. ``/retrieve`` and ``/query`` are MLflow traces; their ``trace_id`` comes back in the response.
Repeated failed authentications from one client address are answered 429 for a while; every
refusal is counted (``/metrics``) and audited as a deny. Bodies over ``MAX_BODY`` are refused 413
before anything else runs (``service.edges``).
"""

import time
from typing import Annotated, Any

from fastapi import Body, Depends, FastAPI, HTTPException, Query, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, RedirectResponse
from pydantic import BaseModel, ConfigDict, Field

from aiready.errors import AireadyError, NotFoundError
from aiready.feedback.models import (
    Correction,
    DecisionRecord,
    Hallucination,
    Outcome,
    Rating,
    RetrievalFailure,
    Short,
)
from aiready.jsonvalues import json_rows
from aiready.policy import audit
from aiready.policy.errors import AccessDenied, PolicyError
from aiready.service.edges import MAX_BODY, BodyLimit, Counters
from aiready.service.gate import FailureLimiter, Gate, client_of
from aiready.workspace import Workspace

__all__ = ["MAX_BODY", "FailureLimiter", "create_app"]


class QueryRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    sql: Annotated[str, Field(min_length=1, max_length=100_000)]
    purpose: Short
    limit: Annotated[int, Field(ge=1, le=100_000)] = 1000


class RetrieveRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    query: Annotated[str, Field(min_length=1, max_length=2_000)]
    purpose: Short
    k: Annotated[int, Field(ge=1, le=100)] = 10
    datasets: Annotated[list[Short], Field(max_length=50)] | None = None
    filters: dict[Short, Short] | None = None


FeedbackBody = Annotated[
    Correction | Hallucination | RetrievalFailure | Rating, Field(discriminator="kind")
]


def _status(exc: AireadyError) -> int:
    if isinstance(exc, AccessDenied):
        return 403
    if isinstance(exc, NotFoundError):
        return 404
    return 400


def create_app(ws: Workspace, limiter: FailureLimiter | None = None) -> FastAPI:
    """The HTTP service for ``ws`` (policies and indexes load once, on first use)."""
    app = FastAPI(
        title="aiready",
        description="Governed access to certified, AI-ready data.",
        version="0.1.0",
    )
    counters = Counters()
    app.add_middleware(BodyLimit, limit=MAX_BODY, counters=counters)  # outermost: before parsing
    guard = limiter if limiter is not None else FailureLimiter()
    gate = Gate(ws.paths, ws.audit_path, guard, counters)
    app.state.gate = gate

    @app.exception_handler(AireadyError)
    async def _aiready_error(request: Request, exc: AireadyError) -> JSONResponse:
        return JSONResponse(exc.attrs(), status_code=_status(exc))

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        # The offending input is not echoed: it may be a secret, or a value JSON cannot carry
        # (Python's parser accepts NaN and Infinity; a JSON response may not).
        detail = [
            {"loc": list(e.get("loc", ())), "msg": str(e.get("msg", "")), "type": e.get("type")}
            for e in exc.errors()
        ]
        return JSONResponse({"detail": detail}, status_code=422)

    @app.exception_handler(RecursionError)
    async def _too_deep(request: Request, exc: RecursionError) -> JSONResponse:
        # Input nested past what a parser can walk is the caller's error, not the server's.
        return JSONResponse({"error": "input nested too deeply"}, status_code=400)

    def principal(request: Request) -> str:
        client = client_of(request)
        gate.admit(client)
        header = request.headers.get("authorization", "")
        key = header[7:].strip() if header.lower().startswith("bearer ") else ""
        key = key or request.headers.get("x-api-key", "")
        route = request.scope.get("route")
        who = gate.identify(client, key, getattr(route, "path", "") or "?").principal
        if who is None:
            raise HTTPException(
                401, "missing or invalid API key", headers={"WWW-Authenticate": "Bearer"}
            )
        return who

    Principal = Annotated[str, Depends(principal)]

    from aiready.service import console

    app.include_router(console.router(ws, gate))
    app.mount("/ui/static", console.static(), name="static")

    @app.get("/", include_in_schema=False)
    def root() -> RedirectResponse:
        return RedirectResponse("/ui", status_code=307)

    @app.get("/health")
    def health() -> dict[str, Any]:
        return {"status": "ok", "workspace": ws.config.name}

    @app.get("/metrics", response_class=PlainTextResponse)
    def metrics() -> str:
        """Refusal counters (401, 429, 413) in Prometheus' text format."""
        return counters.prometheus()

    @app.get("/datasets")
    def datasets(who: Principal, purpose: Annotated[str, Query(min_length=1)]) -> dict[str, Any]:
        """Datasets and models the caller may query or retrieve for ``purpose``."""
        visible = []
        decisions = []
        for resource in sorted([*ws.config.datasets, *ws.config.models]):
            mine = [ws.policy.decide(who, a, resource, purpose) for a in ("query", "retrieve")]
            decisions += mine
            allowed = [d.action for d in mine if d.allowed]
            if allowed:
                kind = "gold" if resource in ws.config.models else "silver"
                visible.append({"name": resource, "layer": kind, "actions": allowed})
        audit.append(ws.audit_path, ws.paths.locks, decisions)
        return {"datasets": visible}

    @app.get("/datasets/{name}/context")
    def context(
        name: str, who: Principal, purpose: Annotated[str, Query(min_length=1)]
    ) -> dict[str, Any]:
        return dict(jsonable_encoder(ws.context(name, who, purpose)))

    @app.post("/query")
    def query(body: QueryRequest, who: Principal) -> dict[str, Any]:
        tags = {"aiready.principal": who, "aiready.purpose": body.purpose}
        with ws.tracer.span("query", "TOOL", {"sql": body.sql}, tags) as span:
            start = time.perf_counter()
            try:
                result = ws.query(body.sql, who, body.purpose, body.limit)
            except AccessDenied:
                span.outputs({}, {**tags, "aiready.decision": "deny"})
                raise
            rows = json_rows(result.table.to_pylist())
            span.outputs(
                {"rows": len(rows)},
                {**tags, "aiready.decision": "allow"},
                latency_ms=(time.perf_counter() - start) * 1000,
                masked=sorted(result.masked),
                filtered=sorted(result.filtered),
            )
        return {
            "rows": jsonable_encoder(rows),
            "masked": result.masked,
            "filtered": result.filtered,
            "trace_id": span.trace_id,
        }

    @app.post("/retrieve")
    def retrieve(body: RetrieveRequest, who: Principal) -> dict[str, Any]:
        tags = {"aiready.principal": who, "aiready.purpose": body.purpose}
        inputs = body.model_dump()
        with ws.tracer.span("retrieve", "RETRIEVER", inputs, tags) as span:
            try:
                result = ws.retrieve(
                    body.query, who, body.purpose, body.k, body.datasets, body.filters
                )
            except (AccessDenied, PolicyError, NotFoundError):
                span.outputs({}, {**tags, "aiready.decision": "deny"})
                raise
            ids = [f"{h.dataset}@{h.version}:{h.key}" for h in result.hits]
            versions = ",".join(f"{k}@{v}" for k, v in sorted(result.versions.items()))
            span.outputs(
                {"ids": ids},
                {**tags, "aiready.decision": "allow", "aiready.datasets": versions},
                latency_ms=result.latency_ms,
                empty=not ids,
                top_score=result.hits[0].score if result.hits else 0.0,
            )
        data = result.asdict()
        data.pop("decisions")
        data["trace_id"] = span.trace_id
        return dict(jsonable_encoder(data))

    def _store(item: Any, who: str) -> JSONResponse:
        stored = ws.add_feedback(item, who, wait=True)
        body = {"id": stored.id, "kind": stored.kind, "created": stored.created}
        return JSONResponse(body, status_code=201 if stored.created else 200)

    @app.post("/feedback", status_code=201)
    def feedback(body: Annotated[FeedbackBody, Body()], who: Principal) -> JSONResponse:
        return _store(body, who)

    @app.post("/decisions", status_code=201)
    def decisions(body: DecisionRecord, who: Principal) -> JSONResponse:
        return _store(body, who)

    @app.post("/outcomes", status_code=201)
    def outcomes(body: Outcome, who: Principal) -> JSONResponse:
        return _store(body, who)

    return app
