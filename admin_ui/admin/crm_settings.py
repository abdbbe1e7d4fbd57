"""One CRM connection's settings as a form: the field picker (which fields the agents'
panel shows, which they may edit), the field mapping with directions, the linking rule;
re-reading the field catalog, and the bulk link of existing contacts with its progress.

The form is read back into ``CrmSettings`` and saved with ``CrmAdmin.set_settings``, the
very checks ``PUT /api/v1/crm-connections/{id}/settings`` runs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from admin_ui.access import viewer_of
from admin_ui.admin import config_form
from admin_ui.admin.crm_rows import SECTION, connection_of, crm_admin, row_of
from admin_ui.i18n import N_, ngettext
from admin_ui.i18n import gettext as _
from admin_ui.rendering import redirect, render
from admin_ui.urls import page_url
from hub import appkeys
from hub.api.bodies import validate
from hub.api.context import path_id
from hub.contract.crm import CrmField
from hub.crm import bulk
from hub.crm.settings import (
    HUB_FIELDS,
    NEVER_EDITABLE_TYPES,
    CrmSettings,
    FieldMapping,
    LinkingRule,
    catalog_of,
)
from hub.errors import HubError
from hub.store.models import CrmBulkJob, CrmConnection

routes = web.RouteTableDef()
ITEM = r"/admin/crm/{connection_id:\d+}"
BLANK_MAPPINGS = 2
"""Empty mapping rows under the saved ones: the admin fills one in to add a mapping."""
DIRECTIONS = [
    ("both", N_("Both ways")),
    ("pull", N_("CRM → hub")),
    ("push", N_("Hub → CRM")),
]


@dataclass(frozen=True)
class FieldRow:
    """One CRM field in the picker."""

    field: CrmField
    shown: bool
    editable: bool
    can_edit: bool
    """Whether agents could ever edit it (the CRM allows it; never emails and phones)."""


@dataclass(frozen=True)
class MappingRow:
    """One row of the mapping table (blank ones add a mapping)."""

    hub_field: str
    crm_field: str
    direction: str


def field_rows(catalog: list[CrmField], settings: CrmSettings) -> list[FieldRow]:
    """The catalog with what is chosen: shown fields first, in their order."""
    shown = settings.shown(catalog)
    shown_names = [f.name for f in shown]
    rest = [f for f in catalog if f.name not in shown_names]
    rows = []
    for item in [*shown, *rest]:
        can_edit = item.editable and item.type not in NEVER_EDITABLE_TYPES
        is_shown = item.name in shown_names
        rows.append(FieldRow(item, is_shown, is_shown and settings.is_editable(item), can_edit))
    return rows


def mapping_rows(settings: CrmSettings) -> list[MappingRow]:
    """The saved mappings and blank rows to add more."""
    rows = [MappingRow(m.hub_field, m.crm_field, m.direction) for m in settings.mapping]
    return rows + [MappingRow("", "", "both")] * BLANK_MAPPINGS


async def _latest_job(request: web.Request, connection_id: int) -> CrmBulkJob | None:
    return await bulk.latest_job(request.config_dict[appkeys.CRM].env, connection_id)


async def page_context(
    request: web.Request,
    connection: CrmConnection,
    settings: CrmSettings | None = None,
    errors: dict[str, str] | None = None,
) -> dict[str, Any]:
    """What the connection page needs for its settings and bulk link sections."""
    catalog = catalog_of(connection)
    chosen = settings or CrmSettings.of(connection)
    return {
        "catalog": catalog,
        "field_rows": field_rows(catalog, chosen),
        "mapping_rows": mapping_rows(chosen),
        "settings": chosen,
        "hub_fields": HUB_FIELDS,
        "directions": [(value, _(label)) for value, label in DIRECTIONS],
        "crm_options": [("", _("Choose a CRM field…"))] + [(f.name, f.label) for f in catalog],
        "settings_errors": errors or {},
        "job": await _latest_job(request, connection.id),
    }


async def show_page(
    request: web.Request,
    connection: CrmConnection,
    settings: CrmSettings | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> web.Response:
    """The connection's page: its facts and actions, then the settings form (as saved,
    or as submitted with ``errors``) and the bulk link."""
    context = {
        "section": SECTION,
        "row": row_of(request, connection),
        "connection": connection,
        **await page_context(request, connection, settings, errors),
    }
    return await render(request, "admin/crm/show.html", context, status=status)


def _mapping_from(form: Mapping[str, Any]) -> list[dict[str, str]]:
    """The mapping rows filled in (a row with both fields empty is dropped: that is how
    an admin removes one)."""
    found = []
    index = 0
    while f"mapping-{index}-hub" in form:
        hub_field = str(form.get(f"mapping-{index}-hub", "")).strip()
        crm_field = str(form.get(f"mapping-{index}-crm", "")).strip()
        direction = str(form.get(f"mapping-{index}-direction", "both"))
        if hub_field or crm_field:
            found.append({"hub_field": hub_field, "crm_field": crm_field, "direction": direction})
        index += 1
    return found


def settings_data(form: Mapping[str, Any], getall: Any) -> dict[str, Any]:
    """The settings form as the JSON ``PUT …/settings`` takes (``getall`` lists a
    repeated input's values)."""
    shown = [str(v) for v in getall("show", [])]
    editable = [str(v) for v in getall("edit", []) if v in shown]
    minutes = str(form.get("refresh_minutes", "")).strip()
    return {
        "shown_fields": shown,
        "editable_fields": editable,
        "mapping": _mapping_from(form),
        "linking": {"create_when_missing": form.get("create_when_missing") == "on"},
        "refresh_minutes": minutes or 5,
        "transcripts": form.get("transcripts") == "on",
    }


def input_name(field: str) -> str:
    """The input a refusal's ``field`` names: ``mapping.0.crm_field`` → ``mapping-0-crm``,
    ``linking.create_when_missing`` → ``create_when_missing``; the field picker's lists
    → ``fields``; ``settings`` for none."""
    parts = field.split(".")
    short = {"hub_field": "hub", "crm_field": "crm", "direction": "direction"}
    if parts[0] == "mapping" and len(parts) >= 3:
        return f"mapping-{parts[1]}-{short.get(parts[2], parts[2])}"
    if parts[0] in ("shown_fields", "editable_fields"):
        return "fields"
    if parts[0] == "linking" and len(parts) > 1:
        return parts[1]
    return parts[0] if parts[0] in ("refresh_minutes", "transcripts") else "settings"


def form_errors(err: HubError) -> dict[str, str]:
    """A refusal's messages by input name (the first one for each)."""
    errors: dict[str, str] = {}
    for detail in err.details or [{"message": err.message}]:
        name = input_name(str(detail.get("field", "")))
        errors.setdefault(name, config_form.friendly(str(detail.get("message", ""))))
    return errors


@routes.post(f"{ITEM}/settings", name="admin.crm.settings")
async def save_settings(request: web.Request) -> web.StreamResponse:
    """Save the field picker, mapping and linking rule; the page again with the errors
    marked (422) when something is refused, nothing saved then."""
    connection = await connection_of(request)
    form = await request.post()
    data = settings_data(form, form.getall)
    page = page_url(request, "admin.crm.connection", connection_id=connection.id)
    try:
        settings = validate(CrmSettings, data)
        await crm_admin(request).set_settings(viewer_of(request), connection.id, settings)
    except HubError as err:
        if err.status != 422:
            raise
        draft = CrmSettings.model_construct(**_loose(data))
        return await show_page(request, connection, draft, form_errors(err), 422)
    return redirect(
        request, page, ("success", _("Saved the settings of %(name)s.") % {"name": connection.name})
    )


def _loose(data: dict[str, Any]) -> dict[str, Any]:
    """The submitted settings, kept as typed for showing them again after a refusal."""
    return {
        "shown_fields": data["shown_fields"],
        "editable_fields": data["editable_fields"],
        "mapping": [FieldMapping.model_construct(**m) for m in data["mapping"]],
        "linking": LinkingRule.model_construct(**data["linking"]),
        "refresh_minutes": data["refresh_minutes"],
        "transcripts": data["transcripts"],
    }


@routes.post(f"{ITEM}/fields", name="admin.crm.fields")
async def reread_fields(request: web.Request) -> web.StreamResponse:
    """Read the CRM's field catalog again (after fields were added in the CRM)."""
    connection_id = path_id(request, "connection_id", "CRM connection")
    page = page_url(request, "admin.crm.connection", connection_id=connection_id)
    try:
        fields = await crm_admin(request).catalog(viewer_of(request), connection_id)
    except HubError as err:
        if err.status != 502:
            raise
        return redirect(
            request,
            page,
            ("error", _("The fields could not be read: %(reason)s.") % {"reason": err.message}),
        )
    return redirect(
        request,
        page,
        (
            "success",
            ngettext(
                "Read %(num)d field from the CRM.", "Read %(num)d fields from the CRM.", len(fields)
            )
            % {"num": len(fields)},
        ),
    )


@routes.post(f"{ITEM}/bulk-link", name="admin.crm.bulk")
async def bulk_link(request: web.Request) -> web.StreamResponse:
    """Start linking every contact without a record in this CRM, in the background."""
    connection_id = path_id(request, "connection_id", "CRM connection")
    page = page_url(request, "admin.crm.connection", connection_id=connection_id)
    engine = request.config_dict[appkeys.CRM]
    try:
        job = await bulk.start_job(engine.env, connection_id)
    except HubError as err:
        if err.status != 409:
            raise
        return redirect(
            request,
            page,
            ("error", _("Linking did not start: %(reason)s.") % {"reason": err.message}),
        )
    engine.run_bulk_soon(job.id)
    text = ngettext(
        "Linking %(num)d contact in the background.",
        "Linking %(num)d contacts in the background.",
        job.total,
    ) % {"num": job.total}
    return redirect(request, page + "#bulk-heading", ("success", text))
