"""The web console under ``/ui``: server-rendered pages, the same keys and policies as the API.

Sign-in takes an API key and a purpose and opens a session: an HttpOnly, SameSite=Strict cookie
naming a random server-side session (the key itself never goes into a cookie). A session lives
only as long as its key: every use checks that the key is still live, so revoking it ends the
session at once. Every page decides through the Cedar policies for the session's principal and
purpose, and every decision is audited as the API's are, so a viewer sees only what policy
allows and leaves the same trace. Quarantine review needs a ``read`` permit (raw values); every
form carries a per-session CSRF token. Assets are served from the package: nothing is loaded from
a CDN.
"""

import html
import json
import secrets
import threading
import time
from dataclasses import dataclass
from importlib.resources import files
from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, PackageLoader, select_autoescape

from aiready.catalog import catalog as catalog_entries
from aiready.catalog import search as catalog_search
from aiready.drift import latest as latest_drift
from aiready.errors import AireadyError
from aiready.policy import audit
from aiready.policy.engine import Decision
from aiready.policy.errors import AccessDenied
from aiready.scorecard import PROPERTIES
from aiready.service import keys
from aiready.service.edges import Bounded
from aiready.service.gate import Gate, client_of
from aiready.workspace import Workspace

COOKIE = "aiready_session"
SESSION_S = 8 * 3600
MAX_SESSIONS = 10_000
"""Open sessions kept in memory; past it the least recently used one ends."""
PER_KEY = 20
"""Open sessions per key; signing in once more ends that key's oldest (one key cannot evict
everyone else's sessions by signing in again and again)."""


@dataclass
class Session:
    principal: str
    purpose: str
    csrf: str
    expires: float
    key_id: str


class Sessions:
    """Server-side sessions by token, bounded in total and per key."""

    def __init__(self, size: int = MAX_SESSIONS, per_key: int = PER_KEY) -> None:
        self._by_token: Bounded[str, Session] = Bounded(size)
        self._by_key: Bounded[str, list[str]] = Bounded(size)
        self.per_key = per_key
        self._lock = threading.Lock()

    def open(self, principal: str, purpose: str, key_id: str) -> str:
        token = secrets.token_urlsafe(32)
        session = Session(
            principal, purpose, secrets.token_urlsafe(16), time.time() + SESSION_S, key_id
        )
        with self._lock:
            mine = [t for t in self._by_key.get(key_id) or [] if self._by_token.peek(t)]
            cut = max(0, len(mine) - self.per_key + 1)
            for old in mine[:cut]:
                self._by_token.pop(old)
            self._by_key.put(key_id, [*mine[cut:], token])
            self._by_token.put(token, session)
        return token

    def get(self, token: str | None) -> Session | None:
        with self._lock:
            found = self._by_token.get(token or "")
            if found is not None and found.expires < time.time():
                self._by_token.pop(token or "")
                return None
            return found

    def close(self, token: str | None) -> None:
        with self._lock:
            self._by_token.pop(token or "")

    def __len__(self) -> int:
        return len(self._by_token)


def _tree(node: dict[str, Any], depth: int = 0) -> str:
    """An upstream lineage walk as nested lists (bounded depth)."""
    label = html.escape(str(node["dataset"]).rsplit("/", 1)[-1])
    if node.get("version") is not None:
        label += f" v{node['version']}"
    children = [c for run in node.get("produced_by", []) for c in run.get("inputs", [])]
    if not children or depth > 6:
        return f"<li>{label}</li>"
    inner = "".join(_tree(c, depth + 1) for c in children[:20])
    return f"<li>{label}<ul class=tree>{inner}</ul></li>"


def router(ws: Workspace, gate: Gate, sessions: Sessions | None = None) -> APIRouter:
    """The console's routes; ``gate`` is the service's authentication door."""
    env = Environment(
        loader=PackageLoader("aiready.service", "templates"), autoescape=select_autoescape()
    )
    sessions = sessions if sessions is not None else Sessions()
    ui = APIRouter(prefix="/ui", include_in_schema=False)

    def page(name: str, request: Request, **values: Any) -> HTMLResponse:
        session: Session | None = getattr(request.state, "session", None)
        body = env.get_template(name).render(
            workspace=ws.config.name,
            principal=session.principal if session else None,
            purpose=session.purpose if session else None,
            csrf=session.csrf if session else "",
            message=request.query_params.get("message"),
            **values,
        )
        return HTMLResponse(body)

    def session_of(request: Request) -> Session:
        """The live session of ``request``, or a redirect to sign in (its key checked each use)."""
        token = request.cookies.get(COOKIE)
        found = sessions.get(token)
        if found is not None and not keys.live(ws.paths, found.key_id):
            sessions.close(token)
            revoked = keys.Identity(None, found.key_id, "console session of a revoked API key")
            gate.refused(revoked, request.url.path[:200])
            found = None
        if found is None:
            raise HTTPException(303, headers={"Location": "/ui/login"})
        request.state.session = found
        return found

    def authorized(s: Session, requests: list[tuple[str, str]]) -> list[Decision]:
        """Decide (action, resource) pairs for the session and audit them all, as the API does."""
        decisions = [ws.policy.decide(s.principal, a, r, s.purpose) for a, r in requests]
        audit.append(ws.audit_path, ws.paths.locks, decisions)
        return decisions

    def allowed(s: Session, action: str, resource: str) -> bool:
        return authorized(s, [(action, resource)])[0].allowed

    def checked(request: Request, csrf: str) -> Session:
        s = session_of(request)
        if not secrets.compare_digest(csrf, s.csrf):
            raise HTTPException(403, "bad CSRF token")
        return s

    @ui.get("/login")
    def login_form(request: Request) -> HTMLResponse:
        return page("login.html", request, title="sign in", error=None)

    @ui.post("/login")
    def login(
        request: Request, key: Annotated[str, Form()], purpose: Annotated[str, Form()]
    ) -> Response:
        client = client_of(request)
        gate.admit(client)
        found = gate.identify(client, key, "/ui/login")
        if found.principal is None or found.key_id is None or not purpose.strip():
            page_ = page("login.html", request, title="sign in", error="wrong key or no purpose")
            page_.status_code = 401
            return page_
        response = RedirectResponse("/ui", status_code=303)
        response.set_cookie(
            COOKIE,
            sessions.open(found.principal, purpose.strip(), found.key_id),
            httponly=True,
            samesite="strict",
            max_age=SESSION_S,
        )
        return response

    @ui.get("/logout")
    def logout(request: Request) -> Response:
        sessions.close(request.cookies.get(COOKIE))
        response = RedirectResponse("/ui/login", status_code=303)
        response.delete_cookie(COOKIE)
        return response

    def visible(s: Session) -> dict[str, list[str]]:
        """name → the actions the session may take on it."""
        requests = [
            (a, name)
            for name in [*ws.config.datasets, *ws.config.models]
            for a in ("query", "retrieve", "read")
        ]
        out: dict[str, list[str]] = {}
        for d in authorized(s, requests):
            if d.allowed:
                out.setdefault(d.resource, []).append(d.action)
        return out

    @ui.get("")
    def home(request: Request, q: str = "") -> HTMLResponse:
        s = session_of(request)
        mine = visible(s)
        names = {h["name"] for h in catalog_search(ws, q)} if q else set(mine)
        entries = [
            {**e, "actions": mine[e["name"]], "description": e.get("description") or ""}
            for e in catalog_entries(ws)
            if e["name"] in mine and e["name"] in names
        ]
        return page("catalog.html", request, title="catalog", entries=entries, q=q)

    @ui.get("/datasets/{name}")
    def dataset(request: Request, name: str) -> HTMLResponse:
        s = session_of(request)
        try:
            ctx = ws.context(name, s.principal, s.purpose)
        except AccessDenied as exc:
            raise HTTPException(403, exc.message) from exc
        except AireadyError as exc:
            raise HTTPException(404, exc.message) from exc
        evidence = ctx.get("quality") or ctx.get("certification") or {}
        try:
            lineage = f"<ul class=tree>{_tree(ws.lineage_of(name))}</ul>"
        except AireadyError:
            lineage = "<p class=muted>no lineage yet</p>"
        can_review = name in ws.config.datasets and allowed(s, "read", name)
        return page(
            "dataset.html",
            request,
            title=name,
            ctx=ctx,
            evidence=evidence,
            drift=latest_drift(ws.paths, name),
            lineage=lineage,
            can_review=can_review,
        )

    def reviewer(s: Session, dataset: str) -> None:
        if dataset not in ws.config.datasets:
            raise HTTPException(404, f"no dataset {dataset}")
        if not allowed(s, "read", dataset):
            raise HTTPException(403, f"{s.principal} may not read {dataset} for {s.purpose!r}")

    @ui.get("/quarantine/{dataset}")
    def quarantine(request: Request, dataset: str) -> HTMLResponse:
        s = session_of(request)
        reviewer(s, dataset)
        rows = ws.quarantine(dataset, status=None)[:200]
        for r in rows:
            r["reasons"] = ", ".join(x["code"] for x in r.get("_reasons") or [])
        return page("quarantine.html", request, title="quarantine", dataset=dataset, rows=rows)

    @ui.post("/quarantine/{dataset}/reject")
    def reject(
        request: Request,
        dataset: str,
        csrf: Annotated[str, Form()],
        batch: Annotated[str, Form()],
        row: Annotated[int, Form()],
    ) -> Response:
        s = checked(request, csrf)
        reviewer(s, dataset)
        count = ws.reject(dataset, s.principal, rows=[(batch, row)])
        return RedirectResponse(
            f"/ui/quarantine/{dataset}?message=rejected+{count}+row", status_code=303
        )

    @ui.post("/quarantine/{dataset}/replay")
    def replay(request: Request, dataset: str, csrf: Annotated[str, Form()]) -> Response:
        s = checked(request, csrf)
        reviewer(s, dataset)
        [result] = ws.refine(dataset, replay_quarantine=True)
        released = result.replay.released if result.replay else 0
        return RedirectResponse(
            f"/ui/quarantine/{dataset}?message=released+{released}+rows", status_code=303
        )

    @ui.get("/feedback")
    def feedback(request: Request) -> HTMLResponse:
        s = session_of(request)
        mine = visible(s)
        rows = [
            {**r, "proposed": json.loads(r["payload"])["proposed_value"]}
            for r in ws.feedback.rows("correction", status="pending")
            if "read" in mine.get(r["dataset"], [])
        ]
        return page("feedback.html", request, title="feedback", rows=rows)

    @ui.post("/feedback/{feedback_id}")
    def review(
        request: Request,
        feedback_id: str,
        csrf: Annotated[str, Form()],
        decision: Annotated[str, Form()],
    ) -> Response:
        s = checked(request, csrf)
        row = next((r for r in ws.feedback.rows("correction") if r["id"] == feedback_id), None)
        if row is None:
            raise HTTPException(404, "no such correction")
        if "read" not in visible(s).get(row["dataset"], []):
            raise HTTPException(403, f"{s.principal} may not review {row['dataset']}")
        try:
            result = ws.review_correction(feedback_id, decision == "accept", s.principal)
        except AireadyError as exc:
            return RedirectResponse(f"/ui/feedback?message={exc.message}", status_code=303)
        return RedirectResponse(f"/ui/feedback?message={result.status}", status_code=303)

    @ui.get("/score")
    def score(request: Request) -> HTMLResponse:
        s = session_of(request)
        mine = visible(s)
        card = ws.score()
        items = [i for i in card["items"] if i["name"] in mine]
        fixes = [f for f in card["workspace"]["top_fixes"] if f["target"] in mine]
        return page(
            "score.html",
            request,
            title="scorecard",
            items=items,
            fixes=fixes,
            properties=list(PROPERTIES),
        )

    return ui


def static() -> StaticFiles:
    return StaticFiles(directory=str(files("aiready.service") / "static"))
