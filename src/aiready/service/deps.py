"""What routes need, as FastAPI dependencies: the workspace, the gate, the caller, the purpose.

The app keeps one workspace and one gate in ``app.state`` (``create_app`` puts them there); a
route names what it needs in its signature and FastAPI hands it over.
"""

from typing import Annotated

from fastapi import Depends, HTTPException, Query, Request

from aiready.service.gate import Gate, client_of
from aiready.workspace import Workspace


def workspace(request: Request) -> Workspace:
    """The workspace the app serves."""
    ws: Workspace = request.app.state.ws
    return ws


def gate(request: Request) -> Gate:
    """The authentication door the API and the console share."""
    door: Gate = request.app.state.gate
    return door


WorkspaceDep = Annotated[Workspace, Depends(workspace)]
GateDep = Annotated[Gate, Depends(gate)]


def api_key(request: Request) -> str:
    """The key of ``Authorization: Bearer <key>``, else of ``X-API-Key`` ('' if neither)."""
    header = request.headers.get("authorization", "")
    key = header[7:].strip() if header.lower().startswith("bearer ") else ""
    return key or request.headers.get("x-api-key", "")


def principal(request: Request, door: GateDep) -> str:
    """Who the API key names; 429 for a client that failed too often, 401 for a bad key."""
    client = client_of(request)
    door.admit(client)
    route = request.scope.get("route")
    who = door.identify(client, api_key(request), getattr(route, "path", "") or "?").principal
    if who is None:
        raise HTTPException(
            401, "missing or invalid API key", headers={"WWW-Authenticate": "Bearer"}
        )
    return who


def purpose(purpose: Annotated[str, Query(min_length=1)]) -> str:
    """The declared purpose of a read (``?purpose=``), required and non-empty."""
    return purpose


Principal = Annotated[str, Depends(principal)]
Purpose = Annotated[str, Depends(purpose)]
