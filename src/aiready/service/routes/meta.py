"""Routes without a caller to authenticate: the root redirect, health and refusal counters."""

from typing import Any

from fastapi import APIRouter
from fastapi.responses import PlainTextResponse, RedirectResponse

from aiready.service.deps import GateDep, WorkspaceDep

router = APIRouter()


@router.get("/", include_in_schema=False)
def root() -> RedirectResponse:
    return RedirectResponse("/ui", status_code=307)


@router.get("/health")
def health(ws: WorkspaceDep) -> dict[str, Any]:
    return {"status": "ok", "workspace": ws.config.name}


@router.get("/metrics", response_class=PlainTextResponse)
def metrics(door: GateDep) -> str:
    """Refusal counters (401, 429, 413) in Prometheus' text format."""
    return door.counters.prometheus()
