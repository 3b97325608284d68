"""HTTP routes of the hub, grouped by caller and topic; all under protocol.API_PREFIX."""

from __future__ import annotations

from fastapi import FastAPI

from hub.routes import accounts, auth, events, history, officers, requests


def register_routes(app: FastAPI) -> None:
    """Mount every router on `app`."""
    for module in (auth, requests, officers, events, history, accounts):
        app.include_router(module.router)
