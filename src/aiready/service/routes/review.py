"""The console's review pages: quarantined rows and pending corrections (form posts with CSRF)."""

import json
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from aiready.errors import AireadyError
from aiready.service.console import (
    RejectForm,
    ReviewForm,
    Session,
    SessionDep,
    page,
    rejecting,
    replaying,
    reviewer,
    reviewing,
    visible,
)
from aiready.service.deps import WorkspaceDep

router = APIRouter(prefix="/ui", include_in_schema=False)


@router.get("/quarantine/{dataset}")
def quarantine(request: Request, dataset: str, ws: WorkspaceDep, s: SessionDep) -> HTMLResponse:
    reviewer(ws, s, dataset)
    rows = ws.quarantine(dataset, status=None)[:200]
    for r in rows:
        r["reasons"] = ", ".join(x["code"] for x in r.get("_reasons") or [])
    return page("quarantine.html", request, title="quarantine", dataset=dataset, rows=rows)


@router.post("/quarantine/{dataset}/reject")
def reject(
    dataset: str,
    ws: WorkspaceDep,
    posted: Annotated[tuple[Session, RejectForm], Depends(rejecting)],
) -> Response:
    s, form = posted
    reviewer(ws, s, dataset)
    count = ws.reject(dataset, s.principal, rows=[(form.batch, form.row)])
    return RedirectResponse(
        f"/ui/quarantine/{dataset}?message=rejected+{count}+row", status_code=303
    )


@router.post("/quarantine/{dataset}/replay")
def replay(dataset: str, ws: WorkspaceDep, s: Annotated[Session, Depends(replaying)]) -> Response:
    reviewer(ws, s, dataset)
    [result] = ws.refine(dataset, replay_quarantine=True)
    released = result.replay.released if result.replay else 0
    return RedirectResponse(
        f"/ui/quarantine/{dataset}?message=released+{released}+rows", status_code=303
    )


@router.get("/feedback")
def feedback(request: Request, ws: WorkspaceDep, s: SessionDep) -> HTMLResponse:
    mine = visible(ws, s)
    rows = [
        {**r, "proposed": json.loads(r["payload"])["proposed_value"]}
        for r in ws.feedback.rows("correction", status="pending")
        if "read" in mine.get(r["dataset"], [])
    ]
    return page("feedback.html", request, title="feedback", rows=rows)


@router.post("/feedback/{feedback_id}")
def review(
    feedback_id: str,
    ws: WorkspaceDep,
    posted: Annotated[tuple[Session, ReviewForm], Depends(reviewing)],
) -> Response:
    s, form = posted
    row = next((r for r in ws.feedback.rows("correction") if r["id"] == feedback_id), None)
    if row is None:
        raise HTTPException(404, "no such correction")
    if "read" not in visible(ws, s).get(row["dataset"], []):
        raise HTTPException(403, f"{s.principal} may not review {row['dataset']}")
    try:
        result = ws.review_correction(feedback_id, form.decision == "accept", s.principal)
    except AireadyError as exc:
        return RedirectResponse(f"/ui/feedback?message={exc.message}", status_code=303)
    return RedirectResponse(f"/ui/feedback?message={result.status}", status_code=303)
