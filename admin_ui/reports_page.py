"""The reports page (``/reports``): a period picker and filters, a tab per breakdown, each tab a
chart with its table under it and a CSV link. Every logged-in user has it; an agent's
figures are their own (``hub.inbox.reports``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from aiohttp import web
from multidict import MultiMapping

from admin_ui.access import page_identity
from admin_ui.i18n import N_
from admin_ui.i18n import gettext as _
from admin_ui.locale_format import abbreviated_weekday_names
from admin_ui.rendering import render
from admin_ui.report_charts import (
    breakdown_chart,
    duration_text,
    heat_shades,
    overview_chart,
)
from admin_ui.report_filters import FilterForm, chosen_filters, filter_choices
from hub.api.context import work
from hub.auth.visibility import Viewer
from hub.inbox.report_period import MAX_DAYS
from hub.inbox.reports import KINDS, Kind, build_report, report_period, workspace_zone

routes = web.RouteTableDef()
TABS: dict[Kind, str] = {
    "overview": N_("Overview"),
    "agents": N_("By agent"),
    "teams": N_("By team"),
    "channels": N_("By channel"),
    "labels": N_("By label"),
    "heatmap": N_("Heatmap"),
}
DEFAULT_DAYS = 30


@dataclass
class PeriodForm:
    """The picker's values as typed, and what is wrong with them."""

    first: str
    last: str
    business_hours: bool
    kind: Kind
    # The filters as typed (``report_filters``), kept in every link the page makes.
    chosen: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)

    @classmethod
    def read(cls, query: MultiMapping[str], today: date, viewer: Viewer) -> PeriodForm:
        """The query string's values; the last ``DEFAULT_DAYS`` days when none."""
        tab = query.get("tab", "overview")
        kind: Kind = next((k for k in KINDS if k == tab), "overview")
        return cls(
            query.get("from") or (today - timedelta(days=DEFAULT_DAYS - 1)).isoformat(),
            query.get("to") or today.isoformat(),
            query.get("business_hours") == "on",
            kind,
            chosen_filters(query, viewer),
        )

    def days(self) -> tuple[date, date] | None:
        """The two days, or None with ``errors`` filled."""
        parsed: dict[str, date] = {}
        for name, value in (("from", self.first), ("to", self.last)):
            try:
                parsed[name] = date.fromisoformat(value)
            except ValueError:
                self.errors[name] = _("Enter a date as YYYY-MM-DD.")
        if self.errors:
            return None
        first, last = parsed["from"], parsed["to"]
        if last < first:
            self.errors["to"] = _("The last day cannot be before the first.")
        elif (last - first).days >= MAX_DAYS:
            self.errors["to"] = _("A report covers at most %(num)d days.") % {"num": MAX_DAYS}
        return None if self.errors else (first, last)

    def unfiltered(self) -> dict[str, str]:
        """The page's query string without the filters (the "Clear filters" link)."""
        values = {"from": self.first, "to": self.last, "tab": self.kind}
        if self.business_hours:
            values["business_hours"] = "on"
        return values

    def query(self, **changes: Any) -> dict[str, str]:
        """The page's query string with ``changes`` (a tab link)."""
        return {**self.unfiltered(), **self.chosen, **{k: str(v) for k, v in changes.items()}}


def csv_url(form: PeriodForm) -> str:
    """The API's CSV of the tab's report, filtered as the page is (the API takes the
    same filter names; the session cookie lets a browser fetch it)."""
    params = {"from": form.first, "to": form.last, "format": "csv"}
    if form.business_hours:
        params["business_hours"] = "true"
    return f"/api/v1/reports/{form.kind}?{urlencode({**params, **form.chosen})}"


@routes.get("/reports", name="reports")
async def reports(request: web.Request) -> web.StreamResponse:
    """The chosen tab's report over the chosen period (the last 30 days at first),
    narrowed by the chosen filters."""
    identity = await page_identity(request)
    viewer = Viewer.of(identity.user)
    async with work(request) as w:
        zone = await workspace_zone(w.db)
        form = PeriodForm.read(request.query, datetime.now(zone).date(), viewer)
        filters = FilterForm.check(form.chosen, await filter_choices(w.db, viewer))
        days = form.days()
        report = None
        if days is not None and not filters.errors:
            period = await report_period(w.db, *days, business_hours=form.business_hours)
            report = await build_report(w.db, viewer, form.kind, period, filters.filters)
    errors = {**form.errors, **filters.errors}
    context: dict[str, Any] = {
        "form": form,
        "filters": filters,
        "errors": errors,
        "tabs": {kind: _(label) for kind, label in TABS.items()},
        "report": report,
        "own_only": not viewer.is_admin,
        "zone": zone.key,
        "csv_url": csv_url(form),
        "duration": duration_text,
        "weekdays": abbreviated_weekday_names(),
    }
    if report is not None:
        if report.kind == "overview":
            context["chart"] = overview_chart(report)
        elif report.kind == "heatmap" and report.heatmap is not None:
            context["shades"] = heat_shades(report.heatmap)
        else:
            context["chart"] = breakdown_chart(report)
    return await render(request, "reports.html", context, 422 if errors else 200)
