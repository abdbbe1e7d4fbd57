"""Report facts summed up, pure: counts, medians and 90th percentiles of durations,
the CSAT average and distribution, per group; the weekday by hour heatmap."""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from hub.inbox.report_facts import Fact

COUNTED = ("opened", "closed", "reopened", "messages_in", "messages_out", "sla_breaches")
TIMED = ("first_response", "next_response", "resolution")
# What the overview charts day by day.
DAILY = ("opened", "closed", "messages_in", "messages_out")
# The charts count facts per quarter hour, then place each on the local wall clock.
SLOT_SECONDS = 900
SlotCounts = dict[tuple[str, int], int]
# (metric, local day, local hour or -1) → how many.
LocalCounts = dict[tuple[str, date, int], int]


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


@dataclass
class Tally:
    """A group's counts as SQL gives them, row by row, until they make a summary: the
    counted metrics, SLA breaches by target, CSAT answers by rating (the durations'
    medians and p90s are found apart)."""

    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COUNTED, 0))
    sla_by_target: dict[str, int] = field(default_factory=dict)
    ratings: dict[int, int] = field(default_factory=dict)

    def add(self, metric: str, tag: str | None, rating: int, n: int) -> None:
        """Count ``n`` facts of ``metric`` (``tag``: a breach's target; ``rating``: a
        CSAT answer's)."""
        if metric in self.counts:
            self.counts[metric] += n
        elif metric == "csat" and rating:
            self.ratings[rating] = self.ratings.get(rating, 0) + n
        if metric == "sla_breaches" and tag:
            self.sla_by_target[tag] = self.sla_by_target.get(tag, 0) + n

    def summary(self, durations: dict[str, Durations]) -> Summary:
        """The summary, with the durations' medians and p90s found for it."""
        summary = Summary(counts=dict(self.counts), sla_by_target=dict(self.sla_by_target))
        summary.durations = {name: durations.get(name, Durations(0, None, None)) for name in TIMED}
        csat_summary(summary, self.ratings)
        return summary


def percentile(values: Sequence[float], share: float) -> float | None:
    """The nearest-rank percentile: the smallest value with at least ``share`` of the
    values at or below it (None for no values)."""
    return _nearest_rank(sorted(values), share) if values else None


def _nearest_rank(ordered: Sequence[float], share: float) -> float:
    # Rounded first: 0.9 * 70 is 63.00000000000001 in floating point, not rank 64.
    return ordered[max(math.ceil(round(share * len(ordered), 9)), 1) - 1]


def durations(values: Sequence[float]) -> Durations:
    """The median (the mean of the middle two for an even count) and p90 of ``values``,
    sorted once (a month of a busy inbox has tens of thousands)."""
    if not values:
        return Durations(0, None, None)
    ordered = sorted(values)
    return Durations(len(ordered), statistics.median(ordered), _nearest_rank(ordered, 0.9))


def csat_summary(summary: Summary, distribution: dict[int, int]) -> None:
    """Fill the summary's CSAT fields from the count of answers per rating."""
    summary.csat_distribution = dict(sorted(distribution.items()))
    summary.csat_count = sum(distribution.values())
    if summary.csat_count:
        total = sum(rating * n for rating, n in distribution.items())
        summary.csat_average = total / summary.csat_count


def summarize(facts: Iterable[Fact], business_hours: bool = False) -> Summary:
    """One group's metrics (durations in open time when ``business_hours``)."""
    summary = Summary()
    timed: dict[str, list[float]] = {name: [] for name in TIMED}
    ratings: dict[int, int] = {}
    for f in facts:
        if f.metric in summary.counts:
            summary.counts[f.metric] += 1
        value = f.measure(business_hours)
        if f.metric in timed and value is not None:
            timed[f.metric].append(value)
        if f.metric == "sla_breaches" and f.tag is not None:
            summary.sla_by_target[f.tag] = summary.sla_by_target.get(f.tag, 0) + 1
        if f.metric == "csat" and f.value is not None:
            ratings[int(f.value)] = ratings.get(int(f.value), 0) + 1
    summary.durations = {name: durations(values) for name, values in timed.items()}
    csat_summary(summary, ratings)
    return summary


def group(
    facts: Iterable[Fact],
    keys: Callable[[Fact], Iterable[int | None]],
    business_hours: bool = False,
) -> dict[int | None, Summary]:
    """Facts split by ``keys`` (a fact may fall in several groups: one per label) and
    each group summed up."""
    groups: dict[int | None, list[Fact]] = defaultdict(list)
    for f in facts:
        for key in keys(f):
            groups[key].append(f)
    return {key: summarize(members, business_hours) for key, members in groups.items()}


def slot_of(at: datetime) -> int:
    """The quarter hour ``at`` falls in, counted from the epoch (every zone's offset is
    a whole number of quarter hours, so a slot lies within one local hour and day)."""
    return int(at.timestamp()) // SLOT_SECONDS


def slot_counts(facts: Iterable[Fact], metrics: Sequence[str]) -> SlotCounts:
    """How many facts of each of ``metrics`` fell in each slot."""
    counts: SlotCounts = defaultdict(int)
    for f in facts:
        if f.metric in metrics:
            counts[(f.metric, slot_of(f.at))] += 1
    return counts


def localize(counts: SlotCounts, zone: ZoneInfo) -> LocalCounts:
    """Slot counts placed on the zone's wall clock: by local day and hour."""
    found: LocalCounts = defaultdict(int)
    for (metric, slot), n in counts.items():
        local = datetime.fromtimestamp(slot * SLOT_SECONDS, zone)
        found[(metric, local.date(), local.hour)] += n
    return found


def heatmap(counts: LocalCounts) -> list[list[int]]:
    """Inbound messages by local weekday (Monday first) and hour."""
    cells = [[0] * 24 for _ in range(7)]
    for (metric, day, hour), n in counts.items():
        if metric == "messages_in":
            cells[day.weekday()][hour] += n
    return cells


def daily(counts: LocalCounts, first: date, last: date) -> list[tuple[date, dict[str, int]]]:
    """The ``DAILY`` counts of every local day from ``first`` to ``last`` (days with
    nothing included, so a chart's days are evenly spaced)."""
    days = {
        first + timedelta(days=n): dict.fromkeys(DAILY, 0) for n in range((last - first).days + 1)
    }
    for (metric, day, _), n in counts.items():
        if metric in DAILY and day in days:
            days[day][metric] += n
    return list(days.items())
