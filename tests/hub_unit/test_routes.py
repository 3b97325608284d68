"""The hub's routes are put on the app directly (hub/routes/__init__.py): same API as
`include_router` would give, without FastAPI's per-request wrapper around included routers."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi import APIRouter, FastAPI

import hub.app
import hub.routes
from hub.app import create_app
from tests.helpers.hub import test_settings


def _include(app: FastAPI, router: APIRouter) -> None:
    app.include_router(router)


def test_the_openapi_document_is_what_include_router_gives(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    direct = create_app(test_settings(tmp_path)).openapi()
    monkeypatch.setattr(hub.routes, "add_routes", _include)
    monkeypatch.setattr(hub.app, "add_routes", _include)
    included = create_app(test_settings(tmp_path)).openapi()
    assert direct == included
    assert len(direct["paths"]) > 20  # the comparison covered the whole API


def test_no_router_wrapper_is_left_between_the_app_and_its_routes(tmp_path: Path) -> None:
    app = create_app(test_settings(tmp_path))
    wrappers = [type(r).__name__ for r in app.router.routes if hasattr(r, "original_router")]
    assert wrappers == []
