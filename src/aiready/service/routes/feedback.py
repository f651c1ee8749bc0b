"""Feedback, decisions and outcomes: stored once per id (201 new, 200 already stored)."""

from typing import Annotated, Any

from fastapi import APIRouter, Body
from fastapi.responses import JSONResponse
from pydantic import Field

from aiready.feedback.models import (
    Correction,
    DecisionRecord,
    Hallucination,
    Outcome,
    Rating,
    RetrievalFailure,
)
from aiready.service.deps import Principal, WorkspaceDep
from aiready.workspace import Workspace

router = APIRouter()

FeedbackBody = Annotated[
    Correction | Hallucination | RetrievalFailure | Rating, Field(discriminator="kind")
]


def _store(ws: Workspace, item: Any, who: str) -> JSONResponse:
    stored = ws.add_feedback(item, who, wait=True)
    body = {"id": stored.id, "kind": stored.kind, "created": stored.created}
    return JSONResponse(body, status_code=201 if stored.created else 200)


@router.post("/feedback", status_code=201)
def feedback(
    body: Annotated[FeedbackBody, Body()], ws: WorkspaceDep, who: Principal
) -> JSONResponse:
    return _store(ws, body, who)


@router.post("/decisions", status_code=201)
def decisions(body: DecisionRecord, ws: WorkspaceDep, who: Principal) -> JSONResponse:
    return _store(ws, body, who)


@router.post("/outcomes", status_code=201)
def outcomes(body: Outcome, ws: WorkspaceDep, who: Principal) -> JSONResponse:
    return _store(ws, body, who)
