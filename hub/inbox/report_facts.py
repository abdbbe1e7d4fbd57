"""A conversation's history as report facts, pure: each thing a report counts (a
message, a closing, a first reply…) once, with its time and whom it is credited to.

The definitions are docs/reports.md's; each is one branch below. A conversation's
history is read in time order, messages and events together, so a reopen starts a new
resolution cycle, a reassignment moves the credit from then on, and a snooze is taken
out of the resolution time but not out of the contact's wait for a reply.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from hub.inbox.hours_calendar import WeeklyHours
from hub.inbox.report_period import Period, open_minutes_between

Metric = Literal[
    "opened",
    "closed",
    "reopened",
    "messages_in",
    "messages_out",
    "first_response",
    "next_response",
    "resolution",
    "sla_breaches",
    "csat",
]


@dataclass(frozen=True)
class Happening:
    """One dated thing in a conversation: a message (``kind`` ``in``/``out``, ``user_id``
    its sender) or a timeline event (its kind; ``user_id``/``team_id`` the new owner of
    an assignment; ``tag`` an SLA breach's target)."""

    at: datetime
    kind: str
    user_id: int | None = None
    team_id: int | None = None
    tag: str | None = None


@dataclass(frozen=True)
class Survey:
    """An answered CSAT survey: when it was asked, answered, and the rating."""

    asked_at: datetime
    answered_at: datetime
    rating: int


@dataclass(frozen=True)
class History:
    """What a report reads of one conversation, in time order."""

    conversation_id: int
    channel_id: int
    opened_at: datetime
    assignee_id: int | None
    team_id: int | None
    label_ids: tuple[int, ...]
    happenings: Sequence[Happening]
    survey: Survey | None = None


@dataclass(frozen=True)
class Fact:
    """One counted thing: ``value`` is minutes for a duration (``open_value`` the same
    in business hours' open time), the rating for ``csat``."""

    metric: Metric
    at: datetime
    conversation_id: int
    agent_id: int | None
    team_id: int | None
    channel_id: int
    label_ids: tuple[int, ...]
    value: float | None = None
    tag: str | None = None
    open_value: float | None = None

    def measure(self, business_hours: bool) -> float | None:
        """The value as a report counts it: a duration in open time with business hours."""
        return self.open_value if business_hours else self.value


@dataclass
class _Owners:
    """Who owned the conversation when: the assignment events, in order."""

    changes: list[tuple[datetime, int | None, int | None]] = field(default_factory=list)
    current: tuple[int | None, int | None] = (None, None)

    def at(self, when: datetime) -> tuple[int | None, int | None]:
        """The (agent, team) at ``when``: the last assignment at or before it; nobody
        before the first; the conversation's present owner when it never had an event."""
        if not self.changes:
            return self.current
        owner: tuple[int | None, int | None] = (None, None)
        for at, user_id, team_id in self.changes:
            if at > when:
                break
            owner = (user_id, team_id)
        return owner

    def first(self) -> tuple[int | None, int | None]:
        """The first owner the conversation had (its present one if never assigned)."""
        for _, user_id, team_id in self.changes:
            if user_id is not None or team_id is not None:
                return (user_id, team_id)
        return self.current


def _owners(history: History) -> _Owners:
    owners = _Owners(current=(history.assignee_id, history.team_id))
    for h in history.happenings:
        if h.kind == "assigned":
            owners.changes.append((h.at, h.user_id, h.team_id))
        elif h.kind == "unassigned":
            owners.changes.append((h.at, None, None))
    return owners


def _minutes(value: float) -> float:
    # To the microminute (well under a millisecond): a duration then has at most 15
    # significant digits, so it survives SQLite's REAL-to-text (hub.inbox.report_read).
    return round(value, 6)


# How long from one instant to another: (wall minutes, business hours' open minutes).
Clock = Callable[[datetime, datetime], tuple[float, float]]


def clock_of(hours: WeeklyHours | None) -> Clock:
    """Both measures of a duration; without hours the open time is the wall time."""

    def measure(start: datetime, end: datetime) -> tuple[float, float]:
        wall = _minutes(max((end - start).total_seconds() / 60, 0.0))
        return wall, wall if hours is None else _minutes(open_minutes_between(hours, start, end))

    return measure


def history_facts(history: History, hours: WeeklyHours | None) -> list[Fact]:
    """Every fact of the conversation, whenever it happened, each duration measured both
    in wall time (``value``) and in the ``hours``' open time (``open_value``)."""
    owners = _owners(history)
    measure = clock_of(hours)

    def fact(
        metric: Metric,
        at: datetime,
        owner: tuple[int | None, int | None],
        value: tuple[float, float] | None = None,
        tag: str | None = None,
    ) -> Fact:
        wall, open_ = value if value is not None else (None, None)
        return Fact(
            metric,
            at,
            history.conversation_id,
            owner[0],
            owner[1],
            history.channel_id,
            history.label_ids,
            wall,
            tag,
            open_,
        )

    found: list[Fact] = []
    found.append(fact("opened", history.opened_at, owners.first()))
    waiting_since: datetime | None = None
    answered = False
    cycle_start: datetime | None = history.opened_at
    snoozed_at: datetime | None = None
    snoozed = (0.0, 0.0)

    def end_snooze(at: datetime) -> None:
        nonlocal snoozed_at, snoozed
        if snoozed_at is not None and cycle_start is not None:
            wall, open_ = measure(max(snoozed_at, cycle_start), at)
            snoozed = (snoozed[0] + wall, snoozed[1] + open_)
        snoozed_at = None

    for h in history.happenings:
        if h.kind == "in":
            found.append(fact("messages_in", h.at, owners.at(h.at)))
            if waiting_since is None:
                waiting_since = h.at
        elif h.kind == "out":
            team = owners.at(h.at)[1]
            found.append(fact("messages_out", h.at, (h.user_id, team)))
            if h.user_id is None:
                continue  # a rule's or a survey's message answers nobody
            if waiting_since is not None:
                metric: Metric = "next_response" if answered else "first_response"
                found.append(fact(metric, h.at, (h.user_id, team), measure(waiting_since, h.at)))
                waiting_since = None
            answered = True
        elif h.kind == "closed":
            found.append(fact("closed", h.at, owners.at(h.at)))
            end_snooze(h.at)
            if cycle_start is not None:
                wall, open_ = measure(cycle_start, h.at)
                took = (
                    _minutes(max(wall - snoozed[0], 0.0)),
                    _minutes(max(open_ - snoozed[1], 0.0)),
                )
                found.append(fact("resolution", h.at, owners.at(h.at), took))
            cycle_start, snoozed, waiting_since = None, (0.0, 0.0), None
        elif h.kind == "reopened":
            found.append(fact("reopened", h.at, owners.at(h.at)))
            end_snooze(h.at)
            if cycle_start is None:
                cycle_start, snoozed = h.at, (0.0, 0.0)
        elif h.kind == "snoozed":
            end_snooze(h.at)
            snoozed_at = h.at
        elif h.kind == "unsnoozed":
            end_snooze(h.at)
        elif h.kind == "sla_breached":
            found.append(fact("sla_breaches", h.at, owners.at(h.at), tag=h.tag))
    if history.survey is not None:
        survey = history.survey
        rating = float(survey.rating)
        found.append(fact("csat", survey.answered_at, owners.at(survey.asked_at), (rating, rating)))
    return found


def facts_of(history: History, period: Period) -> Iterator[Fact]:
    """Every fact of the conversation that happened in the period."""
    yield from (f for f in history_facts(history, period.hours) if period.holds(f.at))
