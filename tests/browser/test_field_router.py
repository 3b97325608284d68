"""The router that serves the field page: right files, right types, strict headers, nothing else."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from hub.field_page import CONTENT_SECURITY_POLICY, FIELD_STATIC_DIR, create_field_router


@pytest.fixture
def client() -> httpx.AsyncClient:
    app = FastAPI()
    app.include_router(create_field_router())
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://hub.test")


async def test_page_is_served_with_a_strict_content_security_policy(client: httpx.AsyncClient):
    response = await client.get("/field")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert "default-src 'self'" in CONTENT_SECURITY_POLICY
    assert "unsafe-inline" not in CONTENT_SECURITY_POLICY
    assert "unsafe-eval" not in CONTENT_SECURITY_POLICY
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert "Verify me" in response.text


@pytest.mark.parametrize(
    ("name", "media_type"),
    [
        ("app.js", "text/javascript"),
        ("field.css", "text/css"),
        ("icon.svg", "image/svg+xml"),
        ("manifest.webmanifest", "application/manifest+json"),
    ],
)
async def test_assets_are_served_with_their_media_type(
    client: httpx.AsyncClient, name: str, media_type: str
):
    response = await client.get(f"/field/{name}")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(media_type)
    assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert response.content == (FIELD_STATIC_DIR / name).read_bytes()


@pytest.mark.parametrize(
    "name", ["nope.js", "..%2Fapp.py", "..%2F..%2Fpyproject.toml", "%2Fetc%2Fpasswd", "app.js.map"]
)
async def test_unknown_or_escaping_names_are_not_found(client: httpx.AsyncClient, name: str):
    response = await client.get(f"/field/{name}")
    assert response.status_code == 404
    assert "root:" not in response.text


async def test_trailing_slash_redirects_to_the_one_page_url(client: httpx.AsyncClient):
    response = await client.get("/field/")
    assert response.status_code == 308
    assert response.headers["location"] == "/field"


def test_every_module_the_page_imports_is_served():
    """A missing module would only show as a blank page in a browser; catch it here."""
    served = {path.name for path in FIELD_STATIC_DIR.iterdir()}
    page = (FIELD_STATIC_DIR / "index.html").read_text()
    wanted = set(re.findall(r'(?:src|href)="/field/([^"]+)"', page))
    for script in FIELD_STATIC_DIR.glob("*.js"):
        wanted |= set(re.findall(r"from '\./([^']+)'", script.read_text()))
    assert wanted
    assert wanted <= served, f"missing: {wanted - served}"


def test_no_inline_script_or_style_that_the_policy_would_block():
    page = Path(FIELD_STATIC_DIR / "index.html").read_text()
    assert "<script>" not in page
    assert "style=" not in page
    assert "<style" not in page
