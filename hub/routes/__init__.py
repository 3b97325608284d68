"""HTTP routes of the hub, grouped by caller and topic; all under protocol.API_PREFIX."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from hub.routes import accounts, auth, events, history, officers, requests
from hub.routes.deps import document_bearer_auth

ROUTERS = (
    auth.router,
    requests.router,
    officers.router,
    events.router,
    history.router,
    accounts.router,
)


def register_routes(app: FastAPI) -> None:
    """Mount every router on `app`, and document their bearer authentication in OpenAPI."""
    for router in ROUTERS:
        app.include_router(router)
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document_bearer_auth(build(), [r for router in ROUTERS for r in router.routes])
        assert app.openapi_schema is not None
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
