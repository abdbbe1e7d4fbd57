"""Automation rules over HTTP and through the real pipe: who writes them, what a save
refuses, and runs that happen after a commit, as the hub, recorded, never in a loop."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
import respx
from aiohttp.test_utils import TestClient
from httpx import Response
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub import appkeys
from hub.automation.rule_actions import AssignRoundRobin, run_rule_action
from hub.automation.rule_runner import RuleRunner
from hub.events.work import unit_of_work
from hub.store.models import (
    Conversation,
    ConversationEvent,
    ConversationLabel,
    Message,
    Notification,
    Rule,
    RuleRun,
    User,
    WorkspaceSetting,
)
from hub.store.types import utcnow
from tests.factories import Factory
from tests.test_custom_channel_e2e import SERVICE, create_channel, message_event, post_signed

Client = TestClient[Any, Any]
UserToken = Callable[..., Awaitable[tuple[User, dict[str, str]]]]
Sessions = async_sessionmaker[AsyncSession]
RULES = "/api/v1/rules"
HOOK = "https://hooks.acme.example/rules"


@pytest.fixture
def outside() -> Iterator[respx.MockRouter]:
    """The custom channel's service and a webhook receiver, mocked at the HTTP layer."""
    with respx.mock(assert_all_called=False) as router:
        router.post(SERVICE).mock(return_value=Response(200, json={"id": "out-1"}))
        yield router


@pytest.fixture
async def owner(user_token: UserToken) -> dict[str, str]:
    _, headers = await user_token("owner@example.com", role="owner")
    return headers


async def error_of(response: Any) -> tuple[int, str]:
    body = await response.json()
    details = body["error"].get("details") or [{"field": ""}]
    return response.status, details[0]["field"]


async def make_rule(client: Client, auth: dict[str, str], **body: Any) -> dict[str, Any]:
    body.setdefault("name", "Rule")
    body.setdefault("event", "message_received")
    response = await client.post(RULES, json=body, headers=auth)
    assert response.status == 201, await response.text()
    created: dict[str, Any] = await response.json()
    return created


async def make(client: Client, auth: dict[str, str], path: str, body: dict[str, Any]) -> int:
    response = await client.post(path, json=body, headers=auth)
    assert response.status == 201, await response.text()
    return int((await response.json())["id"])


async def settle(client: Client) -> None:
    """Wait for the observers, and for those their changes started."""
    for _ in range(4):
        await client.app[appkeys.OBSERVERS].drain()


async def runs_of(client: Client, auth: dict[str, str], rule_id: int) -> list[dict[str, Any]]:
    response = await client.get(f"{RULES}/{rule_id}/runs", headers=auth)
    assert response.status == 200, await response.text()
    items: list[dict[str, Any]] = (await response.json())["items"]
    return items


async def inbound(client: Client, channel: dict[str, Any], external_id: str, text: str) -> int:
    status, _ = await post_signed(client, channel, message_event(external_id, text))
    assert status == 200
    await settle(client)
    async with client.app[appkeys.SESSIONS]() as db:
        message = await db.scalar(select(Message).where(Message.external_id == external_id))
        assert message is not None
        return message.conversation_id


async def test_only_owners_and_managers_manage_rules_and_saves_refuse_bad_parts(
    client: Client, user_token: UserToken, owner: dict[str, str]
) -> None:
    _, agent = await user_token("agent@example.com")
    note = [{"type": "add_comment", "text": "seen"}]
    assert (await client.get(RULES, headers=agent)).status == 403
    refused = await client.post(
        RULES, json={"name": "x", "event": "assigned", "actions": note}, headers=agent
    )
    assert refused.status == 403

    bad: list[tuple[dict[str, Any], str]] = [
        (
            {"conditions": [{"type": "message_text", "op": "matches", "value": "(unclosed"}]},
            "conditions[0].value",
        ),
        ({"conditions": [{"type": "weather", "value": "sunny"}]}, "conditions[0].type"),
        (
            {"conditions": [{"type": "labels", "label_ids": [1], "colour": "x"}]},
            "conditions[0].colour",
        ),
        ({"conditions": [{"type": "team", "op": "is"}]}, "conditions[0].team_ids"),
        ({"event": "no_reply"}, "minutes"),
        ({"actions": [{"type": "add_labels", "label_ids": [99]}]}, "actions[0].label_ids"),
        ({"actions": [{"type": "assign_round_robin", "team_id": 99}]}, "actions[0].team_id"),
        (
            {"actions": [{"type": "send_webhook", "url": "ftp://x.example"}]},
            "actions.0.send_webhook.url",
        ),
        # A URL the HTTP client would refuse when sending: refused when saving.
        (
            {"actions": [{"type": "send_webhook", "url": "http://a.example/\x7f"}]},
            "actions.0.send_webhook.url",
        ),
        ({"event": "sometimes"}, "event"),
    ]
    for change, field in bad:
        body = {"name": "Bad", "event": "message_received", "actions": note, **change}
        response = await client.post(RULES, json=body, headers=owner)
        assert await error_of(response) == (422, field), (change, await response.text())

    first = await make_rule(client, owner, name="First", actions=note)
    second = await make_rule(
        client, owner, name="Second", event="no_reply", minutes=30, actions=note
    )
    moved = await client.post(f"{RULES}/{second['id']}/move", json={"step": -1}, headers=owner)
    assert moved.status == 200
    listed = (await (await client.get(RULES, headers=owner)).json())["items"]
    assert [r["name"] for r in listed] == ["Second", "First"]
    patched = await client.patch(
        f"{RULES}/{first['id']}", json={"enabled": False, "name": "Renamed"}, headers=owner
    )
    assert (await patched.json())["enabled"] is False
    assert (await client.delete(f"{RULES}/{first['id']}", headers=owner)).status == 204
    assert (await client.get(f"{RULES}/{first['id']}", headers=owner)).status == 404


async def test_a_message_about_an_invoice_is_routed_labelled_and_answered_by_the_rule(
    client: Client, owner: dict[str, str], outside: respx.MockRouter, factory: Factory
) -> None:
    billing = await factory.team("Billing")
    label = await make(client, owner, "/api/v1/labels", {"name": "Invoices", "colour": "blue"})
    snippet = await make(
        client,
        owner,
        "/api/v1/snippets",
        {
            "name": "Invoice help",
            "shortcut": "inv",
            "body": "Hi $contact.first_name, billing will help.",
        },
    )
    rule = await make_rule(
        client,
        owner,
        name="Billing routing",
        conditions=[{"type": "message_text", "op": "matches", "value": r"\binvoices?\b"}],
        actions=[
            {"type": "assign", "team_id": billing.id},
            {"type": "add_labels", "label_ids": [label]},
            {"type": "send_snippet", "snippet_id": snippet},
        ],
    )
    channel = await create_channel(client, owner)
    other = await inbound(client, channel, "m-0", "Where is my parcel?")
    conversation_id = await inbound(client, channel, "m-1", "My INVOICE is wrong")
    assert other == conversation_id  # the same thread: the rule saw the second message only

    async with client.app[appkeys.SESSIONS]() as db:
        conversation = await db.get(Conversation, conversation_id)
        assert conversation is not None and conversation.team_id == billing.id
        labels = list(await db.scalars(select(ConversationLabel.label_id)))
        assert labels == [label]
        replies = list(await db.scalars(select(Message).where(Message.direction == "out")))
        assert [(m.text, m.sender_user_id) for m in replies] == [
            ("Hi Ada, billing will help.", None)
        ]
        events = list(await db.scalars(select(ConversationEvent).order_by(ConversationEvent.id)))
        assert [(e.kind, e.actor_id, e.data.get("rule")) for e in events] == [
            ("created", None, None),
            ("assigned", None, "Billing routing"),
            ("label_added", None, "Billing routing"),
        ]
    runs = await runs_of(client, owner, rule["id"])
    assert [(r["outcome"], r["conversation_id"], r["error"]) for r in runs] == [
        ("done", conversation_id, None)
    ]

    # The same message again (same conditions, nothing left to change but the reply).
    await inbound(client, channel, "m-2", "invoice again")
    assert [r["outcome"] for r in await runs_of(client, owner, rule["id"])] == ["done", "done"]


async def test_rules_do_not_trigger_rules_so_two_that_undo_each_other_cannot_loop(
    client: Client, owner: dict[str, str], factory: Factory, user_token: UserToken
) -> None:
    ana, _ = await user_token("ana@example.com")
    a_team = await factory.team("A", members=[ana])
    b_team = await factory.team("B", members=[ana])
    rule_a = await make_rule(
        client,
        owner,
        name="To A",
        event="assigned",
        actions=[{"type": "assign", "team_id": a_team.id}],
    )
    rule_b = await make_rule(
        client,
        owner,
        name="To B",
        event="assigned",
        actions=[{"type": "assign", "team_id": b_team.id}],
    )
    channel = await factory.channel()
    conversation = await factory.conversation(channel)
    response = await client.post(
        f"/api/v1/conversations/{conversation.id}/assign",
        json={"user_id": ana.id},
        headers=owner,
    )
    assert response.status == 200, await response.text()
    await settle(client)
    await settle(client)
    assert len(await runs_of(client, owner, rule_a["id"])) == 1
    assert len(await runs_of(client, owner, rule_b["id"])) == 1
    async with client.app[appkeys.SESSIONS]() as db:
        current = await db.get(Conversation, conversation.id)
        assert current is not None and current.team_id == b_team.id  # B runs after A
        kinds = list(await db.scalars(select(ConversationEvent.kind)))
        assert kinds == ["assigned", "assigned", "assigned"]


async def test_a_failing_action_undoes_the_rules_changes_and_is_recorded(
    client: Client, owner: dict[str, str], factory: Factory
) -> None:
    await factory.add(WorkspaceSetting(key="closing_notes", value="mandatory"))
    label = await make(client, owner, "/api/v1/labels", {"name": "Done", "colour": "green"})
    rule = await make_rule(
        client,
        owner,
        name="Close quietly",
        event="reopened",
        actions=[{"type": "add_labels", "label_ids": [label]}, {"type": "close"}],
    )
    channel = await factory.channel()
    conversation = await factory.conversation(channel, status="closed")
    response = await client.post(f"/api/v1/conversations/{conversation.id}/reopen", headers=owner)
    assert response.status == 200, await response.text()
    await settle(client)
    runs = await runs_of(client, owner, rule["id"])
    assert [r["outcome"] for r in runs] == ["failed"]
    assert runs[0]["error"].startswith("action 2 (close) failed: note: a closing note is required")
    async with client.app[appkeys.SESSIONS]() as db:
        assert list(await db.scalars(select(ConversationLabel))) == []


async def test_round_robin_spreads_over_available_members_and_a_webhook_is_posted(
    client: Client,
    owner: dict[str, str],
    factory: Factory,
    user_token: UserToken,
    outside: respx.MockRouter,
) -> None:
    ana, _ = await user_token("ana@example.com")
    bo, _ = await user_token("bo@example.com")
    away, _ = await user_token("away@example.com")
    async with client.app[appkeys.SESSIONS]() as db:
        await db.execute(update(User).where(User.id == away.id).values(available=False))
        await db.commit()
    team = await factory.team("Support", members=[ana, bo, away])
    hook = outside.post(HOOK).mock(side_effect=[Response(204), Response(500)])
    rule = await make_rule(
        client,
        owner,
        name="Spread",
        event="conversation_created",
        actions=[
            {"type": "assign_round_robin", "team_id": team.id},
            {"type": "send_webhook", "url": HOOK},
        ],
    )
    channel = await create_channel(client, owner)
    first = await inbound(client, channel, "m-1", "hello")
    await post_signed(
        client, channel, message_event("m-2", "hi", sender={"id": "u-7", "name": "Bea"})
    )
    await settle(client)
    async with client.app[appkeys.SESSIONS]() as db:
        rows = list(await db.scalars(select(Conversation).order_by(Conversation.id)))
    assert rows[0].id == first
    assert {c.assignee_id for c in rows} == {ana.id, bo.id}
    assert {c.team_id for c in rows} == {team.id}
    async with client.app[appkeys.SESSIONS]() as db:
        bells = list(await db.scalars(select(Notification).where(Notification.kind == "assigned")))
    assert sorted((n.user_id, n.data["rule"], n.data["by"]) for n in bells) == [
        (ana.id, "Spread", None),
        (bo.id, "Spread", None),
    ]
    # A conversation already with an available member of the team stays with them.
    second = rows[1]
    async with unit_of_work(client.app[appkeys.SESSIONS], client.app[appkeys.BUS]) as work:
        again = await run_rule_action(work, second.id, AssignRoundRobin(team_id=team.id))
    assert again.changed is False
    async with client.app[appkeys.SESSIONS]() as db:
        kept = await db.get(Conversation, second.id)
        assert kept is not None and kept.assignee_id == second.assignee_id
    assert hook.call_count == 2
    sent = hook.calls[0].request
    assert b'"rule":{"id":' in sent.content.replace(b" ", b"")
    outcomes = sorted(
        (r["outcome"], r["error"] or "") for r in await runs_of(client, owner, rule["id"])
    )
    assert outcomes == [("done", ""), ("failed", f"webhook {HOOK} answered 500")]


async def test_no_reply_fires_once_per_waiting_message_even_with_two_hub_processes(
    client: Client, owner: dict[str, str], factory: Factory, db: Sessions
) -> None:
    rule = await make_rule(
        client,
        owner,
        name="Nudge",
        event="no_reply",
        minutes=10,
        actions=[{"type": "set_priority", "priority": "high"}],
    )
    channel = await factory.channel()
    waiting = await factory.conversation(channel)
    answered = await factory.conversation(channel)
    fresh = await factory.conversation(channel)
    old = utcnow() - timedelta(minutes=20)
    await factory.message(waiting, "hello?", created_at=old)
    await factory.message(answered, "hello?", created_at=old)
    await factory.message(answered, "hi!", direction="out", status="sent")
    await factory.message(fresh, "just now")
    async with db() as session:
        await session.execute(update(Rule).values(created_at=utcnow() - timedelta(hours=1)))
        await session.commit()
    bus = client.app[appkeys.BUS]
    one, two = RuleRunner(db, bus, None), RuleRunner(db, bus, None)
    assert await one.fire_due_timers() == 1
    assert await two.fire_due_timers() == 0
    assert await one.fire_due_timers() == 0
    runs = await runs_of(client, owner, rule["id"])
    assert [(r["conversation_id"], r["outcome"]) for r in runs] == [(waiting.id, "done")]
    async with db() as session:
        conversation = await session.get(Conversation, waiting.id)
        assert conversation is not None and conversation.priority == 3
        assert await session.scalar(select(RuleRun.event)) == "no_reply"


async def test_rules_run_in_order_a_stop_ends_the_run_and_nothing_to_change_is_skipped(
    client: Client, owner: dict[str, str], factory: Factory, user_token: UserToken
) -> None:
    ana, _ = await user_token("ana@example.com")
    first = await make(client, owner, "/api/v1/labels", {"name": "First", "colour": "blue"})
    second = await make(client, owner, "/api/v1/labels", {"name": "Second", "colour": "red"})
    one = await make_rule(
        client,
        owner,
        name="One",
        event="assigned",
        stop_processing=True,
        actions=[{"type": "add_labels", "label_ids": [first]}],
    )
    two = await make_rule(
        client,
        owner,
        name="Two",
        event="assigned",
        actions=[{"type": "add_labels", "label_ids": [second]}],
    )
    off = await make_rule(
        client,
        owner,
        name="Off",
        event="assigned",
        enabled=False,
        actions=[{"type": "add_comment", "text": "never"}],
    )
    conversation = await factory.conversation(await factory.channel())
    assign = f"/api/v1/conversations/{conversation.id}/assign"
    blocked = await factory.conversation(
        await factory.channel(), await factory.contact(blocked=True)
    )
    response = await client.post(
        f"/api/v1/conversations/{blocked.id}/assign", json={"user_id": ana.id}, headers=owner
    )
    assert response.status == 200, await response.text()
    await settle(client)
    assert await runs_of(client, owner, one["id"]) == []  # rules leave blocked contacts alone

    async def labels() -> list[int]:
        async with client.app[appkeys.SESSIONS]() as db:
            return sorted(await db.scalars(select(ConversationLabel.label_id)))

    assert (await client.post(assign, json={"user_id": ana.id}, headers=owner)).status == 200
    await settle(client)
    assert await labels() == [first]
    assert [len(await runs_of(client, owner, r["id"])) for r in (one, two, off)] == [1, 0, 0]

    await client.patch(f"{RULES}/{one['id']}", json={"stop_processing": False}, headers=owner)
    assert (await client.post(assign, json={"user_id": ana.id}, headers=owner)).status == 200
    await settle(client)
    assert await labels() == [first, second]
    assert [r["outcome"] for r in await runs_of(client, owner, one["id"])] == ["skipped", "done"]
    assert [r["outcome"] for r in await runs_of(client, owner, two["id"])] == ["done"]
    assert await runs_of(client, owner, off["id"]) == []

    page = await (await client.get(f"{RULES}/{one['id']}/runs?limit=1", headers=owner)).json()
    assert [r["outcome"] for r in page["items"]] == ["skipped"] and page["next_cursor"]
    rest = await client.get(
        f"{RULES}/{one['id']}/runs?limit=1&cursor={page['next_cursor']}", headers=owner
    )
    assert [r["outcome"] for r in (await rest.json())["items"]] == ["done"]
    bad = await client.get(f"{RULES}/{one['id']}/runs?cursor=nonsense", headers=owner)
    assert bad.status == 422
