"""Reports on hand-made timelines, one test per definition of docs/reports.md, on every
engine: the rows are written as the domain writes them (messages, timeline events,
surveys) with chosen times, then read back through ``build_report``."""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.auth.visibility import Viewer
from hub.inbox.report_summary import percentile
from hub.inbox.reports import Filters, Kind, Report, build_report, report_period
from hub.store.models import (
    BusinessHours,
    Conversation,
    ConversationEvent,
    ConversationLabel,
    CsatSurvey,
    Label,
    Message,
    User,
)
from tests.factories import Factory

Sessions = async_sessionmaker[AsyncSession]
# A Monday, midnight UTC: minute offsets below count from here.
DAY = datetime(2026, 3, 2, tzinfo=UTC)
THE_DAY = DAY.date()
ADMIN = Viewer(id=0, role="owner", visibility="all", team_ids=frozenset())


def at(minutes: float) -> datetime:
    """``minutes`` after the test day's midnight (UTC)."""
    return DAY + timedelta(minutes=minutes)


@dataclass
class Timeline:
    """Writes one conversation's history: ``("in", 5)`` a contact message at minute 5,
    ``("out", 7, user)`` an agent's reply, ``("closed", 9)`` an event, ``("assigned", 0,
    user, team)`` an assignment, ``("sla_breached", 3, "first_response")``…"""

    factory: Factory
    channel_id: int
    base: datetime = DAY

    async def write(self, *steps: tuple[Any, ...], opened: float = 0, **kwargs: Any) -> int:
        """Store the conversation and its steps; return its id."""
        contact = await self.factory.contact()
        conversation = Conversation(
            contact_id=contact.id,
            channel_id=self.channel_id,
            opened_at=self.base + timedelta(minutes=opened),
            last_message_at=self.base + timedelta(minutes=opened),
            status_changed_at=self.base + timedelta(minutes=opened),
            **kwargs,
        )
        await self.factory.add(conversation)
        rows: list[Any] = []
        for step in steps:
            kind, minute, *rest = step
            when = self.base + timedelta(minutes=minute)
            if kind in ("in", "out"):
                sender = rest[0].id if rest and rest[0] is not None else None
                rows.append(
                    Message(
                        conversation_id=conversation.id,
                        channel_id=self.channel_id,
                        direction=kind,
                        status="received" if kind == "in" else "sent",
                        sender_user_id=sender,
                        created_at=when,
                        automated=rest[1] if len(rest) > 1 else None,
                    )
                )
            else:
                data: dict[str, Any] = {}
                if kind == "assigned":
                    data = {"user_id": rest[0].id if rest[0] else None, "team_id": rest[1]}
                if kind == "sla_breached":
                    data = {"target": rest[0]}
                rows.append(
                    ConversationEvent(
                        conversation_id=conversation.id, kind=kind, data=data, created_at=when
                    )
                )
        await self.factory.add(*rows)
        return conversation.id


@pytest.fixture
async def timeline(factory: Factory) -> Timeline:
    return Timeline(factory, (await factory.channel(name="Web chat")).id)


@pytest.fixture
async def agents(make_user: Callable[..., Awaitable[User]]) -> tuple[User, User]:
    ana = await make_user("ana@example.com", name="Ana")
    bo = await make_user("bo@example.com", name="Bo")
    return ana, bo


@pytest.fixture(params=["facts", "live"], autouse=True)
def source(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Every definition is checked both ways a report is made: read from the built
    pre-aggregate, and computed from the histories (``live``)."""
    monkeypatch.setattr(sys.modules[__name__], "LIVE", request.param == "live")
    return str(request.param)


LIVE = False


async def report(
    db: Sessions,
    kind: Kind = "overview",
    *,
    viewer: Viewer = ADMIN,
    first: date = THE_DAY,
    last: date = THE_DAY,
    business_hours: bool = False,
    filters: Filters | None = None,
) -> Report:
    async with db() as session:
        period = await report_period(session, first, last, business_hours=business_hours)
        return await build_report(session, viewer, kind, period, filters or Filters(), live=LIVE)


async def test_opened_counts_conversations_opened_in_the_local_days(
    db: Sessions, factory: Factory, timeline: Timeline
) -> None:
    # Paris is UTC+1 in March: its 2 March runs from 1 March 23:00 to 2 March 23:00 UTC.
    await factory.add(BusinessHours(scope="workspace", time_zone="Europe/Paris", week=[[]] * 7))
    await timeline.write(opened=-30)  # 1 March 23:30 UTC = 2 March 00:30 in Paris
    await timeline.write(opened=23 * 60 + 30)  # 2 March 23:30 UTC = 3 March in Paris
    await timeline.write(opened=-90)  # 1 March 22:30 UTC = 1 March in Paris
    result = await report(db)
    assert result.total.counts["opened"] == 1
    assert result.period.start == at(-60)


async def test_closed_and_reopened_count_every_event_across_a_reopen(
    db: Sessions, timeline: Timeline
) -> None:
    await timeline.write(("in", 0), ("closed", 10), ("reopened", 20), ("closed", 30))
    total = (await report(db)).total
    assert total.counts["closed"] == 2
    assert total.counts["reopened"] == 1


async def test_messages_in_and_out_leave_out_failed_and_automated(
    db: Sessions, timeline: Timeline, agents: tuple[User, User]
) -> None:
    ana, _ = agents
    await timeline.write(("in", 0), ("in", 1, None, "auto_reply"), ("out", 2, ana), ("out", 3))
    total = (await report(db)).total
    assert total.counts["messages_in"] == 1
    assert total.counts["messages_out"] == 2  # the agent's and the rule's


async def test_first_response_from_first_contact_message_to_first_agent_reply(
    db: Sessions, timeline: Timeline, agents: tuple[User, User]
) -> None:
    ana, _ = agents
    # The rule's acknowledgement (no sender) answers nobody; a second message does not
    # restart the wait.
    await timeline.write(("in", 0), ("out", 1), ("in", 4), ("out", 12, ana))
    # Started by an agent: no first response.
    await timeline.write(("out", 0, ana), ("in", 5), ("out", 8, ana))
    durations = (await report(db)).total.durations
    assert (durations["first_response"].count, durations["first_response"].median) == (1, 12)
    assert (durations["next_response"].count, durations["next_response"].median) == (1, 3)


async def test_next_response_counts_each_wait_and_a_close_ends_one_unanswered(
    db: Sessions, timeline: Timeline, agents: tuple[User, User]
) -> None:
    ana, _ = agents
    await timeline.write(
        ("in", 0),
        ("out", 2, ana),
        ("in", 10),
        ("in", 11),
        ("out", 15, ana),  # waited 5 from the first unanswered message
        ("in", 20),
        ("closed", 21),  # "thanks!": no reply needed, no time counted
        ("reopened", 40),
        ("in", 40),
        ("out", 47, ana),  # 7
    )
    next_response = (await report(db)).total.durations["next_response"]
    assert (next_response.count, next_response.median, next_response.p90) == (2, 6, 7)


async def test_resolution_per_cycle_across_a_reopen(db: Sessions, timeline: Timeline) -> None:
    await timeline.write(("in", 0), ("closed", 30), ("reopened", 100), ("closed", 110))
    resolution = (await report(db)).total.durations["resolution"]
    assert (resolution.count, resolution.median, resolution.p90) == (2, 20, 30)


async def test_snooze_leaves_resolution_but_not_the_wait_for_a_reply(
    db: Sessions, timeline: Timeline, agents: tuple[User, User]
) -> None:
    ana, _ = agents
    await timeline.write(
        ("in", 0),
        ("snoozed", 10),
        ("unsnoozed", 70),  # an hour snoozed
        ("out", 80, ana),
        ("snoozed", 90),
        ("closed", 100),  # closed while snoozed: the snooze ends there
    )
    durations = (await report(db)).total.durations
    assert durations["resolution"].median == 100 - 60 - 10
    assert durations["first_response"].median == 80


async def test_reassignment_moves_the_credit_from_then_on(
    db: Sessions, timeline: Timeline, agents: tuple[User, User], factory: Factory
) -> None:
    ana, bo = agents
    team = await factory.team("Support")
    await timeline.write(
        ("assigned", 0, ana, None),
        ("in", 0),
        ("out", 5, ana),
        ("assigned", 10, bo, team.id),
        ("in", 20),
        ("out", 22, bo),
        ("closed", 30),
        assignee_id=bo.id,
        team_id=team.id,
    )
    rows = {row.name: row.summary for row in (await report(db, "agents")).rows}
    assert rows["Ana"].counts["opened"] == 1
    assert rows["Ana"].durations["first_response"].median == 5
    assert rows["Ana"].counts["closed"] == 0
    assert rows["Bo"].counts["closed"] == 1
    assert rows["Bo"].durations["next_response"].median == 2
    assert rows["Bo"].durations["resolution"].median == 30
    teams = {row.name: row.summary for row in (await report(db, "teams")).rows}
    assert teams["Support"].counts["messages_in"] == 1
    assert teams["No team"].counts["messages_in"] == 1


async def test_an_agent_sees_only_what_is_credited_to_them(
    db: Sessions, timeline: Timeline, agents: tuple[User, User]
) -> None:
    ana, bo = agents
    await timeline.write(("assigned", 0, ana, None), ("in", 0), ("out", 4, ana), ("closed", 5))
    await timeline.write(("assigned", 0, bo, None), ("in", 0), ("out", 9, bo), ("closed", 9))
    mine = await report(db, viewer=Viewer.of(ana), filters=Filters(agent_id=bo.id))
    assert mine.total.counts["closed"] == 1
    assert mine.total.durations["first_response"].median == 4
    rows = (await report(db, "agents", viewer=Viewer.of(ana))).rows
    assert [row.name for row in rows] == ["Ana"]


async def test_sla_breaches_count_events_by_target(db: Sessions, timeline: Timeline) -> None:
    await timeline.write(
        ("sla_breached", 5, "first_response"),
        ("sla_breached", 50, "resolution"),
        ("sla_breached", 60 * 25, "next_response"),  # the next day
    )
    total = (await report(db)).total
    assert total.counts["sla_breaches"] == 2
    assert total.sla_by_target == {"first_response": 1, "resolution": 1}


async def test_csat_average_and_distribution_of_answers_in_the_period(
    db: Sessions, timeline: Timeline, factory: Factory
) -> None:
    for rating, answered in ((5, 10), (4, 20), (5, 30), (1, -10)):
        conversation_id = await timeline.write(("closed", -20))
        conversation = await _conversation(db, conversation_id)
        await factory.add(
            CsatSurvey(
                conversation_id=conversation_id,
                contact_id=conversation.contact_id,
                channel_id=conversation.channel_id,
                status="answered",
                rating=rating,
                created_at=at(-20),
                answered_at=at(answered),
            )
        )
    total = (await report(db)).total
    assert total.csat_count == 3
    assert total.csat_average == pytest.approx(14 / 3)
    assert total.csat_distribution == {5: 2, 4: 1}


async def test_heatmap_by_local_weekday_and_hour(
    db: Sessions, factory: Factory, timeline: Timeline
) -> None:
    await factory.add(BusinessHours(scope="workspace", time_zone="Europe/Paris", week=[[]] * 7))
    await timeline.write(("in", 9 * 60), ("in", 9 * 60 + 5), ("in", 22 * 60 + 59))
    cells = (await report(db, "heatmap")).heatmap
    assert cells is not None
    assert cells[0][10] == 2  # Monday 10:00 in Paris
    assert cells[0][23] == 1
    assert sum(map(sum, cells)) == 3


async def test_business_hours_count_only_open_time(
    db: Sessions, factory: Factory, timeline: Timeline, agents: tuple[User, User]
) -> None:
    ana, _ = agents
    nine_to_five = [[["09:00", "17:00"]]] * 5 + [[]] * 2
    await factory.add(BusinessHours(scope="workspace", time_zone="UTC", week=nine_to_five))
    # A message at 16:55 on Monday, answered at 09:05 on Tuesday: 10 open minutes.
    await timeline.write(("in", 16 * 60 + 55), ("out", 24 * 60 + 9 * 60 + 5, ana))
    tuesday = DAY.date() + timedelta(days=1)
    hours = await report(db, first=DAY.date(), last=tuesday, business_hours=True)
    wall = await report(db, first=DAY.date(), last=tuesday)
    assert hours.total.durations["first_response"].median == 10
    assert wall.total.durations["first_response"].median == 16 * 60 + 10


async def test_channels_and_labels_break_down_by_the_conversation(
    db: Sessions, factory: Factory, timeline: Timeline
) -> None:
    billing, bug = (
        Label(name="billing", name_key="billing", colour="blue"),
        Label(name="bug", name_key="bug", colour="red"),
    )
    await factory.add(billing, bug)
    both = await timeline.write(("in", 1))
    await timeline.write(("in", 2))
    await factory.add(
        ConversationLabel(conversation_id=both, label_id=billing.id),
        ConversationLabel(conversation_id=both, label_id=bug.id),
    )
    labels = {row.name: row.summary.counts["opened"] for row in (await report(db, "labels")).rows}
    assert labels == {"billing": 1, "bug": 1, "No label": 1}
    channels = (await report(db, "channels")).rows
    assert [(row.name, row.summary.counts["messages_in"]) for row in channels] == [("Web chat", 2)]
    only = await report(db, filters=Filters(label_id=bug.id))
    assert only.total.counts["opened"] == 1


def test_percentiles_are_nearest_rank() -> None:
    assert percentile([], 0.9) is None
    assert percentile([5], 0.9) == 5
    assert percentile(list(range(1, 11)), 0.9) == 9
    assert percentile(list(range(1, 12)), 0.9) == 10
    assert percentile(list(range(1, 71)), 0.9) == 63


async def _conversation(db: Sessions, conversation_id: int) -> Conversation:
    async with db() as session:
        row = await session.get(Conversation, conversation_id)
        assert row is not None
        return row
