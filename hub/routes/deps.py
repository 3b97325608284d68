"""Shared FastAPI dependencies: the service and the authenticated caller."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends, Path, Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool

from hub.service import Caller, HubService
from hub.writer import Writer

BEARER_SCHEME = "HTTPBearer"
BEARER_SCHEME_DOC = {
    "type": "http",
    "scheme": "bearer",
    "description": "op_… (operator) or dev_… (device) token",
}


async def get_service(request: Request) -> HubService:
    """The running hub's service object (async: no thread-pool hop for a plain lookup)."""
    service: HubService = request.app.state.hub.service
    return service


async def run_quick_read[**P, T](
    service: HubService, read: Callable[P, T], *args: P.args, **kwargs: P.kwargs
) -> T:
    """Run a short indexed read: inline on the event loop when the database is a local SQLite
    file, else in the thread pool.

    Why inline: each thread-pool hop costs a queue hand-off plus a fight for the GIL with the
    event loop, which under load cost more than the read itself (docs/performance.md). A WAL
    reader never waits for the writer, so the loop is held only for the read's own ~0.2 ms.
    """
    if service.db.is_local_sqlite:
        return read(*args, **kwargs)
    return await run_in_threadpool(read, *args, **kwargs)


def bearer_token(request: Request) -> str | None:
    """The token of an `Authorization: Bearer <token>` header, or None."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        return None
    return token


async def get_caller(request: Request) -> Caller:
    """The authenticated caller, or 401 (async: see `run_quick_read`).

    Reads the header itself rather than through FastAPI's `HTTPBearer` dependency: every API call
    runs this, and each extra dependency costs FastAPI more to resolve than the token lookup
    (docs/performance.md). `document_bearer_auth` puts the scheme back into the OpenAPI document.
    """
    service: HubService = request.app.state.hub.service
    return await run_quick_read(service, service.authenticate, bearer_token(request))


def _uses_caller(dependant: Dependant) -> bool:
    return any(d.call is get_caller or _uses_caller(d) for d in dependant.dependencies)


def document_bearer_auth(schema: dict[str, Any], routes: list[Any]) -> None:
    """Mark every operation that authenticates through `get_caller` as needing the bearer token."""
    schema.setdefault("components", {}).setdefault("securitySchemes", {})[BEARER_SCHEME] = (
        BEARER_SCHEME_DOC
    )
    for route in routes:
        if isinstance(route, APIRoute) and _uses_caller(route.dependant):
            operations = schema["paths"].get(route.path_format, {})
            for method in route.methods or ():
                if method.lower() in operations:
                    operations[method.lower()]["security"] = [{BEARER_SCHEME: []}]


async def get_writer(request: Request) -> Writer:
    """The hub's writer (hub/writer.py): where async routes run write use cases."""
    writer: Writer = request.app.state.hub.writer
    return writer


ServiceDep = Annotated[HubService, Depends(get_service)]
WriterDep = Annotated[Writer, Depends(get_writer)]
CallerDep = Annotated[Caller, Depends(get_caller)]


# Ids are 64-bit signed in the database; anything larger is a 422, never an overflow (500).
MAX_ID = 2**63 - 1
IdPath = Annotated[int, Path(ge=1, le=MAX_ID)]

# FastAPI's type for the `responses=` documentation of error bodies.
Responses = dict[int | str, dict[str, Any]]
