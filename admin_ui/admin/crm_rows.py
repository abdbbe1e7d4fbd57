"""What every CRM admin page shares: the service, a connection as a row, the path's
connection."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from admin_ui.access import viewer_of
from admin_ui.i18n import gettext as _
from hub import appkeys
from hub.api.context import path_id
from hub.crm.connections import CrmAdmin
from hub.crm.engine import CrmEngine
from hub.store.models import CrmConnection

SECTION = "crm"
"""The admin menu entry the CRM pages mark current."""


def crm_admin(request: web.Request) -> CrmAdmin:
    """The service behind every CRM page."""
    engine: CrmEngine = request.config_dict[appkeys.CRM]
    return engine.admin


def crm_title(request: web.Request, type_name: str) -> str:
    """A CRM type's title; its bare name when the type is not installed."""
    found = crm_admin(request).env.instances.types.get(type_name)
    return found.title if found is not None else type_name


@dataclass(frozen=True)
class ConnectionRow:
    """One connection as the list and its page show it."""

    connection: CrmConnection
    type_title: str
    state: str
    """ok, connecting, error or disabled: what the status badge says."""
    reason: str | None
    oauth: bool


def row_of(request: web.Request, connection: CrmConnection) -> ConnectionRow:
    """Describe ``connection``: a disabled one reads "disabled" whatever its status, so
    the admin sees at once that agents do not see it."""
    admin = crm_admin(request)
    installed = connection.type in admin.env.instances.types
    reason = connection.status_reason
    if not installed:
        state, reason = (
            "error",
            _("its type %(type)s is not installed") % {"type": repr(connection.type)},
        )
    elif not connection.enabled:
        state = "disabled"
    elif connection.status in ("ok", "connecting"):
        state = connection.status
    else:
        state = "error"
        reason = reason or _("the CRM reported an error")
    oauth = installed and admin.oauth_of(connection) is not None
    return ConnectionRow(connection, crm_title(request, connection.type), state, reason, oauth)


async def connection_of(request: web.Request) -> CrmConnection:
    """The connection the path names (a 404 page when there is none)."""
    connection_id = path_id(request, "connection_id", "CRM connection")
    return await crm_admin(request).get(viewer_of(request), connection_id)
