"""The officer's field page: a static, build-free web app the hub serves at `/field`.

The page itself holds no secrets: it is plain HTML/CSS/ES modules from `hub/static/field/`. The
device token lives only in the browser's localStorage and travels in `Authorization` headers to the
API, never in a URL. Every response from this router carries a strict Content-Security-Policy so a
compromised third-party origin can never run script in the page or read the camera.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

from fastapi import APIRouter, HTTPException
from fastapi.responses import FileResponse, RedirectResponse

FIELD_STATIC_DIR: Final = Path(__file__).resolve().parent / "static" / "field"

# `default-src 'self'` covers scripts, styles, fonts and fetch(); media from the camera and the
# peer arrive as MediaStream objects (`srcObject`), which `mediastream:`/`blob:` cover where a
# browser applies media-src to them. No inline script or style anywhere, so no 'unsafe-inline'.
CONTENT_SECURITY_POLICY: Final = (
    "default-src 'self'; "
    "script-src 'self'; "
    "style-src 'self'; "
    "img-src 'self' data: blob:; "
    "media-src 'self' blob: mediastream:; "
    "connect-src 'self'; "
    "object-src 'none'; "
    "base-uri 'none'; "
    "form-action 'self'; "
    "frame-ancestors 'none'"
)

SECURITY_HEADERS: Final = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Permissions-Policy": "camera=(self), microphone=(self), geolocation=(self)",
    # The page is tiny and changes with the hub; a stale cached script talking to a newer hub is a
    # worse failure than a few kilobytes re-fetched.
    "Cache-Control": "no-cache",
}

_MEDIA_TYPES: Final = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".webmanifest": "application/manifest+json",
}


def _asset_table(directory: Path) -> dict[str, tuple[Path, str]]:
    """Map each servable file name to (path, media type).

    Built once from a directory listing, so a request can only ever name a file that exists in the
    folder: no path joins with user input, hence no traversal.
    """
    table: dict[str, tuple[Path, str]] = {}
    if directory.is_dir():
        for path in sorted(directory.iterdir()):
            media_type = _MEDIA_TYPES.get(path.suffix)
            if path.is_file() and media_type is not None:
                table[path.name] = (path, media_type)
    return table


def create_field_router(directory: Path = FIELD_STATIC_DIR) -> APIRouter:
    """Build the router serving `/field` (the page) and `/field/<asset>` (its static files)."""
    router = APIRouter(tags=["field page"])
    assets = _asset_table(directory)

    def serve(name: str) -> FileResponse:
        found = assets.get(name)
        if found is None:
            raise HTTPException(status_code=404, detail=f"No such field page file: {name[:80]}")
        path, media_type = found
        return FileResponse(path, media_type=media_type, headers=SECURITY_HEADERS)

    @router.get("/field", include_in_schema=False)
    def field_page() -> FileResponse:
        """The officer's page (enrolment, Verify me, the call, the outcome)."""
        return serve("index.html")

    @router.get("/field/", include_in_schema=False)
    def field_page_slash() -> RedirectResponse:
        # Relative asset URLs would resolve differently under "/field/"; keep one canonical URL.
        return RedirectResponse("/field", status_code=308)

    @router.get("/field/{name}", include_in_schema=False)
    def field_asset(name: str) -> FileResponse:
        """One static file of the page, by exact name."""
        return serve(name)

    return router


router: Final = create_field_router()
