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

import secrets
import threading
import time
from dataclasses import dataclass
from importlib.resources import files
from typing import Annotated, Any

from fastapi import Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel

from aiready import templating
from aiready.policy import audit
from aiready.policy.engine import Decision
from aiready.service import keys
from aiready.service.deps import GateDep, WorkspaceDep, gate, workspace
from aiready.service.edges import Bounded
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


def sessions(request: Request) -> Sessions:
    """The app's console sessions."""
    found: Sessions = request.app.state.sessions
    return found


SessionsDep = Annotated[Sessions, Depends(sessions)]


def session(request: Request, ws: WorkspaceDep, door: GateDep, store: SessionsDep) -> Session:
    """The live session of ``request``, or a redirect to sign in (its key checked each use)."""
    token = request.cookies.get(COOKIE)
    found = store.get(token)
    if found is not None and not keys.live(ws.paths, found.key_id):
        store.close(token)
        revoked = keys.Identity(None, found.key_id, "console session of a revoked API key")
        door.refused(revoked, request.url.path[:200])
        found = None
    if found is None:
        raise HTTPException(303, headers={"Location": "/ui/login"})
    request.state.session = found
    return found


SessionDep = Annotated[Session, Depends(session)]


class Posted(BaseModel):
    """A console form: every one carries the session's CSRF token."""

    csrf: str


class RejectForm(Posted):
    batch: str
    row: int


class ReviewForm(Posted):
    decision: str


def posted(request: Request, form: Posted) -> Session:
    """The session of a form post whose CSRF token is the session's (else 403).

    Called by the form dependencies below, after FastAPI validated the form: a malformed post
    is 422 whether or not it has a session, as it was before sessions were dependencies.
    """
    s = session(request, workspace(request), gate(request), sessions(request))
    if not secrets.compare_digest(form.csrf, s.csrf):
        raise HTTPException(403, "bad CSRF token")
    return s


def replaying(request: Request, form: Annotated[Posted, Form()]) -> Session:
    return posted(request, form)


def rejecting(request: Request, form: Annotated[RejectForm, Form()]) -> tuple[Session, RejectForm]:
    return posted(request, form), form


def reviewing(request: Request, form: Annotated[ReviewForm, Form()]) -> tuple[Session, ReviewForm]:
    return posted(request, form), form


def page(name: str, request: Request, /, **values: Any) -> HTMLResponse:
    """Console template ``name`` for ``request`` (its session, if any, shown in the header)."""
    s: Session | None = getattr(request.state, "session", None)
    body = templating.render(
        "aiready.service",
        name,
        workspace=workspace(request).config.name,
        principal=s.principal if s else None,
        purpose=s.purpose if s else None,
        csrf=s.csrf if s else "",
        message=request.query_params.get("message"),
        **values,
    )
    return HTMLResponse(body)


def authorized(ws: Workspace, s: Session, requests: list[tuple[str, str]]) -> list[Decision]:
    """Decide (action, resource) pairs for the session and audit them all, as the API does."""
    decisions = [ws.policy.decide(s.principal, a, r, s.purpose) for a, r in requests]
    audit.append(ws.audit_path, ws.paths.locks, decisions)
    return decisions


def allowed(ws: Workspace, s: Session, action: str, resource: str) -> bool:
    return authorized(ws, s, [(action, resource)])[0].allowed


def visible(ws: Workspace, s: Session) -> dict[str, list[str]]:
    """name → the actions the session may take on it."""
    requests = [
        (a, name)
        for name in [*ws.config.datasets, *ws.config.models]
        for a in ("query", "retrieve", "read")
    ]
    out: dict[str, list[str]] = {}
    for d in authorized(ws, s, requests):
        if d.allowed:
            out.setdefault(d.resource, []).append(d.action)
    return out


def reviewer(ws: Workspace, s: Session, dataset: str) -> None:
    """Refuse unless ``dataset`` is a dataset whose raw rows the session may read."""
    if dataset not in ws.config.datasets:
        raise HTTPException(404, f"no dataset {dataset}")
    if not allowed(ws, s, "read", dataset):
        raise HTTPException(403, f"{s.principal} may not read {dataset} for {s.purpose!r}")


def lineage_tree(node: dict[str, Any], depth: int = 0) -> dict[str, Any]:
    """An upstream lineage walk as ``{label, children}`` nodes (bounded depth and width)."""
    label = str(node["dataset"]).rsplit("/", 1)[-1]
    if node.get("version") is not None:
        label += f" v{node['version']}"
    children = [c for run in node.get("produced_by", []) for c in run.get("inputs", [])]
    if depth > 6:
        children = []
    return {"label": label, "children": [lineage_tree(c, depth + 1) for c in children[:20]]}


def static() -> StaticFiles:
    return StaticFiles(directory=str(files("aiready.service") / "static"))
