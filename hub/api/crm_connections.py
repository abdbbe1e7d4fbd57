"""CRM connections: connect (credentials or OAuth), list, change, disable, delete, read
the field catalog, choose the settings, run a bulk first link. Owners and managers only."""

from __future__ import annotations

from aiohttp import web

from hub import appkeys
from hub.api.bodies import read_json, read_query
from hub.api.context import current_admin, current_viewer, path_id
from hub.api.responses import json_items, json_model
from hub.api.routing import ApiRoutes, Page
from hub.api.schemas.crm import (
    BulkJobOut,
    CrmConnectionCreateBody,
    CrmConnectionOut,
    CrmConnectionPatchBody,
    CrmFieldsOut,
    OAuthCallbackQuery,
    OAuthStartOut,
)
from hub.crm import bulk, oauth
from hub.crm.engine import CrmEngine
from hub.crm.settings import CrmSettings
from hub.errors import NotFound
from hub.store.models import CrmConnection
from hub.store.types import utcnow

api = ApiRoutes("crm")
ITEM = "/api/v1/crm-connections/{connection_id}"
CALLBACK = "/api/v1/crm-connections/oauth/callback"


def _engine(request: web.Request) -> CrmEngine:
    return request.config_dict[appkeys.CRM]


def _out(engine: CrmEngine, row: CrmConnection) -> CrmConnectionOut:
    oauth_used = engine.admin.oauth_of(row) is not None
    return CrmConnectionOut.of(row, engine.admin.visible_config(row), oauth_used)


def redirect_uri(request: web.Request) -> str:
    """Where the CRM sends the admin back to (register it in the CRM's app)."""
    return f"{request.config_dict[appkeys.SETTINGS].base_url}{CALLBACK}"


@api.get("/api/v1/crm-connections", response=Page[CrmConnectionOut], errors=(403,))
async def list_(request: web.Request) -> web.Response:
    """List the CRM connections, oldest first (owners and managers)."""
    viewer = await current_viewer(request)
    engine = _engine(request)
    rows = await engine.admin.all(viewer, limit=100)
    return json_items([_out(engine, row) for row in rows])


@api.post(
    "/api/v1/crm-connections",
    body=CrmConnectionCreateBody,
    response=CrmConnectionOut,
    status=201,
    errors=(403, 502),
)
async def create(request: web.Request) -> web.Response:
    """Connect a CRM (owners and managers).

    Typed credentials (a private app token) are checked with the CRM first: 422
    `bad_credentials` when refused, 502 `crm_unavailable` when it cannot be reached;
    nothing is stored then. An OAuth type is stored as `connecting`: go on with
    `POST …/oauth/start`. 422 `type_not_available` for a type whose plugin is not built.
    """
    viewer = await current_viewer(request)
    body = await read_json(request, CrmConnectionCreateBody)
    engine = _engine(request)
    row = await engine.admin.create(viewer, body.new())
    return json_model(_out(engine, row), 201)


@api.get(ITEM, response=CrmConnectionOut, errors=(403,))
async def get(request: web.Request) -> web.Response:
    """One CRM connection; secrets in its `config` read as "********"."""
    viewer = await current_viewer(request)
    engine = _engine(request)
    row = await engine.admin.get(viewer, path_id(request, "connection_id", "CRM connection"))
    return json_model(_out(engine, row))


@api.patch(ITEM, body=CrmConnectionPatchBody, response=CrmConnectionOut, errors=(403, 502))
async def update(request: web.Request) -> web.Response:
    """Rename, disable or enable a connection, or change its config (merged over the
    stored one, and checked with the CRM again; a connection in error is `ok` again once
    its new credentials are accepted)."""
    viewer = await current_viewer(request)
    body = await read_json(request, CrmConnectionPatchBody)
    engine = _engine(request)
    connection_id = path_id(request, "connection_id", "CRM connection")
    row = await engine.admin.update(viewer, connection_id, body.changes())
    return json_model(_out(engine, row))


@api.delete(ITEM, status=204, errors=(403,))
async def delete(request: web.Request) -> web.Response:
    """Delete a connection, with its links, cached values and change history."""
    viewer = await current_viewer(request)
    await _engine(request).admin.delete(viewer, path_id(request, "connection_id", "CRM connection"))
    return web.Response(status=204)


@api.get(f"{ITEM}/fields", response=CrmFieldsOut, errors=(403, 502))
async def fields(request: web.Request) -> web.Response:
    """The CRM's contact fields (read from the CRM now; the ones read before when it
    cannot be reached, else 502 `crm_unavailable`)."""
    viewer = await current_viewer(request)
    connection_id = path_id(request, "connection_id", "CRM connection")
    items = await _engine(request).admin.catalog(viewer, connection_id)
    return json_model(CrmFieldsOut(items=items))


@api.get(f"{ITEM}/settings", response=CrmSettings, errors=(403,))
async def get_settings(request: web.Request) -> web.Response:
    """The connection's settings: shown and editable fields (null: the default set),
    the field mapping, the linking rule."""
    viewer = await current_viewer(request)
    engine = _engine(request)
    row = await engine.admin.get(viewer, path_id(request, "connection_id", "CRM connection"))
    return json_model(CrmSettings.of(row))


@api.put(f"{ITEM}/settings", body=CrmSettings, response=CrmSettings, errors=(403,))
async def put_settings(request: web.Request) -> web.Response:
    """Replace the settings; a field the CRM's catalog does not have is a 422 naming it."""
    viewer = await current_viewer(request)
    body = await read_json(request, CrmSettings)
    engine = _engine(request)
    connection_id = path_id(request, "connection_id", "CRM connection")
    row = await engine.admin.set_settings(viewer, connection_id, body)
    return json_model(CrmSettings.of(row))


@api.post(f"{ITEM}/oauth/start", response=OAuthStartOut, errors=(403, 409))
async def oauth_start(request: web.Request) -> web.Response:
    """Start the OAuth authorization (PKCE S256, state): send the admin's browser to
    `authorization_url` within ten minutes; the CRM returns to
    `/api/v1/crm-connections/oauth/callback`. 409 `not_oauth` for a credentials type."""
    viewer = await current_viewer(request)
    engine = _engine(request)
    connection_id = path_id(request, "connection_id", "CRM connection")
    url = await oauth.start(engine.admin, viewer, connection_id, redirect_uri(request))
    return json_model(OAuthStartOut(authorization_url=url, expires_at=utcnow() + oauth.STATE_TTL))


@api.get(CALLBACK, query=OAuthCallbackQuery, response=CrmConnectionOut, errors=(400, 403, 502))
async def oauth_callback(request: web.Request) -> web.Response:
    """Where the CRM returns the admin (any logged-in owner or manager): the state is
    checked and spent (400 `oauth_state_invalid`/`oauth_state_expired`), the code traded
    for tokens (stored encrypted), and the connection connected."""
    viewer = await current_admin(request)
    query = read_query(request, OAuthCallbackQuery)
    engine = _engine(request)
    row = await oauth.finish(
        engine.admin,
        viewer,
        state=query.state,
        code=query.code,
        error=query.error_description or query.error,
    )
    return json_model(_out(engine, row))


@api.post(f"{ITEM}/bulk-link", response=BulkJobOut, status=202, errors=(403, 409))
async def bulk_link(request: web.Request) -> web.Response:
    """Start linking every unlinked contact in the background (409 `job_running` while
    one runs, `crm_not_connected` unless connected); read its progress with GET."""
    await current_admin(request)
    engine = _engine(request)
    job = await bulk.start_job(engine.env, path_id(request, "connection_id", "CRM connection"))
    engine.run_bulk_soon(job.id)
    return json_model(BulkJobOut.of(job), 202)


@api.get(f"{ITEM}/bulk-link", response=BulkJobOut, errors=(403,))
async def bulk_progress(request: web.Request) -> web.Response:
    """The connection's latest bulk link job and its progress (404 when none ran)."""
    await current_admin(request)
    engine = _engine(request)
    job = await bulk.latest_job(engine.env, path_id(request, "connection_id", "CRM connection"))
    if job is None:
        raise NotFound("bulk link job")
    return json_model(BulkJobOut.of(job))
