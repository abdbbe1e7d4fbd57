"""What the reports page draws: each chart's data as the page's ES module reads it (a
JSON data attribute, no script in the page), the heatmap's shades, durations as words."""

from __future__ import annotations

from datetime import datetime, time
from typing import Any

from admin_ui.i18n import N_, ngettext
from admin_ui.i18n import gettext as _
from hub.inbox.reports import Report

DAILY_LABELS = {
    "opened": N_("Opened"),
    "closed": N_("Closed"),
    "messages_in": N_("Messages in"),
    "messages_out": N_("Messages out"),
}
# The heatmap's shades: a cell's class is heat-0 (none) … heat-4 (the busiest hours).
SHADES = 4


def duration_text(minutes: float | None) -> str:
    """``None`` as a dash, else "45 s", "12 min", "3 h 05 min" or "2 d 4 h"."""
    if minutes is None:
        return "—"
    if minutes < 1:
        return _("%(num)d s") % {"num": round(minutes * 60)}
    whole = round(minutes)
    if whole < 60:
        return _("%(num)d min") % {"num": whole}
    hours, rest = divmod(whole, 60)
    if hours < 48:
        return _("%(hours)d h %(minutes)02d min") % {"hours": hours, "minutes": rest}
    days, hours = divmod(hours, 24)
    return ngettext("%(num)d d %(hours)d h", "%(num)d d %(hours)d h", days) % {
        "num": days,
        "hours": hours,
    }


def overview_chart(report: Report) -> dict[str, Any]:
    """A line per daily count, one point per local day (x: the day's local midnight)."""
    zone = report.period.zone
    return {
        "type": "line",
        "title": _("Day by day"),
        "x_label": _("Day"),
        "x": [
            int(datetime.combine(day, time(), zone).timestamp()) for day, _counts in report.daily
        ],
        "series": [
            {"label": _(label), "values": [counts[key] for _day, counts in report.daily]}
            for key, label in DAILY_LABELS.items()
        ],
    }


def breakdown_chart(report: Report) -> dict[str, Any]:
    """Bars per group: conversations closed and agent messages sent."""
    return {
        "type": "bars",
        "title": _("Closed and messages out"),
        "x_label": _("Group"),
        "labels": [row.name for row in report.rows],
        "series": [
            {"label": _("Closed"), "values": [row.summary.counts["closed"] for row in report.rows]},
            {
                "label": _("Messages out"),
                "values": [row.summary.counts["messages_out"] for row in report.rows],
            },
        ],
    }


def heat_shades(cells: list[list[int]]) -> list[list[int]]:
    """Each cell's shade from 0 (nothing) to ``SHADES`` (the busiest cell's)."""
    top = max((n for day in cells for n in day), default=0)
    if top == 0:
        return [[0] * len(day) for day in cells]
    return [[0 if n == 0 else max(1, round(n / top * SHADES)) for n in day] for day in cells]
