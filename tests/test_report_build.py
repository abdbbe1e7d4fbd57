"""The reports' pre-aggregate on every engine: the database marks a conversation stale on
each change a report reads (and only then), a build claims only what did not change
meanwhile, and reports read from it equal reports computed from the raw histories."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.app import create_app
from hub.auth.visibility import Viewer
from hub.inbox import report_build, reports
from hub.inbox.report_build import build_batch, build_stale, stale_count
from hub.inbox.report_load import EVENT_KINDS
from hub.inbox.reports import KINDS, Filters, build_report, report_period
from hub.settings import Settings
from hub.store.models import (
    BusinessHours,
    Contact,
    Conversation,
    ConversationEvent,
    ConversationLabel,
    CsatSurvey,
    Label,
    Message,
    ReportCount,
    ReportFact,
    ReportVersion,
    User,
)
from hub.store.types import utcnow
from tests.factories import Factory

Sessions = async_sessionmaker[AsyncSession]
ADMIN = Viewer(id=0, role="owner", visibility="all", team_ids=frozenset())
START = datetime(2026, 3, 2, tzinfo=UTC)  # a Monday


async def _versions(db: Sessions) -> dict[int, tuple[int, int]]:
    async with db() as session:
        rows = await session.execute(
            select(ReportVersion.conversation_id, ReportVersion.version, ReportVersion.built)
        )
        return {cid: (version, built) for cid, version, built in rows}


async def _stale(db: Sessions) -> set[int]:
    return {cid for cid, (version, built) in (await _versions(db)).items() if version > built}


async def _built(db: Sessions) -> None:
    await build_stale(db)
    assert await _stale(db) == set()


async def _run(db: Sessions, *statements: Any) -> None:
    async with db() as session:
        for statement in statements:
            await session.execute(statement)
        await session.commit()


@pytest.fixture
async def conversation(factory: Factory) -> Conversation:
    return await factory.conversation(await factory.channel())


async def _another(factory: Factory, conversation: Conversation) -> Conversation:
    contact = await factory.contact()
    return Conversation(contact_id=contact.id, channel_id=conversation.channel_id)


async def test_a_new_conversation_starts_stale_and_a_build_writes_its_facts(
    db: Sessions, factory: Factory, conversation: Conversation
) -> None:
    await factory.message(conversation, text="hello", created_at=START)
    assert conversation.id in await _stale(db)
    async with db() as session:
        assert await stale_count(session) == 1
    await _built(db)
    async with db() as session:
        metrics = sorted(
            await session.scalars(
                select(ReportFact.metric).where(ReportFact.conversation_id == conversation.id)
            )
        )
    assert metrics == ["messages_in", "opened"]


@pytest.mark.parametrize("kind", EVENT_KINDS)
async def test_every_event_a_report_reads_marks_the_conversation(
    db: Sessions, factory: Factory, conversation: Conversation, kind: str
) -> None:
    await _built(db)
    await factory.add(ConversationEvent(conversation_id=conversation.id, kind=kind, data={}))
    assert await _stale(db) == {conversation.id}


async def test_what_no_report_reads_leaves_the_facts_alone(
    db: Sessions, factory: Factory, conversation: Conversation
) -> None:
    message = await factory.message(conversation, direction="out", status="sent")
    await _built(db)
    await factory.add(ConversationEvent(conversation_id=conversation.id, kind="labelled", data={}))
    await _run(
        db,
        update(Message).where(Message.id == message.id).values(status="delivered"),
        update(Conversation)
        .where(Conversation.id == conversation.id)
        .values(unread_count=3, last_message_at=utcnow(), priority=2, status="closed"),
    )
    assert await _stale(db) == set()


@pytest.mark.parametrize(
    "change",
    ["failed", "sender", "assignee", "team", "channel", "survey", "merged", "label"],
)
async def test_each_change_a_report_reads_marks_the_conversation(
    db: Sessions,
    factory: Factory,
    conversation: Conversation,
    make_user: Callable[..., Awaitable[User]],
    change: str,
) -> None:
    message = await factory.message(conversation, direction="out", status="sent")
    user = await make_user("ana@example.com")
    team = await factory.team("Support")
    other = await factory.channel(name="Other")
    survey = CsatSurvey(
        conversation_id=conversation.id,
        contact_id=conversation.contact_id,
        channel_id=conversation.channel_id,
        status="sent",
    )
    target = await _another(factory, conversation)
    label = Label(name="Billing", name_key="billing", colour="red")
    await factory.add(survey, target, label)
    await _built(db)
    on_message = update(Message).where(Message.id == message.id)
    on_conversation = update(Conversation).where(Conversation.id == conversation.id)
    statement = {
        "failed": on_message.values(status="failed"),
        "sender": on_message.values(sender_user_id=user.id),
        "assignee": on_conversation.values(assignee_id=user.id),
        "team": on_conversation.values(team_id=team.id),
        "channel": on_conversation.values(channel_id=other.id),
        "survey": update(CsatSurvey)
        .where(CsatSurvey.id == survey.id)
        .values(status="answered", rating=4, answered_at=utcnow()),
        "merged": on_conversation.values(merged_into_id=target.id),
        "label": insert(ConversationLabel).values(
            conversation_id=conversation.id, label_id=label.id
        ),
    }[change]
    await _run(db, statement)
    assert await _stale(db) == {conversation.id}


async def test_a_merge_moving_messages_marks_both_conversations(
    db: Sessions, factory: Factory, conversation: Conversation
) -> None:
    await factory.message(conversation, text="moved")
    target = await _another(factory, conversation)
    await factory.add(target)
    await _built(db)
    await _run(
        db,
        update(Message)
        .where(Message.conversation_id == conversation.id)
        .values(conversation_id=target.id),
    )
    assert await _stale(db) == {conversation.id, target.id}


async def test_the_workspace_hours_mark_every_conversation_a_team_s_do_not(
    db: Sessions, factory: Factory, conversation: Conversation
) -> None:
    second = await _another(factory, conversation)
    await factory.add(second)
    team = await factory.team("Support")
    await _built(db)
    week = [[["09:00", "17:00"]]] * 5 + [[]] * 2
    await factory.add(
        BusinessHours(scope=f"team:{team.id}", team_id=team.id, time_zone="UTC", week=week)
    )
    assert await _stale(db) == set()
    await factory.add(BusinessHours(scope="workspace", time_zone="UTC", week=week))
    assert await _stale(db) == {conversation.id, second.id}
    await _built(db)
    await _run(db, update(BusinessHours).values(time_zone="Europe/Berlin"))
    assert await _stale(db) == {conversation.id, second.id}


async def test_a_change_during_a_build_keeps_the_conversation_stale(
    db: Sessions, factory: Factory, conversation: Conversation, monkeypatch: pytest.MonkeyPatch
) -> None:
    await factory.message(conversation, text="first", created_at=START)
    claim = report_build._claim

    async def change_then_claim(session: AsyncSession, read: Any) -> set[int]:
        # Another transaction stores a message after the build read the history.
        await factory.message(conversation, text="second", created_at=START)
        return await claim(session, read)

    monkeypatch.setattr(report_build, "_claim", change_then_claim)
    async with db() as session:
        await build_batch(session)
        await session.commit()
    assert await _stale(db) == {conversation.id}
    monkeypatch.setattr(report_build, "_claim", claim)
    await _built(db)
    async with db() as session:
        inbound = await session.scalars(
            select(ReportFact.id).where(ReportFact.metric == "messages_in")
        )
        assert len(list(inbound)) == 2


async def test_a_deleted_or_merged_away_conversation_keeps_no_facts(
    db: Sessions, factory: Factory, conversation: Conversation
) -> None:
    gone = await _another(factory, conversation)
    await factory.add(gone)
    await factory.message(conversation, text="hello")
    await factory.message(gone, text="bye")
    await _built(db)
    target = await _another(factory, conversation)
    await factory.add(target)
    await _run(
        db,
        update(Conversation)
        .where(Conversation.id == conversation.id)
        .values(merged_into_id=target.id),
        delete(Contact).where(Contact.id == gone.contact_id),
    )
    await _built(db)
    async with db() as session:
        owners = set(await session.scalars(select(ReportFact.conversation_id)))
    assert owners == {target.id}


# --- the same reports both ways, on a random history --------------------------------


async def _random_histories(
    factory: Factory, make_user: Callable[..., Awaitable[User]], seed: int
) -> tuple[list[User], int, int]:
    """Forty conversations of random messages, events and surveys over four days; the
    agents, a team's id and a label's id."""
    rnd = random.Random(seed)
    agents = [await make_user(f"agent{n}@example.com", name=f"Agent {n}") for n in range(3)]
    teams = [await factory.team(f"Team {n}") for n in range(2)]
    channels = [await factory.channel(name=f"Channel {n}") for n in range(2)]
    labels = [Label(name=f"L{n}", name_key=f"l{n}", colour="red") for n in range(3)]
    await factory.add(*labels)
    for n in range(40):
        opened = START + timedelta(minutes=rnd.randint(0, 4 * 24 * 60))
        conversation = await factory.conversation(
            rnd.choice(channels), opened_at=opened, last_message_at=opened
        )
        rows: list[Any] = [
            ConversationLabel(conversation_id=conversation.id, label_id=label.id)
            for label in rnd.sample(labels, rnd.randint(0, 2))
        ]
        at = opened
        for _ in range(rnd.randint(0, 12)):
            at += timedelta(minutes=rnd.randint(1, 600))
            step = rnd.choice(["in", "in", "out", "out", "event"])
            if step == "in":
                rows.append(_message(conversation, "in", at, None, rnd))
            elif step == "out":
                rows.append(_message(conversation, "out", at, rnd.choice([*agents, None]), rnd))
            else:
                kind = rnd.choice(EVENT_KINDS)
                data: dict[str, Any] = {}
                if kind == "assigned":
                    data = {"user_id": rnd.choice(agents).id, "team_id": rnd.choice(teams).id}
                if kind == "sla_breached":
                    data = {"target": rnd.choice(["first_response", "resolution"])}
                rows.append(
                    ConversationEvent(
                        conversation_id=conversation.id, kind=kind, data=data, created_at=at
                    )
                )
        if n % 4 == 0:
            rows.append(
                CsatSurvey(
                    conversation_id=conversation.id,
                    contact_id=conversation.contact_id,
                    channel_id=conversation.channel_id,
                    status="answered",
                    rating=rnd.randint(1, 5),
                    created_at=at,
                    answered_at=at + timedelta(minutes=30),
                )
            )
        await factory.add(*rows)
    return agents, teams[0].id, labels[0].id


def _message(
    conversation: Conversation, direction: str, at: datetime, sender: User | None, rnd: Any
) -> Message:
    status = "received" if direction == "in" else rnd.choice(["sent", "sent", "failed"])
    return Message(
        conversation_id=conversation.id,
        channel_id=conversation.channel_id,
        direction=direction,
        status=status,
        sender_user_id=sender.id if sender else None,
        created_at=at,
        automated="auto_reply" if rnd.random() < 0.05 else None,
    )


async def _compare(db: Sessions, cases: list[tuple[Viewer, Filters, date, date]]) -> int:
    """Every report of every case both ways; how many had inbound messages."""
    compared = 0
    async with db() as session:
        for viewer, filters, first, last in cases:
            for business_hours in (False, True):
                period = await report_period(session, first, last, business_hours=business_hours)
                for kind in KINDS:
                    live = await build_report(session, viewer, kind, period, filters, live=True)
                    built = await build_report(session, viewer, kind, period, filters)
                    assert built == live, (kind, viewer.id, filters, business_hours)
                    compared += bool(live.total.counts["messages_in"])
    assert await _stale(db) == set()
    return compared


async def test_reports_read_from_the_facts_equal_reports_from_the_histories(
    db: Sessions, factory: Factory, make_user: Callable[..., Awaitable[User]]
) -> None:
    agents, team_id, label_id = await _random_histories(factory, make_user, seed=17)
    week = [[["09:00", "17:00"]]] * 5 + [[]] * 2
    await factory.add(BusinessHours(scope="workspace", time_zone="Europe/Berlin", week=week))
    agent = Viewer(id=agents[1].id, role="agent", visibility="all", team_ids=frozenset())
    day = START.date()
    cases = [
        (ADMIN, Filters(), day, day + timedelta(days=6)),
        (ADMIN, Filters(label_id=label_id), day, day + timedelta(days=1)),
        (ADMIN, Filters(team_id=team_id), day, day + timedelta(days=2)),
        (ADMIN, Filters(agent_id=agents[0].id), day + timedelta(days=1), day + timedelta(days=4)),
        (agent, Filters(), day, day + timedelta(days=9)),
    ]
    assert await _compare(db, cases) > 20  # most periods had messages
    # Rebuilt conversations take away exactly what they added: relabel, reassign, fail
    # a reply, merge, and move the workspace to another zone (every local day shifts).
    async with db() as session:
        ids = list(await session.scalars(select(Conversation.id).order_by(Conversation.id)))
        replies = list(await session.scalars(select(Message.id).where(Message.direction == "out")))
    await _run(
        db,
        delete(ConversationLabel).where(ConversationLabel.conversation_id.in_(ids[:10])),
        insert(ConversationLabel).values(conversation_id=ids[10], label_id=label_id),
        update(Conversation).where(Conversation.id.in_(ids[:20])).values(assignee_id=agents[2].id),
        update(Message).where(Message.id.in_(replies[::3])).values(status="failed"),
        update(Message).where(Message.conversation_id == ids[5]).values(conversation_id=ids[6]),
        update(Conversation).where(Conversation.id == ids[5]).values(merged_into_id=ids[6]),
    )
    assert await _compare(db, cases) > 20
    await _run(db, update(BusinessHours).values(time_zone="America/New_York"))
    assert len(await _stale(db)) == len(ids)
    assert await _compare(db, cases) > 20


async def test_too_much_stale_is_computed_from_the_histories(
    db: Sessions, factory: Factory, conversation: Conversation, monkeypatch: pytest.MonkeyPatch
) -> None:
    await factory.message(conversation, text="hello", created_at=START)
    monkeypatch.setattr(reports, "CATCH_UP_LIMIT", 0)
    async with db() as session:
        period = await report_period(session, START.date(), START.date(), business_hours=False)
        report = await build_report(session, ADMIN, "overview", period, Filters())
    assert report.total.counts["messages_in"] == 1
    assert await _stale(db) == {conversation.id}  # left to the background job


async def test_a_busy_database_gets_the_report_from_the_histories(
    db: Sessions, factory: Factory, conversation: Conversation, monkeypatch: pytest.MonkeyPatch
) -> None:
    await factory.message(conversation, text="hello", created_at=START)

    async def locked(session: AsyncSession, limit: int = 0) -> int:
        raise OperationalError("UPDATE report_versions", {}, Exception("database is locked"))

    monkeypatch.setattr(reports, "build_batch", locked)
    async with db() as session:
        period = await report_period(session, START.date(), START.date(), business_hours=False)
        report = await build_report(session, ADMIN, "overview", period, Filters())
    assert report.total.counts["messages_in"] == 1 and report.catching_up == 1
    assert await _stale(db) == {conversation.id}  # left to the background job

    async def broken(session: AsyncSession, limit: int = 0) -> int:
        raise OperationalError("UPDATE report_versions", {}, Exception("disk I/O error"))

    monkeypatch.setattr(reports, "build_batch", broken)
    async with db() as session:
        with pytest.raises(OperationalError):
            await build_report(session, ADMIN, "overview", period, Filters())


async def test_the_background_build_rests_between_batches_and_stops_when_asked(
    db: Sessions, factory: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    channel = await factory.channel()

    async def four_stale() -> None:
        for _ in range(4):
            await factory.message(await factory.conversation(channel), created_at=START)

    await four_stale()
    rests: list[float] = []

    async def sleep(seconds: float) -> None:
        rests.append(seconds)

    monkeypatch.setattr(report_build.asyncio, "sleep", sleep)
    # Two conversations a batch: a full batch, a rest of twice its time, a full batch,
    # a rest, then nothing left (a short batch: no rest after it).
    assert await build_stale(db, 2, rest=2.0) == 4
    assert len(rests) == 2 and all(r > 0 for r in rests)
    assert await _stale(db) == set()

    await four_stale()
    stopping = [False, True]
    assert await build_stale(db, 2, rest=2.0, stopping=lambda: stopping.pop(0)) == 4
    assert await _stale(db) == set()
    await four_stale()
    assert await build_stale(db, 2, stopping=lambda: True) == 2  # one batch, then stops
    assert len(await _stale(db)) == 2


def test_the_migration_s_triggers_watch_the_events_reports_read() -> None:
    from importlib import import_module

    migration = import_module("hub.store.migrations.versions.0024_report_facts")
    assert "(" + ", ".join(f"'{k}'" for k in EVENT_KINDS) + ")" == migration.EVENT_KINDS


async def test_the_running_hub_builds_what_is_stale_by_itself(
    aiohttp_client: Callable[..., Awaitable[Any]],
    settings: Settings,
    db: Sessions,
    factory: Factory,
    conversation: Conversation,
) -> None:
    await aiohttp_client(create_app(settings.model_copy(update={"report_build_seconds": 0.05})))
    await factory.message(conversation, text="hello", created_at=START)
    for _ in range(200):
        if not await _stale(db):
            break
        await asyncio.sleep(0.05)
    assert await _stale(db) == set()
    async with db() as session:
        assert (
            await session.scalar(
                select(func.sum(ReportCount.n)).where(
                    ReportCount.grain == "all", ReportCount.metric == "messages_in"
                )
            )
            == 1
        )
