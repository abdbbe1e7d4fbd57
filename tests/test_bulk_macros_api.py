"""A macro run on many conversations as a bulk job: each conversation all or nothing
(a failed action undoes that conversation's earlier ones, and their live events), the
job runs the actions copied when it started, and bad input is a precise 422."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp.test_utils import TestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.auth.visibility import Viewer
from hub.automation.bulk_macros import bulk_actions
from hub.events.bus import MemoryBus
from hub.events.work import unit_of_work
from hub.inbox import bulk
from hub.store.models import Comment, Conversation, ConversationEvent, ConversationLabel, User
from hub.testing import eventually
from tests.factories import Factory
from tests.test_macros_api import make_label, make_macro

Client = TestClient[Any, Any]
UserToken = Callable[..., Awaitable[tuple[User, dict[str, str]]]]
Sessions = async_sessionmaker[AsyncSession]
URL = "/api/v1/conversations/bulk"


async def _state(db: Sessions, ids: list[int]) -> dict[int, tuple[str, int, list[str]]]:
    """Each conversation's status, priority and timeline event kinds."""
    async with db() as session:
        rows = await session.execute(
            select(Conversation.id, Conversation.status, Conversation.priority).where(
                Conversation.id.in_(ids)
            )
        )
        events = await session.execute(
            select(ConversationEvent.conversation_id, ConversationEvent.kind)
            .where(ConversationEvent.conversation_id.in_(ids))
            .order_by(ConversationEvent.id)
        )
        kinds: dict[int, list[str]] = {i: [] for i in ids}
        for conversation_id, kind in events.all():
            kinds[conversation_id].append(kind)
        return {i: (status, priority, kinds[i]) for i, status, priority in rows.all()}


async def _labelled(db: Sessions, label_id: int) -> set[int]:
    async with db() as session:
        found = await session.scalars(
            select(ConversationLabel.conversation_id).where(ConversationLabel.label_id == label_id)
        )
        return set(found)


async def test_a_macro_runs_on_each_conversation_all_or_nothing_in_the_background(
    client: Client, user_token: UserToken, factory: Factory, db: Sessions
) -> None:
    _, admin = await user_token("admin@example.com", role="manager")
    _, agent = await user_token("ana@example.com")
    vip = await make_label(client, admin, "VIP")
    channel = await factory.channel()
    open_ones = [await factory.conversation(channel, minutes=i) for i in range(30)]
    # Snoozing a closed conversation is refused (409) after its label went on.
    closed = await factory.conversation(channel, status="closed")
    macro = await make_macro(
        client,
        agent,
        "VIP and wait",
        [
            {"type": "add_labels", "label_ids": [vip]},
            {"type": "set_priority", "priority": "high"},
            {"type": "snooze", "minutes": 60},
        ],
    )
    ids = [c.id for c in open_ones] + [closed.id]

    response = await client.post(
        URL,
        json={"action": "macro", "conversation_ids": ids, "params": {"macro_id": macro["id"]}},
        headers=agent,
    )

    assert response.status == 202, await response.text()
    assert (await response.json())["status"] == "queued"  # more than run in the request

    async def finished() -> dict[str, Any]:
        body = dict(await (await client.get(response.headers["Location"], headers=agent)).json())
        assert body["status"] == "finished", body
        return body

    job = await eventually(finished, timeout=30)
    assert (job["done"], job["skipped"], job["refused"]) == (30, 0, 1)
    assert job["summary"] == "30 done, 1 refused"
    state = await _state(db, ids)
    for conversation in open_ones:
        status, _, kinds = state[conversation.id]
        assert status == "snoozed"
        assert kinds == ["label_added", "priority_changed", "snoozed"], kinds
    # The refused one kept nothing: no label, no priority, no event.
    assert state[closed.id] == ("closed", 0, [])
    assert await _labelled(db, vip) == {c.id for c in open_ones}


async def test_a_job_runs_the_actions_copied_when_it_started_and_drops_a_failures_events(
    client: Client,
    user_token: UserToken,
    factory: Factory,
    db: Sessions,
) -> None:
    ana, agent = await user_token("ana@example.com", role="manager")
    urgent_label = await make_label(client, agent, "Urgent")
    channel = await factory.channel()
    fresh = await factory.conversation(channel)
    already = await factory.conversation(channel, priority=3)  # high already
    closed = await factory.conversation(channel, status="closed")
    macro = await make_macro(
        client,
        agent,
        "Escalate",
        [{"type": "set_priority", "priority": "high"}, {"type": "snooze", "minutes": 5}],
    )
    actions = bulk_actions(None)
    async with unit_of_work(db, MemoryBus(), None) as work:
        job = await bulk.start(
            work,
            Viewer.of(ana),
            "macro",
            {"macro_id": macro["id"]},
            ids=[fresh.id, already.id, closed.id],
            actions=actions,
        )
        job_id = job.id
        assert job.params["name"] == "Escalate"
        assert [a["type"] for a in job.params["actions"]] == ["set_priority", "snooze"]
    # Changed and then deleted before the job runs: the job still runs what was chosen.
    changed = await client.patch(
        f"/api/v1/macros/{macro['id']}",
        json={"actions": [{"type": "add_labels", "label_ids": [urgent_label]}]},
        headers=agent,
    )
    assert changed.status == 200, await changed.text()
    assert (await client.delete(f"/api/v1/macros/{macro['id']}", headers=agent)).status == 204

    async with unit_of_work(db, MemoryBus(), None) as work:
        ran = await bulk.run_batch(work, job_id, actions)
        touched = {e.scope.conversation_id for e in work.events if e.scope is not None}
    assert ran is not None
    # ``already`` was high: its priority action was no change, but the snooze was one.
    assert (ran.status, ran.done, ran.skipped, ran.refused) == ("finished", 2, 0, 1)
    assert closed.id not in touched  # its priority change was rolled back, and announced not
    assert fresh.id in touched
    state = await _state(db, [fresh.id, already.id, closed.id])
    assert state[fresh.id] == ("snoozed", 3, ["priority_changed", "snoozed"])
    assert state[already.id] == ("snoozed", 3, ["snoozed"])
    assert state[closed.id] == ("closed", 0, [])
    assert await _labelled(db, urgent_label) == set()


async def test_a_macro_whose_every_action_is_no_change_is_skipped(
    client: Client, user_token: UserToken, factory: Factory, db: Sessions
) -> None:
    _, agent = await user_token("ana@example.com")
    channel = await factory.channel()
    high = await factory.conversation(channel, priority=3)
    low = await factory.conversation(channel)
    macro = await make_macro(client, agent, "High", [{"type": "set_priority", "priority": "high"}])

    response = await client.post(
        URL,
        json={
            "action": "macro",
            "conversation_ids": [high.id, low.id],
            "params": {"macro_id": macro["id"]},
        },
        headers=agent,
    )

    job = await response.json()
    assert (job["status"], job["done"], job["skipped"], job["refused"]) == ("finished", 1, 1, 0)
    assert (await _state(db, [high.id]))[high.id][2] == []


async def test_an_unknown_or_anothers_macro_is_a_422_naming_it(
    client: Client, user_token: UserToken, factory: Factory
) -> None:
    _, agent = await user_token("ana@example.com")
    _, other = await user_token("bo@example.com")
    theirs = await make_macro(client, other, "Bo's", [{"type": "add_comment", "text": "hi"}])
    conversation = await factory.conversation(await factory.channel())

    for params in ({"macro_id": theirs["id"]}, {"macro_id": 99999}, {}, {"macro_id": "x"}):
        response = await client.post(
            URL,
            json={"action": "macro", "conversation_ids": [conversation.id], "params": params},
            headers=agent,
        )
        assert response.status == 422, await response.text()
        details = (await response.json())["error"]["details"]
        assert details[0]["field"] == "params.macro_id", details


async def test_a_repeated_request_with_its_idempotency_key_runs_the_job_once(
    client: Client, user_token: UserToken, factory: Factory, db: Sessions
) -> None:
    _, agent = await user_token("ana@example.com")
    channel = await factory.channel()
    ids = [(await factory.conversation(channel)).id for _ in range(3)]
    macro = await make_macro(client, agent, "Note", [{"type": "add_comment", "text": "seen"}])
    body = {"action": "macro", "conversation_ids": ids, "params": {"macro_id": macro["id"]}}
    keyed = {**agent, "Idempotency-Key": "bulk-1"}

    first = await client.post(URL, json=body, headers=keyed)
    again = await client.post(URL, json=body, headers=keyed)

    assert (first.status, again.status) == (202, 202)
    assert "Idempotent-Replayed" not in first.headers
    assert again.headers["Idempotent-Replayed"] == "true"
    job = await first.json()
    assert (await again.json())["id"] == job["id"]
    assert (job["status"], job["done"]) == ("finished", 3)
    async with db() as session:
        commented = list(await session.scalars(select(Comment.conversation_id)))
    assert sorted(commented) == sorted(ids)  # one comment each, not two
    # The same key for another request is refused, not run.
    other = await client.post(URL, json={**body, "conversation_ids": ids[:1]}, headers=keyed)
    assert other.status == 422, await other.text()
    assert (await other.json())["error"]["code"] == "idempotency_key_reused"
