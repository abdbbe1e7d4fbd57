"""The application factory: wires settings, storage, plugins, HTTP client, API and UI.

The app is composed here, of a root app and sub-apps that each answer errors their way:

- root: the shared state and start-up/shutdown (``cleanup_ctx``), the request id, metrics
  and access log of every request, and the routes that belong to no section: the public
  pages (``/``, ``/login``, ``/setup``), static files, ``/ws``, ``/healthz``, ``/readyz``,
  ``/metrics``. Its errors are pages for browsers, JSON for everything else.
- ``/api``: the REST API (``/api/v1``) and ``/api/openapi.json``; JSON errors.
- ``/webhooks`` and ``/media``: for providers and bridges, no session ever looked up;
  JSON errors.
- ``/admin``: the admin pages; error pages, and the owner-or-manager guard.
- ``/inbox``: the agents' inbox and its fragments; error pages, any logged-in user.

A sub-app's request has ``request.app`` set to the sub-app: handlers read shared state with
``request.config_dict[KEY]``, which also looks in the root.

The pages' and the API's routes come from tables (``hub.api.lazy_routes``): each handler's
module is imported on its route's first request, so a start does not wait for them.
"""

from __future__ import annotations

from aiohttp import web

from admin_ui import admin_app, inbox_app, setup_pages
from hub import appkeys, wiring, wiring_jobs
from hub.api import health
from hub.api.lazy_routes import route_defs
from hub.api.middleware import json_errors, record_response, request_context
from hub.api.proxies import trusted_proxies
from hub.api.route_files import table
from hub.api.routing import mount_routes
from hub.auth.token_uses import TokenUses
from hub.demo.echo import add_echo
from hub.inbox.view_counts import CountsCache
from hub.metrics import Metrics
from hub.plugin_manager import HubPluginManager
from hub.realtime import ws
from hub.settings import Settings, ensure_secret_key
from hub.store.crypto import ConfigCipher

API = "/api"


def create_app(settings: Settings, *, plugins: HubPluginManager | None = None) -> web.Application:
    """Build the hub's aiohttp application.

    ``plugins`` lets tests inject a manager; by default every installed plugin is loaded
    from the ``hub`` entry points when the app starts.
    """
    app = web.Application(
        # The proxy middleware runs inside json_errors, so a malformed header is a 400.
        middlewares=[
            request_context,
            json_errors,
            trusted_proxies(settings.trusted_proxy_networks),
        ],
        client_max_size=settings.max_body_bytes,
    )
    app[appkeys.SETTINGS] = settings
    app.on_response_prepare.append(record_response)
    secret = ensure_secret_key(settings)
    app[appkeys.SECRET_KEY] = secret
    app[appkeys.CIPHER] = ConfigCipher(secret)
    app[appkeys.METRICS] = Metrics()
    app[appkeys.COUNTS_CACHE] = CountsCache(settings.counts_cache_seconds)
    app[appkeys.TOKEN_USES] = TokenUses()

    app.cleanup_ctx.extend(
        [
            wiring.database_context,
            wiring.http_client_context,
            wiring.plugins_context(plugins),
            wiring.bus_context,
            wiring.throttle_context,
            wiring.channels_context,
            wiring_jobs.workers_context,
            wiring_jobs.rules_context,
            wiring_jobs.hours_context,
            wiring.inbound_context,
            wiring.polling_context,
            wiring.outbox_context,
            wiring.webhooks_context,
            wiring.media_context,
            wiring.crm_context,
        ]
    )

    # The demo's loopback service: it answers only on a hub that ran ``hub demo``.
    add_echo(app)
    app.router.add_routes(health.routes)
    app.router.add_routes(ws.routes)
    ws.track_websockets(app)
    app.add_subapp(API, _api_app())
    app.add_subapp("/webhooks", _machine_app("/webhooks", "webhooks"))
    app.add_subapp("/media", _machine_app("/media", "media"))
    app.add_subapp("/crm-webhooks", _machine_app("/crm-webhooks", "crm_webhooks"))
    app.add_subapp("/admin", admin_app())
    app.add_subapp("/inbox", inbox_app())
    # Last: the root's pages, and the error pages for browsers on the root's routes.
    setup_pages(app)
    return app


def _api_app() -> web.Application:
    """``/api``: every API module's endpoints and the OpenAPI document; errors as JSON."""
    api = web.Application(middlewares=[json_errors])
    mount_routes(api.router, API, route_defs(table("api")))
    return api


def _machine_app(prefix: str, section: str) -> web.Application:
    """A sub-app that machines call (webhooks, signed media links): JSON errors and no
    more, so no session is looked up and no page rendered for an unauthenticated caller."""
    app = web.Application(middlewares=[json_errors])
    mount_routes(app.router, prefix, route_defs(table(section)))
    return app
