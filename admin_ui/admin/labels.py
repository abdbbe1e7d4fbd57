"""Labels: list them with their usage, create, edit (rename, recolour, describe) and
delete them after a confirmation that says how many conversations carry them."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from admin_ui.access import viewer_of
from admin_ui.admin.people_forms import PAGE_SIZE, FormState, failed, text
from admin_ui.i18n import N_, ngettext
from admin_ui.i18n import gettext as _
from admin_ui.paging import page_links
from admin_ui.rendering import redirect, render
from admin_ui.urls import page_url
from admin_ui.wording import validate_form
from hub.api.context import path_id, work
from hub.api.schemas.labels import LabelCreateBody, LabelPatchBody, LabelQuery
from hub.errors import HubError
from hub.inbox import labels

routes = web.RouteTableDef()

# hub.inbox.labels.PALETTE's colour names, marked here: the hub knows no language.
COLOUR_NAMES: dict[str, str] = {
    "grey": N_("Grey"),
    "red": N_("Red"),
    "orange": N_("Orange"),
    "yellow": N_("Yellow"),
    "green": N_("Green"),
    "teal": N_("Teal"),
    "blue": N_("Blue"),
    "indigo": N_("Indigo"),
    "purple": N_("Purple"),
    "pink": N_("Pink"),
}


def colour_names() -> dict[str, str]:
    """The palette's colours, each named in the request's language."""
    return {key: _(COLOUR_NAMES.get(key, name)) for key, name in labels.PALETTE.items()}


LABEL = r"/admin/labels/{label_id:\d+}"
FIELDS = ("name", "colour", "description")


@routes.get("/admin/labels", name="admin.labels")
async def list_labels(request: web.Request) -> web.StreamResponse:
    """Labels by name with how many conversations carry each, searchable, paged."""
    q = request.query.get("q", "").strip()
    cursor = request.query.get("cursor") or None
    query = validate_form(LabelQuery, {"q": q or None, "cursor": cursor})
    async with work(request) as w:
        rows, next_cursor = await labels.list_labels(
            w.db, q=query.q, cursor=query.cursor, limit=PAGE_SIZE
        )
        counts = await labels.usage(w.db, [row.id for row in rows])
    context: dict[str, Any] = {
        "labels": [(row, counts[row.id]) for row in rows],
        "q": q,
        "palette": colour_names(),
        **page_links(page_url(request, "admin.labels"), {"q": q}, next_cursor, cursor),
    }
    return await render(request, "admin/labels/list.html", context)


async def _form_page(
    request: web.Request, label_id: int | None, state: FormState | None = None, status: int = 200
) -> web.Response:
    label = None
    count = 0
    if label_id is not None:
        async with work(request) as w:
            label = await labels.get_label(w.db, label_id)
            count = (await labels.usage(w.db, [label_id]))[label_id]
    if state is None:
        state = FormState(
            {
                "name": label.name if label else "",
                "colour": label.colour if label else "blue",
                "description": (label.description or "") if label else "",
            }
        )
    context = {
        "label": label,
        "count": count,
        "palette": colour_names(),
        "values": state.values,
        "errors": state.errors,
        "message": state.message,
    }
    return await render(request, "admin/labels/form.html", context, status)


def _posted(form: Any) -> dict[str, object]:
    return {
        "name": text(form, "name"),
        "colour": text(form, "colour"),
        "description": text(form, "description"),
    }


@routes.get("/admin/labels/new", name="admin.labels.new")
async def new_form(request: web.Request) -> web.StreamResponse:
    """The form to create a label."""
    return await _form_page(request, None)


@routes.post("/admin/labels/new")
async def create(request: web.Request) -> web.StreamResponse:
    """Create the label; the form again, with the errors marked, when it is refused."""
    viewer = viewer_of(request)
    values = _posted(await request.post())
    try:
        body = validate_form(LabelCreateBody, values)
        async with work(request) as w:
            label = await labels.create_label(
                w, viewer, name=body.name, colour=body.colour, description=body.description
            )
            name = label.name
    except HubError as err:
        return await _form_page(request, None, failed(err, values, FIELDS), err.status)
    return redirect(
        request,
        page_url(request, "admin.labels"),
        ("success", _("Created label %(name)s.") % {"name": name}),
    )


@routes.get(LABEL, name="admin.label")
async def edit_form(request: web.Request) -> web.StreamResponse:
    """A label's page: rename, recolour or describe it."""
    return await _form_page(request, path_id(request, "label_id", "label"))


@routes.post(LABEL)
async def update(request: web.Request) -> web.StreamResponse:
    """Save the label; conversations keep it (they refer to its id)."""
    viewer = viewer_of(request)
    label_id = path_id(request, "label_id", "label")
    values = _posted(await request.post())
    try:
        body = validate_form(LabelPatchBody, values)
        async with work(request) as w:
            label = await labels.update_label(w, viewer, label_id, body.changes())
            name = label.name
    except HubError as err:
        if err.status == 404:
            raise
        return await _form_page(request, label_id, failed(err, values, FIELDS), err.status)
    return redirect(
        request,
        page_url(request, "admin.labels"),
        ("success", _("Saved label %(name)s.") % {"name": name}),
    )


@routes.get(LABEL + "/delete", name="admin.label.delete")
async def delete_confirm(request: web.Request) -> web.StreamResponse:
    """Ask before deleting a label, saying how many conversations carry it."""
    label_id = path_id(request, "label_id", "label")
    async with work(request) as w:
        label = await labels.get_label(w.db, label_id)
        count = (await labels.usage(w.db, [label_id]))[label_id]
    carried = (
        _("No conversation carries it.")
        if count == 0
        else ngettext(
            "%(num)d conversation carries it; it will come off it.",
            "%(num)d conversations carry it; it will come off them.",
            count,
        )
        % {"num": count}
    )
    context = {
        "heading": _("Delete the label %(name)s?") % {"name": label.name},
        "message": _("The label %(name)s will be deleted.") % {"name": label.name} + " " + carried,
        "details": [
            _("The conversations themselves stay, with their other labels."),
            _("Their timelines keep the events that added or removed it."),
            _("Custom inboxes that match it no longer find conversations through it."),
        ],
        "action": page_url(request, "admin.label.delete", label_id=label_id),
        "confirm_label": _("Delete label"),
        "cancel_url": page_url(request, "admin.label", label_id=label_id),
        "section": "labels",
    }
    return await render(request, "admin/confirm.html", context)


@routes.post(LABEL + "/delete")
async def delete(request: web.Request) -> web.StreamResponse:
    """Delete the label (after the confirmation page)."""
    viewer = viewer_of(request)
    label_id = path_id(request, "label_id", "label")
    async with work(request) as w:
        name = (await labels.get_label(w.db, label_id)).name
        await labels.delete_label(w, viewer, label_id)
    return redirect(
        request,
        page_url(request, "admin.labels"),
        ("success", _("Deleted label %(name)s.") % {"name": name}),
    )
