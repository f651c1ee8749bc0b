"""``POST /retrieve``: governed search over the indexes, traced in MLflow as a retriever span."""

from typing import Annotated, Any

from fastapi import APIRouter
from fastapi.encoders import jsonable_encoder
from pydantic import Field

from aiready.errors import NotFoundError
from aiready.feedback.models import Short
from aiready.policy.errors import AccessDenied, PolicyError
from aiready.service.deps import Principal, WorkspaceDep
from aiready.service.routes import StrictBody

router = APIRouter()


class RetrieveRequest(StrictBody):
    query: Annotated[str, Field(min_length=1, max_length=2_000)]
    purpose: Short
    k: Annotated[int, Field(ge=1, le=100)] = 10
    datasets: Annotated[list[Short], Field(max_length=50)] | None = None
    filters: dict[Short, Short] | None = None


@router.post("/retrieve")
def retrieve(body: RetrieveRequest, ws: WorkspaceDep, who: Principal) -> dict[str, Any]:
    tags = {"aiready.principal": who, "aiready.purpose": body.purpose}
    inputs = body.model_dump()
    with ws.tracer.span("retrieve", "RETRIEVER", inputs, tags) as span:
        try:
            result = ws.retrieve(body.query, who, body.purpose, body.k, body.datasets, body.filters)
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
