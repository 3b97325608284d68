"""HTTP routes of the hub, grouped by caller and topic; all under protocol.API_PREFIX."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, FastAPI

from hub.routes import accounts, auth, directory, events, history, officers, requests
from hub.routes.deps import document_bearer_auth

ROUTERS = (
    auth.router,
    requests.router,
    officers.router,
    events.router,
    history.router,
    accounts.router,
    directory.router,
)


def register_routes(app: FastAPI) -> None:
    """Put every router's routes on `app`, and document their bearer authentication in OpenAPI."""
    for router in ROUTERS:
        add_routes(app, router)
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document_bearer_auth(build(), [r for router in ROUTERS for r in router.routes])
        assert app.openapi_schema is not None
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def add_routes(app: FastAPI, router: APIRouter) -> None:
    """Put `router`'s routes on `app` itself: what `app.include_router(router)` does for our
    routers (each route already carries its router's prefix, tags and dependencies), minus
    the wrapper FastAPI 0.165 puts around an included router, which matches every request
    twice and cost ~30 µs a request: 20 % of a refused claim (docs/performance.md, Hub).
    `tests/hub_unit/test_routes.py` checks that the OpenAPI document is unchanged by this.
    """
    app.router.routes.extend(router.routes)
