"""What the reports page draws: each chart's data as the page's ES module reads it (a
JSON data attribute, no script in the page), the heatmap's shades, durations as words."""

from __future__ import annotations

from datetime import datetime, time
from typing import Any

from hub.inbox.reports import Report

DAILY_LABELS = {
    "opened": "Opened",
    "closed": "Closed",
    "messages_in": "Messages in",
    "messages_out": "Messages out",
}
# The heatmap's shades: a cell's class is heat-0 (none) … heat-4 (the busiest hours).
SHADES = 4


def duration_text(minutes: float | None) -> str:
    """``None`` as a dash, else "45 s", "12 min", "3 h 05 min" or "2 d 4 h"."""
    if minutes is None:
        return "—"
    if minutes < 1:
        return f"{round(minutes * 60)} s"
    whole = round(minutes)
    if whole < 60:
        return f"{whole} min"
    hours, rest = divmod(whole, 60)
    if hours < 48:
        return f"{hours} h {rest:02d} min"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h"


def overview_chart(report: Report) -> dict[str, Any]:
    """A line per daily count, one point per local day (x: the day's local midnight)."""
    zone = report.period.zone
    return {
        "type": "line",
        "title": "Day by day",
        "x": [int(datetime.combine(day, time(), zone).timestamp()) for day, _ in report.daily],
        "series": [
            {"label": label, "values": [counts[key] for _, counts in report.daily]}
            for key, label in DAILY_LABELS.items()
        ],
    }


def breakdown_chart(report: Report) -> dict[str, Any]:
    """Bars per group: conversations closed and agent messages sent."""
    return {
        "type": "bars",
        "title": "Closed and messages out",
        "labels": [row.name for row in report.rows],
        "series": [
            {"label": "Closed", "values": [row.summary.counts["closed"] for row in report.rows]},
            {
                "label": "Messages out",
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
