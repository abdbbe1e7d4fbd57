"""SLA policies: list them with how many conversations each runs on, create, edit and
delete them after a confirmation."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from admin_ui.access import viewer_of
from admin_ui.admin.people_forms import FormState, failed, text
from admin_ui.i18n import gettext as _
from admin_ui.i18n import ngettext
from admin_ui.rendering import redirect, render
from admin_ui.urls import page_url
from admin_ui.wording import validate_form
from hub.api.context import path_id, work
from hub.api.schemas.sla import SlaPolicyBody
from hub.errors import HubError
from hub.inbox import sla_policies
from hub.store.models import SlaPolicy

routes = web.RouteTableDef()
POLICY = r"/admin/sla/{policy_id:\d+}"
TARGETS = sla_policies.TARGETS
FIELDS = ("name", *TARGETS, "business_hours")


def minutes_text(minutes: int | None) -> str:
    """A target as a person reads it: "30 min", "8 h", "2 days 4 h", "—" for none."""
    if minutes is None:
        return "—"
    days, rest = divmod(minutes, 60 * 24)
    hours, mins = divmod(rest, 60)
    parts = [ngettext("%(num)d day", "%(num)d days", days) % {"num": days}] if days else []
    parts += [_("%(num)d h") % {"num": hours}] if hours else []
    parts += [_("%(num)d min") % {"num": mins}] if mins else []
    return " ".join(parts)


@routes.get("/admin/sla", name="admin.sla")
async def list_policies(request: web.Request) -> web.StreamResponse:
    """Every SLA policy by name, with its targets and usage."""
    async with work(request) as w:
        rows = await sla_policies.all_policies(w.db)
        usage = await sla_policies.usage(w.db)
    context: dict[str, Any] = {
        "policies": [(row, usage.get(row.id, 0)) for row in rows],
        "minutes_text": minutes_text,
    }
    return await render(request, "admin/sla/list.html", context)


def _values_of(policy: SlaPolicy | None) -> dict[str, object]:
    if policy is None:
        return {"name": "", **dict.fromkeys(TARGETS, ""), "business_hours": False}
    targets = {t: "" if getattr(policy, t) is None else str(getattr(policy, t)) for t in TARGETS}
    return {"name": policy.name, **targets, "business_hours": policy.business_hours}


async def _form_page(
    request: web.Request, policy_id: int | None, state: FormState | None = None, status: int = 200
) -> web.Response:
    policy = None
    count = 0
    if policy_id is not None:
        async with work(request) as w:
            policy = await sla_policies.get_policy(w.db, policy_id)
            count = (await sla_policies.usage(w.db)).get(policy_id, 0)
    state = state or FormState(_values_of(policy))
    context = {
        "policy": policy,
        "count": count,
        "values": state.values,
        "errors": state.errors,
        "message": state.message,
    }
    return await render(request, "admin/sla/form.html", context, status)


def _posted(form: Any) -> dict[str, object]:
    values: dict[str, object] = {"name": text(form, "name")}
    for target in TARGETS:
        values[target] = text(form, target).strip() or None
    values["business_hours"] = text(form, "business_hours") == "on"
    return values


@routes.get("/admin/sla/new", name="admin.sla.new")
async def new_form(request: web.Request) -> web.StreamResponse:
    """The form to create an SLA policy."""
    return await _form_page(request, None)


@routes.post("/admin/sla/new")
async def create(request: web.Request) -> web.StreamResponse:
    """Create the policy; the form again, with the errors marked, when it is refused."""
    viewer = viewer_of(request)
    values = _posted(await request.post())
    try:
        body = validate_form(SlaPolicyBody, values)
        async with work(request) as w:
            name = (await sla_policies.create_policy(w, viewer, body.fields())).name
    except HubError as err:
        return await _form_page(request, None, failed(err, values, FIELDS), err.status)
    return redirect(
        request,
        page_url(request, "admin.sla"),
        ("success", _("Created SLA policy %(name)s.") % {"name": name}),
    )


@routes.get(POLICY, name="admin.sla.policy")
async def edit_form(request: web.Request) -> web.StreamResponse:
    """A policy's page: rename it, change its targets."""
    return await _form_page(request, path_id(request, "policy_id", "sla_policy"))


@routes.post(POLICY)
async def update(request: web.Request) -> web.StreamResponse:
    """Save the policy; due times already running keep their time."""
    viewer = viewer_of(request)
    policy_id = path_id(request, "policy_id", "sla_policy")
    values = _posted(await request.post())
    try:
        body = validate_form(SlaPolicyBody, values)
        async with work(request) as w:
            name = (await sla_policies.update_policy(w, viewer, policy_id, body.fields())).name
    except HubError as err:
        if err.status == 404:
            raise
        return await _form_page(request, policy_id, failed(err, values, FIELDS), err.status)
    return redirect(
        request,
        page_url(request, "admin.sla"),
        ("success", _("Saved SLA policy %(name)s.") % {"name": name}),
    )


@routes.get(POLICY + "/delete", name="admin.sla.delete")
async def delete_confirm(request: web.Request) -> web.StreamResponse:
    """Ask before deleting a policy, saying how many conversations it runs on."""
    policy_id = path_id(request, "policy_id", "sla_policy")
    async with work(request) as w:
        policy = await sla_policies.get_policy(w.db, policy_id)
        count = (await sla_policies.usage(w.db)).get(policy_id, 0)
    runs = (
        _("It runs on no open conversation.")
        if count == 0
        else ngettext(
            "It runs on %(num)d open conversation; it will come off it, with its due time.",
            "It runs on %(num)d open conversations; it will come off them, with their due times.",
            count,
        )
        % {"num": count}
    )
    context = {
        "heading": _("Delete the SLA policy %(name)s?") % {"name": policy.name},
        "message": _("The SLA policy %(name)s will be deleted.") % {"name": policy.name}
        + " "
        + runs,
        "details": [
            _("The conversations themselves stay; their timelines keep the breaches."),
            _("Macros that apply it will refuse to run until they are changed."),
        ],
        "action": page_url(request, "admin.sla.delete", policy_id=policy_id),
        "confirm_label": _("Delete SLA policy"),
        "cancel_url": page_url(request, "admin.sla.policy", policy_id=policy_id),
        "section": "sla",
    }
    return await render(request, "admin/confirm.html", context)


@routes.post(POLICY + "/delete")
async def delete(request: web.Request) -> web.StreamResponse:
    """Delete the policy (after the confirmation page)."""
    viewer = viewer_of(request)
    policy_id = path_id(request, "policy_id", "sla_policy")
    async with work(request) as w:
        name = (await sla_policies.get_policy(w.db, policy_id)).name
        await sla_policies.delete_policy(w, viewer, policy_id)
    return redirect(
        request,
        page_url(request, "admin.sla"),
        ("success", _("Deleted SLA policy %(name)s.") % {"name": name}),
    )
