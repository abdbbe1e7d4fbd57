"""CSAT surveys: turn them on, set the question and the scale; the latest answers."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from admin_ui.access import viewer_of
from admin_ui.admin.people_forms import FormState, failed, id_list, text
from admin_ui.i18n import N_
from admin_ui.i18n import gettext as _
from admin_ui.rendering import redirect, render
from admin_ui.urls import page_url
from admin_ui.wording import validate_form
from hub.api.context import work
from hub.api.schemas.csat import CsatSettingsBody
from hub.errors import HubError
from hub.inbox.csat_reports import list_surveys
from hub.inbox.csat_settings import load_csat_settings, save_csat_settings
from hub.store.models import Channel

routes = web.RouteTableDef()
FIELDS = ("enabled", "question", "scale", "off_channel_ids")
SCALES: list[tuple[str, str, str]] = [
    ("5", N_("1 to 5"), N_("Very poor, poor, OK, good, excellent (the default).")),
    ("3", N_("1 to 3"), N_("Poor, OK, great: quicker to answer.")),
]
# The latest answers shown under the form.
LATEST = 10


async def _page(request: web.Request, state: FormState, status: int = 200) -> web.Response:
    async with work(request) as w:
        latest, _next = await list_surveys(
            w.db,
            viewer_of(request),
            status="answered",
            since=None,
            until=None,
            cursor=None,
            limit=LATEST,
        )
        channels = await _channels(w.db)
    context: dict[str, Any] = {
        "values": state.values,
        "errors": state.errors,
        "message": state.message,
        "scales": [(value, _(label), _(note)) for value, label, note in SCALES],
        "latest": latest,
        "channels": channels,
    }
    return await render(request, "admin/csat.html", context, status)


async def _channels(db: AsyncSession) -> list[tuple[int, str]]:
    """The channels the survey may ask on (not deleted), by name."""
    rows = await db.execute(
        select(Channel.id, Channel.name)
        .where(Channel.deleted_at.is_(None))
        .order_by(Channel.name, Channel.id)
    )
    return [(row.id, row.name) for row in rows]


def _number(raw: str) -> int | str:
    """A form's number as a number (the scale is 3 or 5), anything else as typed."""
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 4 else raw


@routes.get("/admin/csat", name="admin.csat")
async def csat_form(request: web.Request) -> web.StreamResponse:
    """The CSAT settings form with the current values, and the latest ratings."""
    async with work(request) as w:
        current = await load_csat_settings(w.db)
    values = current.model_dump(mode="json")
    values["scale"] = str(current.scale)
    return await _page(request, FormState(values))


@routes.post("/admin/csat")
async def save(request: web.Request) -> web.StreamResponse:
    """Save the settings; turning surveys on asks conversations closed from now on."""
    form = await request.post()
    values: dict[str, object] = {name: text(form, name) for name in FIELDS}
    asked = {str(i) for i in id_list(form, "ask_channel")}
    async with work(request) as w:
        off = [i for i, _ in await _channels(w.db) if str(i) not in asked]
    values["off_channel_ids"] = off
    try:
        body = validate_form(
            CsatSettingsBody,
            {
                "enabled": values["enabled"] == "on",
                "question": values["question"],
                "scale": _number(str(values["scale"] or "5")),
                "off_channel_ids": off,
            },
        )
        async with work(request) as w:
            await save_csat_settings(
                w.db,
                enabled=body.enabled,
                question=body.question,
                scale=body.scale,
                off_channel_ids=body.off_channel_ids,
                actor=viewer_of(request),
            )
    except HubError as err:
        values["enabled"] = values["enabled"] == "on"
        return await _page(request, failed(err, values, FIELDS), err.status)
    return redirect(
        request, page_url(request, "admin.csat"), ("success", _("Satisfaction survey saved."))
    )
