"""The CRM tab of the contact panel: the contact's record in each enabled CRM connection,
from the cache (the page never waits on a CRM), served alone for the panel's script to
put in its slot. Edits go to ``PATCH /api/v1/contacts/{id}/crm`` from the page."""

from __future__ import annotations

from aiohttp import web

from admin_ui.access import viewer_of
from admin_ui.i18n import gettext as _
from admin_ui.i18n import ngettext
from admin_ui.rendering import render_fragment
from hub import appkeys
from hub.api.context import path_id
from hub.api.schemas.crm import ContactCrmRecordOut
from hub.crm.settings import CrmSettings
from hub.crm.sidebar import read_contact

routes = web.RouteTableDef()


def age_text(seconds: int | None) -> str:
    """How old cached values are, in words: "just now", "3 minutes ago", "2 days ago"."""
    if seconds is None:
        return _("not read yet")
    if seconds >= 86400:
        return ngettext("%(num)d day ago", "%(num)d days ago", seconds // 86400) % {
            "num": seconds // 86400
        }
    if seconds >= 3600:
        return ngettext("%(num)d hour ago", "%(num)d hours ago", seconds // 3600) % {
            "num": seconds // 3600
        }
    if seconds >= 60:
        return ngettext("%(num)d minute ago", "%(num)d minutes ago", seconds // 60) % {
            "num": seconds // 60
        }
    return _("just now")


async def crm_records(request: web.Request, contact_id: int) -> list[ContactCrmRecordOut]:
    """The contact's records as ``GET /api/v1/contacts/{id}/crm`` answers them, with
    the same background refresh of stale values."""
    engine = request.config_dict[appkeys.CRM]
    records = []
    for view in await read_contact(engine.env, viewer_of(request), contact_id):
        refreshing = False
        if view.stale and view.connection.status == "ok":
            every = CrmSettings.of(view.connection).refresh_minutes * 60
            refreshing = engine.refresh_soon(view.connection.id, contact_id, every=every)
        records.append(ContactCrmRecordOut.of(view, refreshing))
    return records


@routes.get("/inbox/contacts/{contact_id}/crm", name="inbox.contact.crm")
async def crm_tab(request: web.Request) -> web.StreamResponse:
    """The CRM tab's content (empty without an enabled connection)."""
    contact_id = path_id(request, "contact_id", "contact")
    records = await crm_records(request, contact_id)
    context = {"records": records, "contact_id": contact_id, "age_text": age_text}
    return await render_fragment(request, "inbox/_crm.html", context)
