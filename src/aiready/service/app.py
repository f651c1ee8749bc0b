"""The governed door for AI systems: FastAPI over one workspace, composed of routers.

Every endpoint but ``/health`` needs an API key (``Authorization: Bearer <key>`` or
``X-API-Key``) and a declared purpose, decides through the Cedar policies and writes the audit
log. ``/retrieve`` and ``/query`` are MLflow traces; their ``trace_id`` comes back in the response.
Repeated failed authentications from one client address are answered 429 for a while; every
refusal is counted (``/metrics``) and audited as a deny. Bodies over ``MAX_BODY`` are refused 413
before anything else runs (``service.edges``). Routes live in ``service.routes``, one module per
area; what they need (workspace, caller, purpose, console session) comes through ``service.deps``
and ``service.console`` as FastAPI dependencies.
"""

from fastapi import FastAPI

from aiready.service import console, handlers
from aiready.service.edges import MAX_BODY, BodyLimit, Counters
from aiready.service.gate import FailureLimiter, Gate
from aiready.service.routes import console as console_routes
from aiready.service.routes import datasets, feedback, meta, query, retrieve, review
from aiready.workspace import Workspace

__all__ = ["MAX_BODY", "FailureLimiter", "create_app"]


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
    app.state.ws = ws
    app.state.gate = Gate(ws.paths, ws.audit_path, guard, counters)
    app.state.sessions = console.Sessions()
    handlers.install(app)
    app.include_router(console_routes.router)
    app.include_router(review.router)
    app.mount("/ui/static", console.static(), name="static")
    for area in (meta, datasets, query, retrieve, feedback):
        app.include_router(area.router)
    return app
