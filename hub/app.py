"""The application factory: wires settings, storage, plugins, HTTP client, API and UI."""

from __future__ import annotations

from functools import cache
from typing import Any

from aiohttp import web

from admin_ui import setup_ui
from hub import appkeys, wiring
from hub.api import (
    attachments,
    auth,
    channel_types,
    channels,
    comments,
    contacts,
    conversations,
    custom_inboxes,
    health,
    inbound_log,
    media,
    messages,
    notifications,
    outbox,
    search,
    snippets,
    teams,
    tokens,
    users,
    webhooks,
    workspace,
)
from hub.api.middleware import json_errors, record_response, request_context
from hub.api.openapi import build_openapi
from hub.auth.throttle import LoginThrottle
from hub.inbox.views import CountsCache
from hub.metrics import Metrics
from hub.plugin_manager import HubPluginManager
from hub.realtime import ws
from hub.settings import Settings, ensure_secret_key
from hub.store.crypto import ConfigCipher

API_MODULES = (
    auth,
    tokens,
    conversations,
    messages,
    comments,
    attachments,
    notifications,
    contacts,
    users,
    teams,
    workspace,
    snippets,
    custom_inboxes,
    search,
    channel_types,
    channels,
    inbound_log,
    outbox,
)


@cache
def api_document() -> dict[str, Any]:
    """The OpenAPI document: a pure function of the API modules, so built once, on demand."""
    return build_openapi([endpoint for module in API_MODULES for endpoint in module.api.endpoints])


async def openapi_document(request: web.Request) -> web.Response:
    """The OpenAPI 3.1 description of ``/api/v1``."""
    return web.json_response(api_document())


def create_app(settings: Settings, *, plugins: HubPluginManager | None = None) -> web.Application:
    """Build the hub's aiohttp application.

    ``plugins`` lets tests inject a manager; by default every installed plugin is loaded
    from the ``hub`` entry points when the app starts.
    """
    app = web.Application(
        middlewares=[request_context, json_errors], client_max_size=settings.max_body_bytes
    )
    app[appkeys.SETTINGS] = settings
    app.on_response_prepare.append(record_response)
    secret = ensure_secret_key(settings)
    app[appkeys.SECRET_KEY] = secret
    app[appkeys.CIPHER] = ConfigCipher(secret)
    app[appkeys.METRICS] = Metrics()
    app[appkeys.COUNTS_CACHE] = CountsCache(settings.counts_cache_seconds)
    app[appkeys.THROTTLE] = LoginThrottle(
        settings.login_max_failures, settings.login_window_seconds
    )

    app.cleanup_ctx.extend(
        [
            wiring.database_context,
            wiring.http_client_context,
            wiring.plugins_context(plugins),
            wiring.bus_context,
            wiring.channels_context,
            wiring.workers_context,
            wiring.inbound_context,
            wiring.polling_context,
            wiring.outbox_context,
            wiring.media_context,
        ]
    )

    app.router.add_routes(health.routes)
    app.router.add_routes(webhooks.routes)
    app.router.add_routes(media.routes)
    app.router.add_routes(ws.routes)
    ws.track_websockets(app)
    for module in API_MODULES:
        module.api.add_to(app.router)
    app.router.add_get("/api/openapi.json", openapi_document)

    setup_ui(app)
    return app
