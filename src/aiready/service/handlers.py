"""How errors become HTTP answers, in one place for every route."""

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from aiready.errors import AireadyError, NotFoundError
from aiready.policy.errors import AccessDenied


def _status(exc: AireadyError) -> int:
    if isinstance(exc, AccessDenied):
        return 403
    if isinstance(exc, NotFoundError):
        return 404
    return 400


async def aiready_error(request: Request, exc: AireadyError) -> JSONResponse:
    return JSONResponse(exc.attrs(), status_code=_status(exc))


async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
    # The offending input is not echoed: it may be a secret, or a value JSON cannot carry
    # (Python's parser accepts NaN and Infinity; a JSON response may not).
    detail = [
        {"loc": list(e.get("loc", ())), "msg": str(e.get("msg", "")), "type": e.get("type")}
        for e in exc.errors()
    ]
    return JSONResponse({"detail": detail}, status_code=422)


async def too_deep(request: Request, exc: RecursionError) -> JSONResponse:
    # Input nested past what a parser can walk is the caller's error, not the server's.
    return JSONResponse({"error": "input nested too deeply"}, status_code=400)


def install(app: FastAPI) -> None:
    """Register the handlers on ``app``."""
    app.exception_handler(AireadyError)(aiready_error)
    app.exception_handler(RequestValidationError)(invalid)
    app.exception_handler(RecursionError)(too_deep)
