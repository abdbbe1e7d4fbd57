"""A contact's CRM records for the agents' sidebar: read from the cache (never waiting
on a CRM), and edit one field with a conflict check."""

from __future__ import annotations

from aiohttp import web

from hub import appkeys
from hub.api.bodies import read_json
from hub.api.context import current_viewer, path_id
from hub.api.responses import json_model
from hub.api.routing import ApiRoutes
from hub.api.schemas.crm import (
    ContactCrmChangeOut,
    ContactCrmOut,
    ContactCrmPatchBody,
    ContactCrmRecordOut,
)
from hub.crm.settings import CrmSettings
from hub.crm.sidebar import Edit, edit_field, read_contact

api = ApiRoutes("crm")
ITEM = "/api/v1/contacts/{contact_id}/crm"


@api.get(ITEM, response=ContactCrmOut)
async def get(request: web.Request) -> web.Response:
    """The contact's record in each enabled CRM connection, from the cache: the shown
    fields (label, type, value, editable, the earlier value to revert to), record URL,
    owner, `fetched_at` and age, and the last error. Stale or missing values are
    refreshed (or the contact linked) in the background; anyone who may see the contact."""
    viewer = await current_viewer(request)
    contact_id = path_id(request, "contact_id", "contact")
    engine = request.config_dict[appkeys.CRM]
    views = await read_contact(engine.env, viewer, contact_id)
    items = []
    for view in views:
        refreshing = False
        if view.stale and view.connection.status == "ok":
            every = CrmSettings.of(view.connection).refresh_minutes * 60
            refreshing = engine.refresh_soon(view.connection.id, contact_id, every=every)
        items.append(ContactCrmRecordOut.of(view, refreshing))
    return json_model(ContactCrmOut(items=items))


@api.patch(ITEM, body=ContactCrmPatchBody, response=ContactCrmChangeOut, errors=(409, 502, 503))
async def patch(request: web.Request) -> web.Response:
    """Write one field of the contact's CRM record. The value is checked by the field's
    type first (422 naming the field); then the CRM's current value is read: when it is
    not `expected`, 409 `crm_conflict` with both (`details.expected`, `details.current`)
    and nothing is written. The change is recorded with the earlier value (a revert is a
    PATCH back to it, with the same checks) and shown in the contact's activity. 503
    `crm_busy` (with Retry-After) when rate limited, 502 when the CRM fails."""
    viewer = await current_viewer(request)
    contact_id = path_id(request, "contact_id", "contact")
    body = await read_json(request, ContactCrmPatchBody)
    engine = request.config_dict[appkeys.CRM]
    edited = await edit_field(
        engine.env,
        viewer,
        contact_id,
        Edit(body.connection_id, body.field, body.value, body.expected),
    )
    change = edited.change
    return json_model(
        ContactCrmChangeOut(
            change_id=change.id,
            connection_id=change.connection_id,
            field=change.field,
            old_value=change.old_value,
            new_value=change.new_value,
            changed_at=change.created_at,
        )
    )
