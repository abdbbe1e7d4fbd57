"""Request id, metrics and access log, and the one error middleware (JSON, no tracebacks)."""

from __future__ import annotations

import logging
import os
import re
import time
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler

from hub import appkeys
from hub.errors import HubError
from hub.logs import request_id
from hub.store.busy import RETRY_AFTER_SECONDS, is_busy

log = logging.getLogger("hub.http")
access_log = logging.getLogger("hub.access")

_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
_STATUS_CODES = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "throttled",
}


def error_response(
    status: int, code: str, message: str, details: Any = None, headers: dict[str, str] | None = None
) -> web.Response:
    """The JSON body every error gets: ``{"error": {"code", "message", "details"}}``."""
    body = {"error": {"code": code, "message": message, "details": details}}
    return web.json_response(body, status=status, headers=headers)


def busy_response() -> web.Response:
    """503 with ``Retry-After``: the database stayed locked past its bounded wait."""
    return error_response(
        503,
        "database_busy",
        "the database is busy; retry shortly",
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


def new_request_id() -> str:
    """32 random hex digits, the form ``uuid4().hex`` gave before, at a fraction of its
    cost (no UUID object, no version bits)."""
    return os.urandom(16).hex()


REQUEST_ID = web.RequestKey("request_id", str)
REQUEST_STARTED = web.RequestKey("request_started", float)


@web.middleware
async def request_context(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Give the request an id (the caller's ``X-Request-Id`` if sane) and a start time.

    It is counted and logged when its response is prepared (``record_response``): only
    then is the status final, e.g. for files, whose 404 or 304 is decided while sending.
    """
    given = request.headers.get("X-Request-Id", "")
    rid = given if _SAFE_REQUEST_ID.match(given) else new_request_id()
    request[REQUEST_ID] = rid
    request[REQUEST_STARTED] = time.perf_counter()
    token = request_id.set(rid)
    try:
        return await handler(request)
    finally:
        request_id.reset(token)


async def record_response(request: web.Request, response: web.StreamResponse) -> None:
    """``on_response_prepare``: tag the response with the request id, count it, log it."""
    rid = request.get(REQUEST_ID)
    started = request.get(REQUEST_STARTED)
    if rid is None or started is None:
        return  # not through our middleware (e.g. a malformed HTTP request)
    response.headers["X-Request-Id"] = rid
    elapsed = time.perf_counter() - started
    resource = request.match_info.route.resource
    route = resource.canonical if resource is not None else "unmatched"
    status = response.status
    request.config_dict[appkeys.METRICS].observe_request(request.method, route, status, elapsed)
    access_log.info(
        "%s %s %s %.1fms",
        request.method,
        request.path,
        status,
        elapsed * 1000,
        extra={"method": request.method, "path": request.path, "status": status, "request_id": rid},
    )


@web.middleware
async def json_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Render every error as JSON with the right status; never leak a traceback."""
    try:
        return await handler(request)
    except HubError as err:
        return error_response(err.status, err.code, err.message, err.details, err.headers)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise  # redirects and the like pass through
        code = _STATUS_CODES.get(exc.status, "http_error")
        message = (
            exc.reason if exc.text is None or exc.text.startswith(f"{exc.status}:") else exc.text
        )
        headers = {k: v for k, v in exc.headers.items() if k.lower() in {"allow", "retry-after"}}
        return error_response(exc.status, code, message or exc.reason, None, headers)
    except Exception as err:
        if is_busy(err):
            # The bounded wait for the write lock ran out: a retry will do, not a 500.
            log.warning("database busy in %s %s", request.method, request.path)
            return busy_response()
        log.exception("unhandled error in %s %s", request.method, request.path)
        return error_response(
            500, "internal_error", f"internal error; quote request id {request_id.get()}"
        )
