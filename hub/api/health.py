"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

import logging

from aiohttp import web
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from hub import appkeys
from hub.metrics import CONTENT_TYPE
from hub.store import migrate

routes = web.RouteTableDef()
log = logging.getLogger(__name__)


@routes.get("/healthz")
async def healthz(request: web.Request) -> web.Response:
    """The process is alive and serving."""
    return web.json_response({"status": "ok"})


@routes.get("/readyz")
async def readyz(request: web.Request) -> web.Response:
    """Ready for traffic: the database answers and has every migration this hub ships."""
    engine = request.config_dict[appkeys.ENGINE]
    checks: dict[str, str] = {}
    try:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
        checks["database"] = "ok"
        current = await migrate.current_revision(engine)
        head = migrate.head_revision()
        checks["migrations"] = (
            "ok"
            if current == head
            else f"at revision {current or 'none'}, this hub needs {head}: run `hub migrate`"
        )
    except (SQLAlchemyError, OSError) as err:
        log.warning("readiness check failed: %s", err)
        checks["database"] = f"unreachable: {type(err).__name__}"
    ready = all(value == "ok" for value in checks.values()) and len(checks) == 2
    return web.json_response(
        {"status": "ready" if ready else "not_ready", "checks": checks},
        status=200 if ready else 503,
    )


@routes.get("/metrics")
async def metrics(request: web.Request) -> web.Response:
    """Prometheus text exposition of the hub's metrics."""
    body = request.config_dict[appkeys.METRICS].render()
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE})
