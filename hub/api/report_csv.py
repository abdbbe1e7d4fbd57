"""A report as CSV: one line per group (one, ``All``, for the overview), or one per
weekday for the heatmap; durations in minutes, empty when there were none."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from hub.inbox.report_summary import Summary
from hub.inbox.reports import Report

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
COUNTS = ("opened", "closed", "reopened", "messages_in", "messages_out", "sla_breaches")
TIMES = ("first_response", "next_response", "resolution")
HEADER = (
    "id",
    "name",
    *COUNTS,
    *(f"{name}_{stat}_minutes" for name in TIMES for stat in ("median", "p90")),
    *(f"{name}_count" for name in TIMES),
    "csat_count",
    "csat_average",
)


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}".rstrip("0").rstrip(".")


def _metrics(s: Summary) -> list[str]:
    d = s.durations
    return [
        *(str(s.counts[name]) for name in COUNTS),
        *(_number(getattr(d[name], stat)) for name in TIMES for stat in ("median", "p90")),
        *(str(d[name].count) for name in TIMES),
        str(s.csat_count),
        _number(s.csat_average),
    ]


def _lines(report: Report) -> Iterator[list[str]]:
    if report.heatmap is not None:
        yield ["weekday", *(f"{hour:02d}:00" for hour in range(24))]
        for day, cells in zip(WEEKDAYS, report.heatmap, strict=True):
            yield [day, *map(str, cells)]
        return
    yield list(HEADER)
    if report.kind == "overview":
        yield ["", "All", *_metrics(report.total)]
        return
    for row in report.rows:
        yield ["" if row.key is None else str(row.key), row.name, *_metrics(row.summary)]


def report_csv(report: Report) -> str:
    """The report as CSV text (a cell starting with ``=+-@`` is quoted with a leading
    apostrophe so a spreadsheet never runs a name as a formula)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for line in _lines(report):
        writer.writerow(["'" + cell if cell[:1] in ("=", "+", "-", "@") else cell for cell in line])
    return out.getvalue()


def csv_filename(report: Report) -> str:
    """``report-agents-2026-03-01-2026-03-31.csv``."""
    period = report.period
    return f"report-{report.kind}-{period.first.isoformat()}-{period.last.isoformat()}.csv"
