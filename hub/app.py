"""The application factory: wires settings, storage, plugins, HTTP client, API and UI."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from functools import cache
from typing import Any

import httpx
from aiohttp import web

from hub import __version__, appkeys
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
from hub.channels.agent_signals import SIGNALS, ProviderSignals
from hub.channels.definitions import load_declared_at_start
from hub.channels.inbound import inbound_context
from hub.channels.media import media_store_of
from hub.channels.media_jobs import media_context
from hub.channels.outbound import outbox_context
from hub.channels.polling import polling_context
from hub.channels.registry import ChannelInstances, ChannelTypes
from hub.channels.type_sync import follow_type_changes
from hub.inbox.jobs import forget_counts_on_change, run_periodically, wake_snoozes
from hub.inbox.routing import BUILTIN_NAME, DEFAULT_ROUTING
from hub.inbox.views import CountsCache
from hub.metrics import Metrics
from hub.observers import Observers
from hub.plugin_manager import HubPluginManager, load_plugins
from hub.realtime import ws
from hub.realtime.bus import create_bus
from hub.settings import Settings, ensure_secret_key
from hub.store.crypto import ConfigCipher
from hub.store.engine import create_engine, create_sessionmaker

log = logging.getLogger(__name__)
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

    app.cleanup_ctx.append(_database)
    app.cleanup_ctx.append(_http_client)
    app.cleanup_ctx.append(_plugin_context(plugins))
    app.cleanup_ctx.append(_realtime)
    app.cleanup_ctx.append(_channels)
    app.cleanup_ctx.append(_workers)
    app.cleanup_ctx.append(inbound_context)
    app.cleanup_ctx.append(polling_context)
    app.cleanup_ctx.append(outbox_context)
    app.cleanup_ctx.append(media_context)

    app.router.add_routes(health.routes)
    app.router.add_routes(webhooks.routes)
    app.router.add_routes(media.routes)
    app.router.add_routes(ws.routes)
    ws.track_websockets(app)
    for module in API_MODULES:
        module.api.add_to(app.router)
    app.router.add_get("/api/openapi.json", openapi_document)

    from admin_ui import setup_ui  # the UI is a separate package of the same distribution

    setup_ui(app)
    return app


async def _database(app: web.Application) -> AsyncIterator[None]:
    engine = create_engine(app[appkeys.SETTINGS].effective_database_url)
    app[appkeys.ENGINE] = engine
    app[appkeys.SESSIONS] = create_sessionmaker(engine)
    yield
    await engine.dispose()


async def _http_client(app: web.Application) -> AsyncIterator[None]:
    client = httpx.AsyncClient(
        timeout=httpx.Timeout(20.0, connect=10.0),
        headers={"User-Agent": f"inbox-hub/{__version__}"},
        follow_redirects=False,
    )
    app[appkeys.HTTP] = client
    yield
    await client.aclose()


async def _realtime(app: web.Application) -> AsyncIterator[None]:
    bus = create_bus(app[appkeys.SETTINGS].bus_url)
    await bus.start()
    app[appkeys.BUS] = bus
    yield
    await bus.stop()


async def _channels(app: web.Application) -> AsyncIterator[None]:
    manager = app[appkeys.PLUGINS]
    app[appkeys.CHANNELS] = ChannelInstances(
        ChannelTypes(manager.channel_types),
        app[appkeys.CIPHER],
        app[appkeys.HTTP],
        app[appkeys.SETTINGS],
        files=media_store_of(app, app[appkeys.SETTINGS]),
    )
    app[SIGNALS] = ProviderSignals(app[appkeys.SESSIONS], app[appkeys.CHANNELS])
    types = app[appkeys.CHANNELS].types
    await load_declared_at_start(app[appkeys.SESSIONS], types)
    follower = asyncio.create_task(
        follow_type_changes(app[appkeys.BUS], app[appkeys.SESSIONS], types)
    )
    yield
    follower.cancel()
    await asyncio.gather(follower, return_exceptions=True)
    await app[SIGNALS].drain()


async def _workers(app: web.Application) -> AsyncIterator[None]:
    settings = app[appkeys.SETTINGS]
    stop = asyncio.Event()
    periodic = [
        asyncio.create_task(
            run_periodically(wake_snoozes, app, every=settings.snooze_check_seconds, stop=stop)
        )
    ]
    listener = asyncio.create_task(forget_counts_on_change(app))
    yield
    stop.set()
    # Let a run in progress finish its transaction; cancel only if it hangs.
    _, late = await asyncio.wait(periodic, timeout=settings.shutdown_timeout)
    for task in [*late, listener]:
        task.cancel()
    await asyncio.gather(*periodic, listener, return_exceptions=True)
    await app[appkeys.OBSERVERS].drain(grace=settings.shutdown_timeout)


def _plugin_context(
    injected: HubPluginManager | None,
) -> Callable[[web.Application], AsyncIterator[None]]:
    async def plugins(app: web.Application) -> AsyncIterator[None]:
        settings = app[appkeys.SETTINGS]
        manager = injected or load_plugins(
            autoload=not settings.disable_plugin_autoload,
            allow=settings.plugins_allow,
            blocked=settings.plugins_blocked,
            trace=settings.plugin_trace,
        )
        # Built-ins are plugins: the core's defaults are trylast hookimpls a plugin overrides.
        manager.register_builtin(DEFAULT_ROUTING, BUILTIN_NAME)
        app[appkeys.PLUGINS] = manager
        app[appkeys.OBSERVERS] = Observers(manager.pm)
        broken = [p.name for p in manager.plugins.values() if p.status == "broken"]
        log.info(
            "plugins: %d channel types, %d CRM types%s",
            len(manager.channel_types),
            len(manager.crm_types),
            f"; broken: {', '.join(broken)}" if broken else "",
        )
        yield

    return plugins
