"""SLA clocks on conversations, on both engines: applying a policy starts them from the
conversation's own times, replies and closing stop them, the job starts the ones a
contact's message or a reopening calls for and marks each breach once."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.auth.visibility import Viewer
from hub.errors import NotFound
from hub.events.bus import MemoryBus
from hub.events.work import Work, unit_of_work
from hub.inbox import business_hours, conversations, sla, sla_clocks
from hub.inbox.sla_policies import PolicyFields, create_policy
from hub.store.models import Conversation, ConversationEvent, Notification, User
from hub.store.types import utcnow
from tests.factories import Factory

Sessions = async_sessionmaker[AsyncSession]
MakeUser = Callable[..., Awaitable[User]]


async def _policy(db: Sessions, admin: User, **targets: int | bool) -> int:
    async with unit_of_work(db, MemoryBus()) as work:
        policy = await create_policy(
            work, Viewer.of(admin), PolicyFields(f"Gold {len(targets)}{sorted(targets)}", **targets)
        )  # type: ignore[arg-type]
        return policy.id


async def _apply(db: Sessions, viewer: Viewer, conversation_id: int, policy_id: int) -> bool:
    async with unit_of_work(db, MemoryBus()) as work:
        return await sla.apply_policy(work, viewer, conversation_id, policy_id)


async def _job(db: Sessions, clocks: sla.Clocks | None = None) -> list[tuple[int, str]]:
    async with unit_of_work(db, MemoryBus()) as work:
        return await sla.check_slas(work, clocks)


async def _load(db: Sessions, conversation_id: int) -> Conversation:
    async with db() as session:
        return await session.get_one(Conversation, conversation_id)


async def _events(db: Sessions, conversation_id: int) -> list[tuple[str, dict[str, object]]]:
    async with db() as session:
        rows = await session.scalars(
            select(ConversationEvent)
            .where(ConversationEvent.conversation_id == conversation_id)
            .order_by(ConversationEvent.id)
        )
        return [(e.kind, e.data) for e in rows]


async def _notified(db: Sessions) -> list[tuple[int, str, object]]:
    async with db() as session:
        rows = await session.scalars(select(Notification).order_by(Notification.id))
        return [(n.user_id, n.kind, n.data.get("target")) for n in rows]


@pytest.fixture
async def admin(make_user: MakeUser) -> User:
    return await make_user("boss@example.com", name="Bea Boss", role="manager")


async def _waiting(factory: Factory, minutes_ago: int, **kwargs: object) -> Conversation:
    """An open conversation whose contact wrote ``minutes_ago`` and is waiting."""
    at = utcnow() - timedelta(minutes=minutes_ago)
    channel = await factory.channel()
    conversation = await factory.conversation(
        channel, opened_at=at, last_message_direction="in", **kwargs
    )
    await factory.message(conversation, "help", created_at=at)
    return conversation


def _near(a: datetime | None, b: datetime) -> bool:
    return a is not None and abs(a - b) < timedelta(seconds=2)


async def test_applying_counts_from_the_first_message_and_the_opening(
    db: Sessions, factory: Factory, admin: User
) -> None:
    conversation = await _waiting(factory, 10)
    policy_id = await _policy(db, admin, first_response_minutes=30, resolution_minutes=240)
    viewer = Viewer.of(admin)

    assert await _apply(db, viewer, conversation.id, policy_id) is True
    assert await _apply(db, viewer, conversation.id, policy_id) is False  # no change
    stored = await _load(db, conversation.id)
    assert _near(stored.first_response_due_at, conversation.opened_at + timedelta(minutes=30))
    assert _near(stored.resolution_due_at, conversation.opened_at + timedelta(minutes=240))
    assert stored.next_response_due_at is None
    assert [kind for kind, _ in await _events(db, conversation.id)] == ["sla_applied"]
    # Nothing is due yet: the job marks nothing.
    assert await _job(db) == []


async def test_the_job_marks_a_breach_once_with_an_event_and_a_notification(
    db: Sessions, factory: Factory, admin: User, make_user: MakeUser
) -> None:
    agent = await make_user("ana@example.com", name="Ana")
    conversation = await _waiting(factory, 45, assignee_id=agent.id)
    policy_id = await _policy(db, admin, first_response_minutes=30)
    await _apply(db, Viewer.of(admin), conversation.id, policy_id)

    assert await _job(db) == [(conversation.id, "first_response")]
    assert await _job(db) == []  # idempotent: marked once
    stored = await _load(db, conversation.id)
    assert stored.first_response_breached_at == stored.first_response_due_at
    breaches = [d for kind, d in await _events(db, conversation.id) if kind == "sla_breached"]
    assert [d["target"] for d in breaches] == ["first_response"]
    assert await _notified(db) == [(agent.id, "sla_breached", "first_response")]


async def test_an_unassigned_breach_tells_the_team_or_else_the_managers(
    db: Sessions, factory: Factory, admin: User, make_user: MakeUser
) -> None:
    member = await make_user("member@example.com", name="Mia")
    outsider = await make_user("other@example.com", name="Otto")
    team = await factory.team("Support", members=[member])
    in_team = await _waiting(factory, 45, team_id=team.id)
    nobody = await _waiting(factory, 45)
    policy_id = await _policy(db, admin, first_response_minutes=30)
    for conversation in (in_team, nobody):
        await _apply(db, Viewer.of(admin), conversation.id, policy_id)

    await _job(db)
    told = {(user_id, kind) for user_id, kind, _ in await _notified(db)}
    assert told == {(member.id, "sla_breached"), (admin.id, "sla_breached")}
    assert outsider.id not in {user_id for user_id, _ in told}


async def test_a_reply_meets_the_first_response_and_the_next_message_starts_the_next(
    db: Sessions, factory: Factory, admin: User
) -> None:
    conversation = await _waiting(factory, 20)
    policy_id = await _policy(db, admin, first_response_minutes=30, next_response_minutes=15)
    await _apply(db, Viewer.of(admin), conversation.id, policy_id)
    replied = utcnow() - timedelta(minutes=10)
    await factory.message(
        conversation,
        "hi",
        direction="out",
        status="sent",
        sender_user_id=admin.id,
        created_at=replied,
    )
    async with db() as session:  # what sending does (tests/test_sla_api.py sends for real)
        stored = await session.get_one(Conversation, conversation.id)
        sla_clocks.reply_sent(Work(session), stored)
        stored.last_message_direction = "out"
        await session.commit()
    assert (await _load(db, conversation.id)).first_response_due_at is None
    assert await _job(db) == []
    assert (await _load(db, conversation.id)).next_response_due_at is None  # nobody waits

    wrote = replied + timedelta(minutes=2)
    await factory.message(conversation, "and?", created_at=wrote)
    async with db() as session:
        stored = await session.get_one(Conversation, conversation.id)
        stored.last_message_direction = "in"
        await session.commit()
    assert await _job(db) == []
    stored = await _load(db, conversation.id)
    # Counted from the contact's message, not from when the job ran.
    assert _near(stored.next_response_due_at, wrote + timedelta(minutes=15))
    assert stored.first_response_breached_at is None


async def test_closing_meets_the_resolution_and_reopening_starts_it_again(
    db: Sessions, factory: Factory, admin: User
) -> None:
    conversation = await _waiting(factory, 5)
    policy_id = await _policy(db, admin, resolution_minutes=60)
    viewer = Viewer.of(admin)
    await _apply(db, viewer, conversation.id, policy_id)
    async with unit_of_work(db, MemoryBus()) as work:
        await conversations.close(work, viewer, conversation.id, None)
    stored = await _load(db, conversation.id)
    assert stored.resolution_due_at is None
    assert await _job(db) == []

    async with unit_of_work(db, MemoryBus()) as work:
        await conversations.reopen(work, viewer, conversation.id)
    await _job(db)
    stored = await _load(db, conversation.id)
    assert _near(stored.resolution_due_at, stored.opened_at + timedelta(minutes=60))
    assert stored.opened_at > conversation.opened_at


async def test_a_reopening_after_a_breach_clears_the_old_breach(
    db: Sessions, factory: Factory, admin: User
) -> None:
    conversation = await _waiting(factory, 90)
    policy_id = await _policy(db, admin, resolution_minutes=60)
    viewer = Viewer.of(admin)
    await _apply(db, viewer, conversation.id, policy_id)
    assert await _job(db) == [(conversation.id, "resolution")]
    async with unit_of_work(db, MemoryBus()) as work:
        await conversations.close(work, viewer, conversation.id, None)
    assert (await _load(db, conversation.id)).resolution_breached_at is not None  # the record
    async with unit_of_work(db, MemoryBus()) as work:
        await conversations.reopen(work, viewer, conversation.id)
    assert await _job(db) == []
    stored = await _load(db, conversation.id)
    assert stored.resolution_breached_at is None
    assert stored.resolution_due_at is not None


async def test_business_hours_policies_count_with_the_clock_given(
    db: Sessions, factory: Factory, admin: User
) -> None:
    calls: list[tuple[int | None, int]] = []

    async def open_hours(
        session: AsyncSession, team_id: int | None, start: datetime, minutes: int
    ) -> datetime:
        calls.append((team_id, minutes))
        return start + timedelta(days=1)

    team = await factory.team("Night")
    conversation = await _waiting(factory, 5, team_id=team.id)
    policy_id = await _policy(db, admin, first_response_minutes=30, business_hours=True)
    async with unit_of_work(db, MemoryBus()) as work:
        await sla.apply_policy(
            work, None, conversation.id, policy_id, sla.Clocks(business=open_hours)
        )
    stored = await _load(db, conversation.id)
    assert calls == [(team.id, 30)]
    assert _near(stored.first_response_due_at, conversation.opened_at + timedelta(days=1))
    # A calendar policy ignores that clock.
    calendar_id = await _policy(db, admin, first_response_minutes=30)
    async with unit_of_work(db, MemoryBus()) as work:
        await sla.apply_policy(
            work, None, conversation.id, calendar_id, sla.Clocks(business=open_hours)
        )
    assert calls == [(team.id, 30)]


async def test_the_hubs_clock_counts_the_teams_business_hours(
    db: Sessions, factory: Factory, admin: User
) -> None:
    # The team is open one hour a day, away from now: 30 minutes of open time end
    # inside that hour, not 30 calendar minutes after the contact wrote.
    hour = 12 if utcnow().hour in (23, 0, 1) else 0
    window = (f"{hour:02}:00", f"{hour + 1:02}:00")
    team = await factory.team("Nights")
    async with unit_of_work(db, MemoryBus()) as work:
        spec = business_hours.HoursSpec("UTC", [[window]] * 7)
        await business_hours.save_hours(work, Viewer.of(admin), team.id, spec)
    conversation = await _waiting(factory, 5, team_id=team.id)
    policy_id = await _policy(db, admin, first_response_minutes=30, business_hours=True)

    assert await _apply(db, Viewer.of(admin), conversation.id, policy_id)

    due = (await _load(db, conversation.id)).first_response_due_at
    assert due is not None and due > conversation.opened_at + timedelta(minutes=30)
    assert (due.hour, due.minute) == (hour, 30), due


async def test_two_jobs_at_once_mark_a_breach_once(
    db: Sessions, factory: Factory, admin: User, make_user: MakeUser
) -> None:
    if db.kw["bind"].dialect.name == "sqlite":
        pytest.skip("SQLite suits one hub process (docs/configuration.md): no row locks")
    agent = await make_user("ana@example.com", name="Ana")
    due = [await _waiting(factory, 45, assignee_id=agent.id) for _ in range(3)]
    policy_id = await _policy(db, admin, first_response_minutes=30)
    for conversation in due:
        await _apply(db, Viewer.of(admin), conversation.id, policy_id)

    # Two hub processes' jobs: each skips the rows the other holds, none marks twice.
    first, second = await asyncio.gather(_job(db), _job(db))
    assert sorted(first + second) == sorted((c.id, "first_response") for c in due)
    assert len(await _notified(db)) == 3
    for conversation in due:
        kinds = [kind for kind, _ in await _events(db, conversation.id)]
        assert kinds.count("sla_breached") == 1


async def test_a_breach_notifies_only_those_who_want_it(
    db: Sessions, factory: Factory, admin: User, make_user: MakeUser
) -> None:
    agent = await make_user("ana@example.com", name="Ana")
    async with db() as session:
        stored = await session.get_one(User, agent.id)
        stored.notification_settings = {"sla_breached": False}
        await session.commit()
    conversation = await _waiting(factory, 45, assignee_id=agent.id)
    policy_id = await _policy(db, admin, first_response_minutes=30)
    await _apply(db, Viewer.of(admin), conversation.id, policy_id)
    assert await _job(db) == [(conversation.id, "first_response")]
    assert await _notified(db) == []


async def test_a_wait_without_a_target_is_looked_at_once_per_message(
    db: Sessions, factory: Factory, admin: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    # First reply only: after the reply, the contact's next message starts no clock,
    # and the job does not look at that conversation again on every run.
    looked: list[int] = []
    start_replies = sla._start_replies

    async def counting(session: AsyncSession, conversation: Conversation, *args: object) -> bool:
        looked.append(conversation.id)
        return await start_replies(session, conversation, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(sla, "_start_replies", counting)
    conversation = await _waiting(factory, 20)
    policy_id = await _policy(db, admin, first_response_minutes=30)
    await _apply(db, Viewer.of(admin), conversation.id, policy_id)
    at = utcnow() - timedelta(minutes=10)
    await factory.message(
        conversation, "hi", direction="out", status="sent", sender_user_id=admin.id, created_at=at
    )

    async def customer_writes(when: datetime) -> None:
        await factory.message(conversation, "thanks!", created_at=when)
        async with db() as session:
            stored = await session.get_one(Conversation, conversation.id)
            stored.first_response_due_at = None  # what the reply did
            stored.last_message_at = when
            stored.last_message_direction = "in"
            await session.commit()

    await customer_writes(at + timedelta(minutes=1))
    looked.clear()
    await _job(db)
    await _job(db)
    assert looked == [conversation.id]  # once, not on every run
    stored = await _load(db, conversation.id)
    assert (stored.first_response_due_at, stored.next_response_due_at) == (None, None)
    assert stored.sla_checked_at == at + timedelta(minutes=1)

    await customer_writes(at + timedelta(minutes=2))
    await _job(db)
    assert looked == [conversation.id, conversation.id]  # a newer message: once more


async def test_the_job_tells_open_inboxes_of_started_clocks_and_breaches(
    db: Sessions, factory: Factory, admin: User, make_user: MakeUser
) -> None:
    agent = await make_user("ana@example.com", name="Ana")
    conversation = await _waiting(factory, 45, assignee_id=agent.id)
    policy_id = await _policy(db, admin, first_response_minutes=30, resolution_minutes=600)
    async with db() as session:  # the policy is on, but no clock has started yet
        stored = await session.get_one(Conversation, conversation.id)
        stored.sla_policy_id = policy_id
        await session.commit()
    bus = MemoryBus()
    subscription = bus.subscribe()
    async with unit_of_work(db, bus) as work:
        assert await sla.check_slas(work) == [(conversation.id, "first_response")]
    subscription.close()
    events = [(e.type, e.data.get("event"), e.data.get("kind")) async for e in subscription]
    assert ("conversation.updated", "sla_started", None) in events
    assert ("conversation.updated", "sla_breached", None) in events
    assert ("notification", None, "sla_breached") in events
    assert ("counts.changed", None, None) in events
    stored = await _load(db, conversation.id)
    assert _near(stored.resolution_due_at, conversation.opened_at + timedelta(minutes=600))


async def test_a_reopened_wait_counts_from_the_reopening(
    db: Sessions, factory: Factory, admin: User
) -> None:
    # Closed without a reply, reopened a day later: the first reply is due from then.
    conversation = await _waiting(factory, 60 * 24)
    policy_id = await _policy(db, admin, first_response_minutes=30)
    viewer = Viewer.of(admin)
    async with unit_of_work(db, MemoryBus()) as work:
        await conversations.close(work, viewer, conversation.id, None)
    await _apply(db, viewer, conversation.id, policy_id)
    assert (await _load(db, conversation.id)).first_response_due_at is None  # closed
    async with unit_of_work(db, MemoryBus()) as work:
        await conversations.reopen(work, viewer, conversation.id)
    assert await _job(db) == []
    stored = await _load(db, conversation.id)
    assert _near(stored.first_response_due_at, stored.opened_at + timedelta(minutes=30))


async def test_the_hub_applying_to_a_missing_conversation_is_not_found(
    db: Sessions, admin: User
) -> None:
    policy_id = await _policy(db, admin, resolution_minutes=60)
    with pytest.raises(NotFound):
        async with unit_of_work(db, MemoryBus()) as work:
            await sla.apply_policy(work, None, 424242, policy_id)


async def test_a_due_time_coming_near_redraws_the_open_inboxes(
    db: Sessions, factory: Factory, admin: User
) -> None:
    policy_id = await _policy(db, admin, first_response_minutes=60)
    now = utcnow()
    channel = await factory.channel()
    near = await factory.conversation(
        channel, sla_policy_id=policy_id, first_response_due_at=now + timedelta(minutes=29.9)
    )
    far = await factory.conversation(
        channel, sla_policy_id=policy_id, first_response_due_at=now + timedelta(minutes=40)
    )
    already = await factory.conversation(
        channel, sla_policy_id=policy_id, first_response_due_at=now + timedelta(minutes=10)
    )

    async def redrawn(every: float | None) -> set[int]:
        bus = MemoryBus()
        subscription = bus.subscribe()
        async with unit_of_work(db, bus) as work:
            await sla.check_slas(work, None, every)
        subscription.close()
        return {
            e.data["conversation_id"]
            async for e in subscription
            if e.type == "conversation.updated" and e.data.get("event") == "sla_due_soon"
        }

    # Came within 30 minutes since the last run (15 s ago): only that one.
    assert await redrawn(15) == {near.id}
    assert far.id not in await redrawn(15) and already.id not in await redrawn(15)
    assert await redrawn(None) == set()
