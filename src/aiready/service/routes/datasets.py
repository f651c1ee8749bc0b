"""What a caller may see: the datasets it may use for a purpose, and one dataset's context."""

from typing import Any

from fastapi import APIRouter
from fastapi.encoders import jsonable_encoder

from aiready.policy import audit
from aiready.service.deps import Principal, Purpose, WorkspaceDep

router = APIRouter()


@router.get("/datasets")
def datasets(ws: WorkspaceDep, who: Principal, purpose: Purpose) -> dict[str, Any]:
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


@router.get("/datasets/{name}/context")
def context(name: str, ws: WorkspaceDep, who: Principal, purpose: Purpose) -> dict[str, Any]:
    return dict(jsonable_encoder(ws.context(name, who, purpose)))
