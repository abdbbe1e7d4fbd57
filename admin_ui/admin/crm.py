"""CRM connections: the list, one connection's page, disable / enable, delete.

Everything goes through ``CrmAdmin``, the service the REST API uses. The connection's
settings (field picker, mapping, linking rule) and the bulk link are on its page too,
in ``crm_settings``; connecting (credentials form, OAuth) is in ``crm_connect``.
"""

from __future__ import annotations

from aiohttp import web

from admin_ui.access import viewer_of
from admin_ui.admin.crm_rows import SECTION, connection_of, crm_admin, crm_title, row_of
from admin_ui.admin.crm_settings import show_page
from admin_ui.i18n import gettext as _
from admin_ui.rendering import redirect, render
from admin_ui.urls import page_url
from hub.api.context import path_id
from hub.crm.connections import ConnectionChanges

routes = web.RouteTableDef()
ITEM = r"/admin/crm/{connection_id:\d+}"


@routes.get("/admin/crm", name="admin.crm")
async def connection_list(request: web.Request) -> web.StreamResponse:
    """Every CRM connection with its status, oldest first."""
    rows = await crm_admin(request).all(viewer_of(request), limit=100)
    context = {"section": SECTION, "rows": [row_of(request, row) for row in rows]}
    return await render(request, "admin/crm/list.html", context)


@routes.get(ITEM, name="admin.crm.connection")
async def connection_page(request: web.Request) -> web.StreamResponse:
    """One connection: status, actions, the field picker, mapping, linking, bulk link."""
    return await show_page(request, await connection_of(request))


@routes.get(f"{ITEM}/disable", name="admin.crm.disable")
async def disable_confirm(request: web.Request) -> web.StreamResponse:
    """Ask before disabling, saying what stops."""
    connection = await connection_of(request)
    page = page_url(request, "admin.crm.connection", connection_id=connection.id)
    if not connection.enabled:
        return redirect(
            request, page, ("info", _("%(name)s is disabled already.") % {"name": connection.name})
        )
    context = {
        "section": SECTION,
        "heading": _("Disable %(name)s?") % {"name": connection.name},
        "message": _("%(name)s stops syncing until you enable it again.")
        % {"name": connection.name},
        "details": [
            _("Agents no longer see its records in the contact panel."),
            _("Nothing is read from or written to the CRM; closed conversations are not logged."),
            "Links, cached values and settings are kept: enabling it picks up where it was.",
        ],
        "action": page_url(request, "admin.crm.disable", connection_id=connection.id),
        "confirm_label": _("Disable connection"),
        "cancel_url": page,
    }
    return await render(request, "admin/confirm.html", context)


@routes.post(f"{ITEM}/disable")
async def disable(request: web.Request) -> web.StreamResponse:
    """Disable the connection."""
    connection_id = path_id(request, "connection_id", "CRM connection")
    saved = await crm_admin(request).update(
        viewer_of(request), connection_id, ConnectionChanges(enabled=False)
    )
    page = page_url(request, "admin.crm.connection", connection_id=connection_id)
    return redirect(request, page, ("success", _("%(name)s is disabled.") % {"name": saved.name}))


@routes.post(f"{ITEM}/enable", name="admin.crm.enable")
async def enable(request: web.Request) -> web.StreamResponse:
    """Enable the connection again."""
    connection_id = path_id(request, "connection_id", "CRM connection")
    saved = await crm_admin(request).update(
        viewer_of(request), connection_id, ConnectionChanges(enabled=True)
    )
    page = page_url(request, "admin.crm.connection", connection_id=connection_id)
    return redirect(request, page, ("success", _("%(name)s is enabled.") % {"name": saved.name}))


@routes.get(f"{ITEM}/delete", name="admin.crm.delete")
async def delete_confirm(request: web.Request) -> web.StreamResponse:
    """Ask before deleting, saying what goes and what stays."""
    connection = await connection_of(request)
    page = page_url(request, "admin.crm.connection", connection_id=connection.id)
    title = crm_title(request, connection.type)
    context = {
        "section": SECTION,
        "heading": _("Delete %(name)s?") % {"name": connection.name},
        "message": _("Delete the CRM connection %(name)s (%(type)s).")
        % {"name": connection.name, "type": title},
        "details": [
            _("Its links to CRM records, cached values and change history are deleted."),
            _("The records in %(type)s are not touched.") % {"type": title},
            _("This cannot be undone: to use the account again, connect it again."),
        ],
        "action": page_url(request, "admin.crm.delete", connection_id=connection.id),
        "confirm_label": _("Delete connection"),
        "cancel_url": page,
    }
    return await render(request, "admin/confirm.html", context)


@routes.post(f"{ITEM}/delete")
async def delete(request: web.Request) -> web.StreamResponse:
    """Delete the connection and go back to the list."""
    connection = await connection_of(request)
    await crm_admin(request).delete(viewer_of(request), connection.id)
    text = _("%(name)s is deleted. The records in the CRM are untouched.") % {
        "name": connection.name
    }
    return redirect(request, page_url(request, "admin.crm"), ("success", text))
