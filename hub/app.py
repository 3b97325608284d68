"""FastAPI application factory: routes, uniform errors, body limits, lifespan (DB, bus, reaper)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from hub import field_page
from hub.body_limit import BodyLimitMiddleware
from hub.context import HubContext
from hub.errors import HubError
from hub.routes import add_routes, register_routes
from hub.settings import HubSettings
from hub.sse_response import StreamSendMiddleware

log = logging.getLogger(__name__)

STATUS_CODES = {
    400: "invalid_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "body_too_large",
    415: "unsupported_media_type",
    422: "invalid_request",
    423: "account_locked",
    429: "rate_limited",
}


def error_response(
    status: int,
    code: str,
    detail: str,
    holder: str | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    """The one error body shape: {error, detail} (+ holder on claim conflicts)."""
    body: dict[str, Any] = {"error": code, "detail": detail}
    if holder is not None:
        body["holder"] = holder
    return JSONResponse(body, status_code=status, headers=headers)


def _validation_detail(exc: RequestValidationError) -> str:
    parts = []
    for err in exc.errors()[:5]:
        if err.get("type") == "json_invalid":
            reason = (err.get("ctx") or {}).get("error", "")
            return f"The body is not valid JSON{': ' + str(reason) if reason else ''}"
        loc = ".".join(str(p) for p in err.get("loc", ()) if p != "body")
        parts.append(f"{loc or 'body'}: {err.get('msg', 'invalid')}")
    return "; ".join(parts) or "Invalid request"


def create_app(settings: HubSettings) -> FastAPI:
    """Build the hub's ASGI app. Nothing touches the database until the lifespan starts."""
    context = HubContext(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        try:
            await run_in_threadpool(context.open)
        except Exception as exc:
            app.state.startup_error = str(exc)
            log.error("hub failed to start: %s", exc)
            raise
        context.bus.bind_loop(asyncio.get_running_loop())
        reaper = asyncio.create_task(_reap_forever(context), name="hub-reaper")
        ticker = asyncio.create_task(_tick_forever(context), name="hub-heartbeat-ticker")
        try:
            yield
        finally:
            for task in (reaper, ticker):
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await run_in_threadpool(context.close)

    app = FastAPI(
        title="Safe Connection hub",
        version="1",
        summary="Video verification of plain-clothes officers: queue, signalling, decisions, audit",
        lifespan=lifespan,
        # No OpenTelemetry here. Left on, FastAPI asks the (unconfigured) global providers on
        # every request whether tracing is set up, which reads os.environ each time: ~5 % of
        # the event loop in a claim race (docs/performance.md).
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.hub = context
    app.state.startup_error = None
    app.add_middleware(BodyLimitMiddleware)
    app.add_middleware(StreamSendMiddleware)  # added last = outermost of ours

    @app.exception_handler(HubError)
    async def _hub_error(_request: Request, exc: HubError) -> JSONResponse:
        return error_response(exc.status, exc.code, exc.detail, exc.holder)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        return error_response(422, "invalid_request", _validation_detail(exc))

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = STATUS_CODES.get(exc.status_code, "error")
        detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
        return error_response(exc.status_code, code, detail, headers=dict(exc.headers or {}))

    @app.exception_handler(Exception)
    async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
        log.error("unexpected error", exc_info=exc)
        return error_response(500, "internal_error", "The hub hit an unexpected error")

    @app.get("/healthz", tags=["meta"])
    async def healthz() -> dict[str, str]:
        """Liveness probe (no auth)."""
        return {"status": "ok"}

    register_routes(app)
    add_routes(app, field_page.router)  # the officer's browser page at /field
    return app


# Streams check for a due heartbeat on every tick: a quiet stream's heartbeat goes out between
# 1 and 1 + 1/TICKS_PER_HEARTBEAT heartbeat intervals after its last write.
TICKS_PER_HEARTBEAT = 4


async def _tick_forever(context: HubContext) -> None:
    """Wake every event stream a few times per heartbeat interval (see EventBus.tick)."""
    interval = context.settings.heartbeat_seconds / TICKS_PER_HEARTBEAT
    while True:
        await asyncio.sleep(interval)  # a timer, not synchronisation
        context.bus.tick()


async def _reap_forever(context: HubContext) -> None:
    """Every reaper interval, on a worker thread: expire unanswered requests, take back lapsed
    leases, checkpoint the WAL (HubContext.housekeeping)."""
    interval = context.settings.reaper_interval_seconds
    while True:
        try:
            await asyncio.wait_for(run_in_threadpool(context.housekeeping), timeout=30)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("housekeeping pass failed; retrying")
        await asyncio.sleep(interval)
