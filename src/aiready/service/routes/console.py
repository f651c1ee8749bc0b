"""The console's pages under ``/ui``: sign-in, the catalog, a dataset, the scorecard."""

from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from aiready.catalog import catalog as catalog_entries
from aiready.catalog import search as catalog_search
from aiready.drift import latest as latest_drift
from aiready.errors import AireadyError
from aiready.policy.errors import AccessDenied
from aiready.scorecard import PROPERTIES
from aiready.service.console import (
    COOKIE,
    SESSION_S,
    SessionDep,
    SessionsDep,
    allowed,
    lineage_tree,
    page,
    visible,
)
from aiready.service.deps import GateDep, WorkspaceDep
from aiready.service.gate import client_of

router = APIRouter(prefix="/ui", include_in_schema=False)


@router.get("/login")
def login_form(request: Request) -> HTMLResponse:
    return page("login.html", request, title="sign in", error=None)


@router.post("/login")
def login(
    request: Request,
    door: GateDep,
    store: SessionsDep,
    key: Annotated[str, Form()],
    purpose: Annotated[str, Form()],
) -> Response:
    client = client_of(request)
    door.admit(client)
    found = door.identify(client, key, "/ui/login")
    if found.principal is None or found.key_id is None or not purpose.strip():
        refused = page("login.html", request, title="sign in", error="wrong key or no purpose")
        refused.status_code = 401
        return refused
    response = RedirectResponse("/ui", status_code=303)
    response.set_cookie(
        COOKIE,
        store.open(found.principal, purpose.strip(), found.key_id),
        httponly=True,
        samesite="strict",
        max_age=SESSION_S,
    )
    return response


@router.get("/logout")
def logout(request: Request, store: SessionsDep) -> Response:
    store.close(request.cookies.get(COOKIE))
    response = RedirectResponse("/ui/login", status_code=303)
    response.delete_cookie(COOKIE)
    return response


@router.get("")
def home(request: Request, ws: WorkspaceDep, s: SessionDep, q: str = "") -> HTMLResponse:
    mine = visible(ws, s)
    names = {h["name"] for h in catalog_search(ws, q)} if q else set(mine)
    entries = [
        {**e, "actions": mine[e["name"]], "description": e.get("description") or ""}
        for e in catalog_entries(ws)
        if e["name"] in mine and e["name"] in names
    ]
    return page("catalog.html", request, title="catalog", entries=entries, q=q)


@router.get("/datasets/{name}")
def dataset(request: Request, name: str, ws: WorkspaceDep, s: SessionDep) -> HTMLResponse:
    try:
        ctx = ws.context(name, s.principal, s.purpose)
    except AccessDenied as exc:
        raise HTTPException(403, exc.message) from exc
    except AireadyError as exc:
        raise HTTPException(404, exc.message) from exc
    try:
        lineage = lineage_tree(ws.lineage_of(name))
    except AireadyError:
        lineage = None
    return page(
        "dataset.html",
        request,
        title=name,
        ctx=ctx,
        evidence=ctx.get("quality") or ctx.get("certification") or {},
        drift=latest_drift(ws.paths, name),
        lineage=lineage,
        can_review=name in ws.config.datasets and allowed(ws, s, "read", name),
    )


@router.get("/score")
def score(request: Request, ws: WorkspaceDep, s: SessionDep) -> HTMLResponse:
    mine = visible(ws, s)
    card = ws.score()
    items = [i for i in card["items"] if i["name"] in mine]
    fixes = [f for f in card["workspace"]["top_fixes"] if f["target"] in mine]
    return page(
        "score.html", request, title="scorecard", items=items, fixes=fixes, properties=PROPERTIES
    )
