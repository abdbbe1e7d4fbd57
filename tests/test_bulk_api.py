"""Bulk actions over HTTP: inline and background jobs, per-conversation visibility,
progress, resuming a job a stopped process left, limits and bad input."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.auth.visibility import Viewer
from hub.events.bus import MemoryBus
from hub.events.event import HubEvent
from hub.events.work import Work, unit_of_work
from hub.inbox import bulk
from hub.store.models import (
    BulkJob,
    Conversation,
    ConversationEvent,
    ConversationLabel,
    Label,
    User,
)
from hub.store.types import utcnow
from hub.testing import eventually
from tests.factories import Factory

Client = TestClient[Any, Any]
UserToken = Callable[..., Awaitable[tuple[User, dict[str, str]]]]
URL = "/api/v1/conversations/bulk"


class CountingBus(MemoryBus):
    """A memory bus that counts what it published."""

    def __init__(self) -> None:
        super().__init__()
        self.published = 0

    async def publish(self, event: HubEvent) -> None:
        self.published += 1
        await super().publish(event)


async def _assignees(db: async_sessionmaker[AsyncSession], ids: list[int]) -> list[int | None]:
    async with db() as session:
        rows = await session.execute(
            select(Conversation.id, Conversation.assignee_id).where(Conversation.id.in_(ids))
        )
        by_id = {i: a for i, a in rows.all()}
    return [by_id[i] for i in ids]


async def _events(db: async_sessionmaker[AsyncSession], conversation_id: int) -> list[str]:
    async with db() as session:
        kinds = await session.scalars(
            select(ConversationEvent.kind)
            .where(ConversationEvent.conversation_id == conversation_id)
            .order_by(ConversationEvent.id)
        )
        return list(kinds)


async def test_a_small_selection_runs_in_the_request_with_an_event_each(
    client: Client, factory: Factory, user_token: UserToken, db: async_sessionmaker[AsyncSession]
) -> None:
    _me, auth = await user_token("me@example.com", role="manager")
    ben, _ = await user_token("ben@example.com")
    channel = await factory.channel()
    fresh = [await factory.conversation(channel, minutes=i) for i in range(3)]
    already = await factory.conversation(channel, assignee_id=ben.id)
    ids = [c.id for c in [*fresh, already]]

    response = await client.post(
        URL,
        json={"action": "assign", "conversation_ids": ids, "params": {"user_id": ben.id}},
        headers=auth,
    )

    assert response.status == 202, await response.text()
    job = await response.json()
    assert (job["status"], job["total"], job["processed"]) == ("finished", 4, 4)
    assert (job["done"], job["skipped"], job["refused"]) == (3, 1, 0)
    assert job["summary"] == "3 assigned, 1 skipped"
    assert response.headers["Location"] == f"/api/v1/bulk-jobs/{job['id']}"
    assert await _assignees(db, ids) == [ben.id] * 4
    for conversation in fresh:
        assert await _events(db, conversation.id) == ["assigned"]
    assert await _events(db, already.id) == []  # skipped: nothing happened to it


async def test_each_action_changes_state_and_skips_what_is_already_so(
    client: Client, factory: Factory, user_token: UserToken, db: async_sessionmaker[AsyncSession]
) -> None:
    me, auth = await user_token("me@example.com", role="owner")
    channel = await factory.channel()
    open_one = await factory.conversation(channel, assignee_id=me.id)
    closed_one = await factory.conversation(channel, status="closed")
    ids = [open_one.id, closed_one.id]

    async def run(action: str, **params: Any) -> tuple[int, int, int]:
        body = {"action": action, "conversation_ids": ids, "params": params}
        response = await client.post(URL, json=body, headers=auth)
        assert response.status == 202, await response.text()
        job = await response.json()
        return job["done"], job["skipped"], job["refused"]

    assert await run("close") == (1, 1, 0)
    assert await run("reopen") == (2, 0, 0)
    until = (utcnow() + timedelta(days=1)).isoformat()
    assert await run("snooze", until=until) == (2, 0, 0)
    assert await run("snooze", until=until) == (0, 2, 0)
    assert await run("unassign") == (1, 1, 0)
    assert await _events(db, open_one.id) == ["closed", "reopened", "snoozed", "unassigned"]
    assert await _events(db, closed_one.id) == ["reopened", "snoozed"]


async def test_an_agent_is_refused_what_they_cannot_see_without_learning_which(
    client: Client, factory: Factory, user_token: UserToken, db: async_sessionmaker[AsyncSession]
) -> None:
    agent, auth = await user_token("agent@example.com", visibility="assigned")
    other, _ = await user_token("other@example.com")
    channel = await factory.channel()
    mine = await factory.conversation(channel, assignee_id=agent.id)
    hidden = await factory.conversation(channel, assignee_id=other.id)
    missing = hidden.id + 1000

    response = await client.post(
        URL,
        json={"action": "close", "conversation_ids": [mine.id, hidden.id, missing]},
        headers=auth,
    )

    assert response.status == 202
    job = await response.json()
    assert (job["done"], job["skipped"], job["refused"]) == (1, 0, 2)
    # The answer names no conversation: hidden and missing ones look the same.
    assert set(job) == {
        *("id", "action", "status", "total", "processed", "done", "skipped", "refused"),
        *("error", "summary", "created_at", "finished_at"),
    }
    async with db() as session:
        assert (await session.get(Conversation, hidden.id)).status == "open"  # type: ignore[union-attr]
        assert (await session.get(Conversation, mine.id)).status == "closed"  # type: ignore[union-attr]


async def test_a_large_selection_runs_in_the_background_and_reports_progress(
    client: Client, factory: Factory, user_token: UserToken, db: async_sessionmaker[AsyncSession]
) -> None:
    _me, auth = await user_token("me@example.com", role="manager")
    ben, _ = await user_token("ben@example.com")
    _stranger, stranger_auth = await user_token("stranger@example.com")
    channel = await factory.channel()
    contact = await factory.contact()
    made = [await factory.conversation(channel, contact, minutes=i) for i in range(60)]
    await factory.conversation(channel, contact, status="closed")  # not on the Open tab

    response = await client.post(
        URL,
        json={
            "action": "assign",
            "filter": {"view": "all", "status": "open"},
            "params": {"user_id": ben.id},
        },
        headers=auth,
    )

    assert response.status == 202, await response.text()
    job = await response.json()
    assert (job["status"], job["total"]) == ("queued", 60)
    location = response.headers["Location"]

    async def finished() -> dict[str, Any]:
        r = await client.get(location, headers=auth)
        assert r.status == 200
        body = dict(await r.json())
        assert body["status"] == "finished", body
        return body

    done = await eventually(finished, timeout=20)
    assert (done["processed"], done["done"], done["skipped"], done["refused"]) == (60, 60, 0, 0)
    assert await _assignees(db, [c.id for c in made]) == [ben.id] * 60
    # The job is its actor's (and the admins'): anyone else is told it does not exist.
    assert (await client.get(location, headers=stranger_auth)).status == 404
    assert (await client.get("/api/v1/bulk-jobs/abc", headers=auth)).status == 404


async def test_a_job_left_running_by_a_stopped_process_resumes_where_it_was(
    factory: Factory,
    make_user: Callable[..., Awaitable[User]],
    db: async_sessionmaker[AsyncSession],
) -> None:
    me = await make_user("me@example.com", role="owner")
    ben = await make_user("ben@example.com")
    channel = await factory.channel()
    made = [await factory.conversation(channel, minutes=i) for i in range(80)]
    ids = [c.id for c in made]
    long_ago = utcnow() - bulk.STALE_AFTER - timedelta(seconds=5)
    # The crashed process had done the first batch (50) and committed its position.
    crashed = BulkJob(
        actor_id=me.id,
        action="assign",
        params={"user_id": ben.id, "team_id": None},
        targets=ids,
        total=80,
        position=50,
        done=50,
        status="running",
        updated_at=long_ago,
    )
    alive = BulkJob(
        actor_id=me.id, action="unassign", params={}, targets=ids, total=80, status="running"
    )
    await factory.add(crashed, alive)

    assert await bulk.claim(db) == crashed.id
    assert await bulk.claim(db) is None  # taken now; the live one is its process's
    job = await bulk.run_job(db, MemoryBus(), None, crashed.id)

    assert job is not None
    assert (job.status, job.position, job.done, job.skipped) == ("finished", 80, 80, 0)
    # Resumed from its position: the first 50 were not done again here.
    assert await _assignees(db, ids) == [None] * 50 + [ben.id] * 30
    async with db() as session:
        events = await session.scalar(select(func.count()).select_from(ConversationEvent))
    assert events == 30


async def test_a_job_whose_actor_left_fails_cleanly(
    factory: Factory,
    make_user: Callable[..., Awaitable[User]],
    db: async_sessionmaker[AsyncSession],
) -> None:
    gone = await make_user("gone@example.com", active=False)
    conversation = await factory.conversation(await factory.channel())
    job = BulkJob(actor_id=gone.id, action="close", params={}, targets=[conversation.id], total=1)
    await factory.add(job)

    assert await bulk.claim(db) == job.id
    result = await bulk.run_job(db, MemoryBus(), None, job.id)

    assert result is not None and result.status == "failed"
    assert "no longer active" in (result.error or "")
    assert await _events(db, conversation.id) == []


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"action": "explode", "conversation_ids": [1]}, 422, "action"),
        ({"action": "close", "conversation_ids": []}, 422, "conversation_ids"),
        ({"action": "close", "conversation_ids": list(range(1, 5002))}, 422, "conversation_ids"),
        ({"action": "close", "conversation_ids": ["x"]}, 422, "conversation_ids.0"),
        ({"action": "close"}, 422, "conversation_ids"),
        (
            {"action": "close", "conversation_ids": [1], "filter": {"view": "all"}},
            422,
            "conversation_ids",
        ),
        ({"action": "assign", "conversation_ids": [1]}, 422, "params"),
        (
            {"action": "assign", "conversation_ids": [1], "params": {"user_id": 999}},
            422,
            "params.user_id",
        ),
        (
            {"action": "close", "conversation_ids": [1], "params": {"colour": 1}},
            422,
            "params.colour",
        ),
        (
            {"action": "snooze", "conversation_ids": [1], "params": {"until": "2001-01-01T00:00Z"}},
            422,
            "params.until",
        ),
        ({"action": "close", "filter": {"view": "nowhere"}}, 422, "view"),
        ({"action": "close", "filter": {"view": "team:999"}}, 404, None),
        ({"action": "close", "conversation_ids": [1], "extra": True}, 422, "extra"),
    ],
)
async def test_bad_input_gets_a_precise_4xx(
    client: Client,
    user_token: UserToken,
    body: dict[str, Any],
    status: int,
    field: str | None,
) -> None:
    _, auth = await user_token("me@example.com", role="owner")
    response = await client.post(URL, json=body, headers=auth)
    assert response.status == status, await response.text()
    if field is not None:
        details = (await response.json())["error"]["details"]
        assert details[0]["field"] == field, details


async def test_a_view_the_caller_does_not_have_is_403_and_too_many_matches_422(
    client: Client,
    factory: Factory,
    user_token: UserToken,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _, agent_auth = await user_token("agent@example.com", visibility="assigned")
    _, auth = await user_token("me@example.com", role="owner")
    channel = await factory.channel()
    for i in range(4):
        await factory.conversation(channel, minutes=i)

    body = {"action": "close", "filter": {"view": "all"}}
    assert (await client.post(URL, json=body, headers=agent_auth)).status == 403
    monkeypatch.setattr(bulk, "MAX_TARGETS", 3)
    response = await client.post(URL, json=body, headers=auth)
    assert response.status == 422
    assert (await response.json())["error"]["code"] == "too_many_conversations"


async def test_progress_is_visible_between_batches_to_the_actor_and_admins(
    client: Client, factory: Factory, user_token: UserToken, db: async_sessionmaker[AsyncSession]
) -> None:
    agent, auth = await user_token("agent@example.com")
    _, owner_auth = await user_token("owner@example.com", role="owner")
    channel = await factory.channel()
    made = [await factory.conversation(channel, minutes=i) for i in range(60)]
    async with db() as session:
        work = Work(session)
        job = await bulk.start(
            work,
            Viewer.of(agent),
            "assign",
            {"user_id": agent.id},
            ids=[c.id for c in made],
        )
        assert job.status == "queued"
        # Claimed by this test, as the runner claims it, so the app's own runner does not.
        job.status = "running"
        await session.commit()
    # One batch, as the runner does it, then a look from outside.
    async with unit_of_work(db, MemoryBus()) as work:
        await bulk.run_batch(work, job.id)

    for headers in (auth, owner_auth):
        response = await client.get(f"/api/v1/bulk-jobs/{job.id}", headers=headers)
        assert response.status == 200
        seen = await response.json()
        assert (seen["status"], seen["processed"], seen["total"]) == ("running", 50, 60)
        assert seen["summary"] == "50 assigned"


async def test_a_stopping_process_hands_its_job_back_after_the_batch_in_progress(
    factory: Factory,
    make_user: Callable[..., Awaitable[User]],
    db: async_sessionmaker[AsyncSession],
) -> None:
    me = await make_user("me@example.com", role="owner")
    channel = await factory.channel()
    ids = [(await factory.conversation(channel, minutes=i)).id for i in range(80)]
    job = BulkJob(actor_id=me.id, action="close", params={}, targets=ids, total=80)
    await factory.add(job)
    bus = CountingBus()

    # The process is told to stop while the first batch runs (its events go out after).
    await bulk.run_due_jobs(db, bus, None, stopping=lambda: bus.published > 0)

    async with db() as session:
        left = await session.get(BulkJob, job.id)
    assert left is not None
    assert (left.status, left.position, left.done) == ("queued", 50, 50)
    # Queued again: the next process (or this one restarted) takes it at once.
    assert await bulk.claim(db) == job.id


async def test_labels_and_priority_in_bulk_skip_what_already_has_them(
    client: Client, factory: Factory, user_token: UserToken, db: async_sessionmaker[AsyncSession]
) -> None:
    _, auth = await user_token("me@example.com", role="owner")
    channel = await factory.channel()
    urgent = Label(name="Urgent", name_key="urgent", colour="red")
    await factory.add(urgent)
    first = await factory.conversation(channel, priority=3)
    second = await factory.conversation(channel)
    await factory.add(ConversationLabel(conversation_id=first.id, label_id=urgent.id))
    ids = [first.id, second.id]

    async def run(action: str, **params: Any) -> tuple[int, int, int, str]:
        body = {"action": action, "conversation_ids": ids, "params": params}
        response = await client.post(URL, json=body, headers=auth)
        assert response.status == 202, await response.text()
        job = await response.json()
        return job["done"], job["skipped"], job["refused"], job["summary"]

    assert await run("label", label_id=urgent.id) == (1, 1, 0, "1 labelled, 1 skipped")
    assert await run("priority", priority="high") == (1, 1, 0, "1 prioritised, 1 skipped")
    assert await _events(db, second.id) == ["label_added", "priority_changed"]
    response = await client.post(
        URL,
        json={"action": "label", "conversation_ids": ids, "params": {"label_id": 999}},
        headers=auth,
    )
    assert response.status == 422
    assert (await response.json())["error"]["details"][0]["field"] == "params.label_id"
