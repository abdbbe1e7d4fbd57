"""The API's route declarations, gathered: the OpenAPI document is built from them, and
``hub/api/route_tables`` are generated from them (``python -m hub.api.route_source``)
and checked against them (tests/test_route_tables.py).

The hub imports this module only to answer ``/api/openapi.json``: it imports every API
module. A new API module goes in ``API_MODULES``, then the tables are generated again.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from aiohttp import web

from hub.api import (
    attachments,
    audit_log,
    auth,
    bulk,
    business_hours,
    channel_types,
    channels,
    comments,
    contacts,
    conversations,
    crm_connections,
    crm_contacts,
    crm_webhooks,
    csat,
    custom_inboxes,
    drafts,
    inbound_log,
    labels,
    macros,
    media,
    messages,
    notifications,
    outbox,
    reports,
    rules,
    search,
    sla,
    snippets,
    teams,
    tokens,
    users,
    webhook_subscriptions,
    webhooks,
    workspace,
)
from hub.api.lazy_routes import LazyRoute, table_of, write_tables
from hub.api.openapi import build_openapi
from hub.api.route_files import TABLES

OPENAPI_PATH = "/api/openapi.json"
API_MODULES = (
    auth,
    tokens,
    conversations,
    bulk,
    messages,
    comments,
    drafts,
    attachments,
    notifications,
    contacts,
    users,
    teams,
    workspace,
    snippets,
    labels,
    macros,
    csat,
    sla,
    reports,
    rules,
    business_hours,
    webhook_subscriptions,
    audit_log,
    custom_inboxes,
    search,
    channel_types,
    channels,
    inbound_log,
    outbox,
    crm_connections,
    crm_contacts,
)


@cache
def api_document() -> dict[str, Any]:
    """The OpenAPI document: a pure function of the API modules, so built once, on demand."""
    return build_openapi([endpoint for module in API_MODULES for endpoint in module.api.endpoints])


async def openapi_document(request: web.Request) -> web.Response:
    """The OpenAPI 3.1 description of ``/api/v1``."""
    return web.json_response(api_document())


def declared() -> dict[str, list[LazyRoute]]:
    """Each table file's routes, as the modules declare them: ``api`` for the ``/api``
    sub-app (every endpoint, then the OpenAPI document, HEAD too), and one table for
    each sub-app that machines call."""
    endpoints = [
        web.RouteDef(e.method, e.path, e.handler, {})
        for module in API_MODULES
        for e in module.api.endpoints
    ]
    document = [web.RouteDef(m, OPENAPI_PATH, openapi_document, {}) for m in ("HEAD", "GET")]
    return {
        "api.routes": table_of([*endpoints, *document]),
        "webhooks.routes": table_of(webhooks.routes),
        "media.routes": table_of(media.routes),
        "crm_webhooks.routes": table_of(crm_webhooks.routes),
    }


if __name__ == "__main__":
    # This module's own functions by their importable name, not ``__main__``'s.
    from hub.api import route_source

    write_tables(TABLES, "hub.api.route_source", route_source.declared())
