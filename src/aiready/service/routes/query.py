"""``POST /query``: governed SQL over certified data, traced in MLflow."""

import time
from typing import Annotated, Any

from fastapi import APIRouter
from fastapi.encoders import jsonable_encoder
from pydantic import Field

from aiready.feedback.models import Short
from aiready.jsonvalues import json_rows
from aiready.policy.errors import AccessDenied
from aiready.service.deps import Principal, WorkspaceDep
from aiready.service.routes import StrictBody

router = APIRouter()


class QueryRequest(StrictBody):
    sql: Annotated[str, Field(min_length=1, max_length=100_000)]
    purpose: Short
    limit: Annotated[int, Field(ge=1, le=100_000)] = 1000


@router.post("/query")
def query(body: QueryRequest, ws: WorkspaceDep, who: Principal) -> dict[str, Any]:
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
