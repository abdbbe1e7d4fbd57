"""Report facts summed up, pure: counts, medians and 90th percentiles of durations,
the CSAT average and distribution, per group; the weekday by hour heatmap."""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from hub.inbox.report_facts import Fact

COUNTED = ("opened", "closed", "reopened", "messages_in", "messages_out", "sla_breaches")
TIMED = ("first_response", "next_response", "resolution")
# What the overview charts day by day.
DAILY = ("opened", "closed", "messages_in", "messages_out")


@dataclass(frozen=True)
class Durations:
    """How many, and their median and 90th percentile in minutes (None when none)."""

    count: int
    median: float | None
    p90: float | None


@dataclass
class Summary:
    """Every metric of one group of facts."""

    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COUNTED, 0))
    durations: dict[str, Durations] = field(default_factory=dict)
    sla_by_target: dict[str, int] = field(default_factory=dict)
    csat_count: int = 0
    csat_average: float | None = None
    csat_distribution: dict[int, int] = field(default_factory=dict)


def percentile(values: Sequence[float], share: float) -> float | None:
    """The nearest-rank percentile: the smallest value with at least ``share`` of the
    values at or below it (None for no values)."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(math.ceil(share * len(ordered)), 1) - 1]


def durations(values: Sequence[float]) -> Durations:
    """The median (the mean of the middle two for an even count) and p90 of ``values``."""
    if not values:
        return Durations(0, None, None)
    return Durations(len(values), statistics.median(values), percentile(values, 0.9))


def summarize(facts: Iterable[Fact]) -> Summary:
    """One group's metrics."""
    summary = Summary()
    timed: dict[str, list[float]] = {name: [] for name in TIMED}
    ratings: list[int] = []
    for f in facts:
        if f.metric in summary.counts:
            summary.counts[f.metric] += 1
        if f.metric in timed and f.value is not None:
            timed[f.metric].append(f.value)
        if f.metric == "sla_breaches" and f.tag is not None:
            summary.sla_by_target[f.tag] = summary.sla_by_target.get(f.tag, 0) + 1
        if f.metric == "csat" and f.value is not None:
            ratings.append(int(f.value))
    summary.durations = {name: durations(values) for name, values in timed.items()}
    if ratings:
        summary.csat_count = len(ratings)
        summary.csat_average = sum(ratings) / len(ratings)
        for rating in ratings:
            summary.csat_distribution[rating] = summary.csat_distribution.get(rating, 0) + 1
    return summary


def group(
    facts: Iterable[Fact], keys: Callable[[Fact], Iterable[int | None]]
) -> dict[int | None, Summary]:
    """Facts split by ``keys`` (a fact may fall in several groups: one per label) and
    each group summed up."""
    groups: dict[int | None, list[Fact]] = defaultdict(list)
    for f in facts:
        for key in keys(f):
            groups[key].append(f)
    return {key: summarize(members) for key, members in groups.items()}


def heatmap(facts: Iterable[Fact], zone: ZoneInfo) -> list[list[int]]:
    """Inbound messages by weekday (Monday first) and hour, on the zone's wall clock."""
    cells = [[0] * 24 for _ in range(7)]
    for f in facts:
        if f.metric == "messages_in":
            local = f.at.astimezone(zone)
            cells[local.weekday()][local.hour] += 1
    return cells


def daily(
    facts: Iterable[Fact], first: date, last: date, zone: ZoneInfo
) -> list[tuple[date, dict[str, int]]]:
    """The ``DAILY`` counts of every local day from ``first`` to ``last`` (days with
    nothing included, so a chart's days are evenly spaced)."""
    days = {
        first + timedelta(days=n): dict.fromkeys(DAILY, 0) for n in range((last - first).days + 1)
    }
    for f in facts:
        if f.metric in DAILY:
            counts = days.get(f.at.astimezone(zone).date())
            if counts is not None:
                counts[f.metric] += 1
    return list(days.items())
