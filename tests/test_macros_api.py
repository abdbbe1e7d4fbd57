"""Macros over HTTP: who sees and writes which, what a save refuses, and runs that do
what the ordinary actions do (the same timeline events, the same channel checks), or
nothing at all when an action fails."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub import appkeys
from hub.app import create_app
from hub.plugin_manager import HubPluginManager, PluginInfo
from hub.settings import Settings
from hub.store.models import (
    Comment,
    Conversation,
    ConversationEvent,
    ConversationLabel,
    Message,
    OutboxItem,
    User,
)
from tests.factories import Factory
from tests.test_agent_channel_features import Hub, Plugin, Recorder, conversation_on

Client = TestClient[Any, Any]
UserToken = Callable[..., Awaitable[tuple[User, dict[str, str]]]]
Sessions = async_sessionmaker[AsyncSession]
MACROS = "/api/v1/macros"


async def error_of(response: Any) -> tuple[int, str, str]:
    """Status, the field named, and the message of an error response."""
    body = await response.json()
    details = body["error"].get("details") or [{"field": ""}]
    return response.status, details[0]["field"], body["error"]["message"]


async def make_macro(
    client: Client, auth: dict[str, str], name: str, actions: list[dict[str, Any]], **extra: Any
) -> dict[str, Any]:
    response = await client.post(
        MACROS, json={"name": name, "actions": actions, **extra}, headers=auth
    )
    assert response.status == 201, await response.text()
    body: dict[str, Any] = await response.json()
    return body


async def make_label(client: Client, auth: dict[str, str], name: str) -> int:
    response = await client.post(
        "/api/v1/labels", json={"name": name, "colour": "blue"}, headers=auth
    )
    assert response.status == 201, await response.text()
    return int((await response.json())["id"])


async def make_snippet(client: Client, auth: dict[str, str], body: str) -> int:
    response = await client.post(
        "/api/v1/snippets",
        json={"name": "Thanks", "shortcut": "thanks", "body": body},
        headers=auth,
    )
    assert response.status == 201, await response.text()
    return int((await response.json())["id"])


async def run(client: Client, auth: dict[str, str], macro_id: int, conversation_id: int) -> Any:
    return await client.post(
        f"{MACROS}/{macro_id}/run", json={"conversation_id": conversation_id}, headers=auth
    )


async def timeline(db: Sessions, conversation_id: int) -> list[tuple[str, int | None]]:
    async with db() as session:
        rows = await session.scalars(
            select(ConversationEvent)
            .where(ConversationEvent.conversation_id == conversation_id)
            .order_by(ConversationEvent.id)
        )
        return [(e.kind, e.actor_id) for e in rows]


NOTE = [{"type": "add_comment", "text": "seen"}]


@pytest.fixture
async def hub(
    settings: Settings,
    aiohttp_client: Callable[..., Awaitable[Client]],
    user_token: UserToken,
) -> Hub:
    """The hub with a WhatsApp-like channel type (a 24-hour window) installed."""
    record = Recorder()
    manager = HubPluginManager(autoload=False)
    manager.register(
        Plugin(record), PluginInfo(name="macro-test", distribution="tests", version="0")
    )
    idle = settings.model_copy(update={"outbox_poll_seconds": 3600})
    client = await aiohttp_client(create_app(idle, plugins=manager))
    agent, auth = await user_token("agent@example.com")
    return Hub(client, record, auth, agent)


async def test_everyone_sees_shared_and_own_macros_and_writes_what_they_may(
    client: Client, user_token: UserToken
) -> None:
    _, admin = await user_token("admin@example.com", role="manager")
    ana, agent = await user_token("ana@example.com")
    _, other = await user_token("bo@example.com")
    shared = await make_macro(client, admin, "Escalate", NOTE, shared=True)
    mine = await make_macro(client, agent, "my triage", NOTE)
    theirs = await make_macro(client, other, "Bo's", NOTE)
    assert (shared["shared"], shared["owner_id"]) == (True, None)
    assert (mine["shared"], mine["owner_id"]) == (False, ana.id)

    listed = await (await client.get(MACROS, headers=agent)).json()
    assert [m["name"] for m in listed["items"]] == ["Escalate", "my triage"]
    # Admins do not see agents' personal macros either: they are personal.
    listed = await (await client.get(MACROS, headers=admin)).json()
    assert [m["name"] for m in listed["items"]] == ["Escalate"]
    found = await (await client.get(MACROS, params={"q": "TRI"}, headers=agent)).json()
    assert [m["id"] for m in found["items"]] == [mine["id"]]

    # Another's personal macro is not found, whatever the verb.
    item = f"{MACROS}/{theirs['id']}"
    assert (await client.get(item, headers=agent)).status == 404
    assert (await client.patch(item, json={"name": "x"}, headers=agent)).status == 404
    assert (await client.delete(item, headers=agent)).status == 404
    assert (await run(client, agent, theirs["id"], 1)).status == 404

    # A shared one is readable but not writable by agents.
    item = f"{MACROS}/{shared['id']}"
    assert (await client.get(item, headers=agent)).status == 200
    assert (await client.patch(item, json={"name": "x"}, headers=agent)).status == 403
    assert (await client.delete(item, headers=agent)).status == 403
    shared_by_agent = await client.post(
        MACROS, json={"name": "S", "actions": NOTE, "shared": True}, headers=agent
    )
    assert shared_by_agent.status == 403
    sharing = await client.patch(f"{MACROS}/{mine['id']}", json={"shared": True}, headers=agent)
    assert sharing.status == 403

    renamed = await client.patch(
        f"{MACROS}/{mine['id']}",
        json={"name": "Mine", "actions": [{"type": "set_priority", "priority": "high"}]},
        headers=agent,
    )
    assert renamed.status == 200
    assert (await renamed.json())["actions"] == [{"type": "set_priority", "priority": "high"}]
    assert (await client.patch(item, json={"name": "Escalate!"}, headers=admin)).status == 200
    assert (await client.delete(f"{MACROS}/{mine['id']}", headers=agent)).status == 204
    assert (await client.get(f"{MACROS}/{mine['id']}", headers=agent)).status == 404


async def test_bad_macros_are_refused_precisely(
    client: Client, user_token: UserToken, factory: Factory
) -> None:
    _, admin = await user_token("admin@example.com", role="owner")
    member, _ = await user_token("member@example.com")
    gone, _ = await user_token("gone@example.com", active=False)
    team = await factory.team("Support")
    label = await make_label(client, admin, "Billing")
    for actions, field in [
        ([], "actions"),
        ([{"type": "dance"}], "actions"),
        ([{"type": "assign"}], "actions"),
        ([{"type": "assign", "user_id": 999999}], "actions[0].user_id"),
        ([{"type": "assign", "user_id": gone.id}], "actions[0].user_id"),
        ([{"type": "assign", "team_id": 999999}], "actions[0].team_id"),
        ([*NOTE, {"type": "add_labels", "label_ids": [label, 424242]}], "actions[1].label_ids"),
        ([{"type": "add_labels", "label_ids": []}], "actions"),
        ([{"type": "remove_labels", "label_ids": [424242]}], "actions[0].label_ids"),
        ([{"type": "set_priority", "priority": "whenever"}], "actions"),
        ([{"type": "send_snippet", "snippet_id": 999999}], "actions[0].snippet_id"),
        ([{"type": "add_comment", "text": "   "}], "actions"),
        ([{"type": "snooze"}], "actions"),
        ([{"type": "snooze", "preset": "later", "minutes": 5}], "actions"),
        ([{"type": "snooze", "minutes": 0}], "actions"),
        ([{"type": "close", "colour": "red"}], "actions"),
        (NOTE * 21, "actions"),
    ]:
        response = await client.post(MACROS, json={"name": "M", "actions": actions}, headers=admin)
        status, named, message = await error_of(response)
        assert status == 422 and named.startswith(field), (actions, named, message)
    assert (
        "no label with id 424242"
        in (
            await error_of(
                await client.post(
                    MACROS,
                    json={"name": "M", "actions": [{"type": "add_labels", "label_ids": [424242]}]},
                    headers=admin,
                )
            )
        )[2]
    )
    for body in ({"actions": NOTE}, {"name": "  ", "actions": NOTE}, {"name": "x" * 101}):
        status, named, _ = await error_of(await client.post(MACROS, json=body, headers=admin))
        assert (status, named) == (422, "name"), body
    good = [{"type": "assign", "user_id": member.id, "team_id": team.id}]
    # Membership is the assign function's own check, at run time.
    saved = await client.post(MACROS, json={"name": "M", "actions": good}, headers=admin)
    assert saved.status == 201, await saved.text()
    macro = await make_macro(client, admin, "ok", NOTE)
    nulled = await client.patch(f"{MACROS}/{macro['id']}", json={"name": None}, headers=admin)
    assert nulled.status == 422
    assert (await client.get(f"{MACROS}/abc", headers=admin)).status == 404
    assert (await run(client, admin, macro["id"], 0)).status == 422
    assert (await run(client, admin, macro["id"], 999999)).status == 404


async def test_a_run_does_each_action_with_its_ordinary_timeline_event(
    client: Client, user_token: UserToken, factory: Factory, db: Sessions
) -> None:
    _, admin = await user_token("admin@example.com", role="manager")
    ana, agent = await user_token("ana@example.com")
    label = await make_label(client, admin, "Billing")
    conversation = await factory.conversation(await factory.channel())
    macro = await make_macro(
        client,
        agent,
        "Billing done",
        [
            {"type": "assign", "user_id": ana.id},
            {"type": "add_labels", "label_ids": [label]},
            {"type": "set_priority", "priority": "urgent"},
            {"type": "add_comment", "text": "Refund issued"},
            {"type": "close"},
        ],
    )

    subscription = client.app[appkeys.BUS].subscribe()
    response = await run(client, agent, macro["id"], conversation.id)
    subscription.close()
    events = [event async for event in subscription]

    assert response.status == 200, await response.text()
    body = await response.json()
    # The ordinary live events, as if each were done by hand.
    assert [e.data["event"] for e in events if e.type == "conversation.updated"] == [
        "assigned",
        "label_added",
        "priority_changed",
        "closed",
    ]
    assert [e.data["body"] for e in events if e.type == "comment.created"] == ["Refund issued"]
    assert [o["type"] for o in body["outcomes"]] == [
        "assign",
        "add_labels",
        "set_priority",
        "add_comment",
        "close",
    ]
    assert body["outcomes"][3]["comment_id"] is not None
    assert await timeline(db, conversation.id) == [
        ("assigned", ana.id),
        ("label_added", ana.id),
        ("priority_changed", ana.id),
        ("closed", ana.id),
    ]
    async with db() as session:
        stored = await session.get(Conversation, conversation.id)
        assert stored is not None
        assert (stored.assignee_id, stored.priority, stored.status) == (ana.id, 4, "closed")
        comment = await session.get(Comment, body["outcomes"][3]["comment_id"])
        assert comment is not None and comment.body == "Refund issued"

    # Again: what is already so is no change, and a closed conversation stays closed.
    again = await (await run(client, agent, macro["id"], conversation.id)).json()
    assert [o["changed"] for o in again["outcomes"]] == [True, True, False, True, False]


async def test_a_run_that_fails_midway_changes_nothing(
    client: Client, user_token: UserToken, factory: Factory, db: Sessions
) -> None:
    _, admin = await user_token("admin@example.com", role="manager")
    _ana, agent = await user_token("ana@example.com")
    label = await make_label(client, admin, "Billing")
    doomed = await make_label(client, admin, "Doomed")
    conversation = await factory.conversation(await factory.channel())
    macro = await make_macro(
        client,
        agent,
        "Half",
        [
            {"type": "add_labels", "label_ids": [label]},
            {"type": "add_comment", "text": "on it"},
            {"type": "add_labels", "label_ids": [doomed]},
            {"type": "close"},
        ],
    )
    # Deleted after the macro was saved: the run says which action and why.
    assert (await client.delete(f"/api/v1/labels/{doomed}", headers=admin)).status == 204

    response = await run(client, agent, macro["id"], conversation.id)

    status, named, message = await error_of(response)
    assert (status, named) == (422, "actions[2]")
    assert message.startswith("action 3 (add_labels) failed:")
    assert f"no label with id {doomed}" in message
    detail = (await response.json())["error"]["details"][0]
    assert (detail["action_index"], detail["action_type"]) == (2, "add_labels")
    assert await timeline(db, conversation.id) == []
    async with db() as session:
        assert await session.scalar(select(func.count()).select_from(Comment)) == 0
        assert await session.scalar(select(func.count()).select_from(ConversationLabel)) == 0
        stored = await session.get(Conversation, conversation.id)
        assert stored is not None and stored.status == "open"


async def test_an_agent_cannot_run_a_macro_on_a_conversation_they_cannot_see(
    client: Client, user_token: UserToken, factory: Factory, db: Sessions
) -> None:
    _, agent = await user_token("ana@example.com", visibility="assigned")
    hidden = await factory.conversation(await factory.channel())
    macro = await make_macro(client, agent, "Note", NOTE)

    response = await run(client, agent, macro["id"], hidden.id)

    assert response.status == 404
    assert (await response.json())["error"]["message"] == "conversation not found"
    assert await timeline(db, hidden.id) == []


async def test_a_snippet_action_queues_a_reply_the_channel_window_allows(
    hub: Hub, factory: Factory, db: Sessions, user_token: UserToken
) -> None:
    _, admin = await user_token("admin@example.com", role="owner")
    snippet = await make_snippet(hub.client, admin, "Hi $contact.first_name|there, thanks!")
    _, open_window = await conversation_on(factory, "windowed", inbound_hours_ago=1)
    _, closed_window = await conversation_on(
        factory, "windowed", inbound_hours_ago=25, recipient="wa-4916"
    )
    macro = await make_macro(
        hub.client,
        hub.auth,
        "Thank",
        [{"type": "send_snippet", "snippet_id": snippet}, {"type": "add_comment", "text": "x"}],
    )

    sent = await run(hub.client, hub.auth, macro["id"], open_window.id)
    refused = await run(hub.client, hub.auth, macro["id"], closed_window.id)

    assert sent.status == 200, await sent.text()
    message_id = (await sent.json())["outcomes"][0]["message_id"]
    assert refused.status == 409
    error = (await refused.json())["error"]
    assert error["code"] == "window_closed"
    assert error["message"].startswith("action 1 (send_snippet) failed:")
    async with db() as session:
        message = await session.get(Message, message_id)
        assert message is not None
        # Queued; the outbox worker, woken by the reply's event, may have sent it already.
        assert message.status in ("pending", "sent")
        assert (message.direction, message.sender_user_id) == ("out", hub.agent.id)
        assert message.text is not None and message.text.startswith("Hi ")
        assert message.text.endswith(", thanks!")
        assert (
            await session.scalar(
                select(func.count())
                .select_from(OutboxItem)
                .where(OutboxItem.message_id == message_id)
            )
            == 1
        )
        # The refused run queued nothing and wrote no comment.
        queued = await session.scalar(
            select(func.count())
            .select_from(Message)
            .where(Message.conversation_id == closed_window.id)
        )
        assert queued == 0
        assert (
            await session.scalar(
                select(func.count())
                .select_from(Comment)
                .where(Comment.conversation_id == closed_window.id)
            )
            == 0
        )


async def test_a_snooze_and_a_removal_run_and_unsharing_makes_a_macro_the_admins(
    client: Client, user_token: UserToken, factory: Factory, db: Sessions
) -> None:
    manager, admin = await user_token("admin@example.com", role="manager")
    _, agent = await user_token("ana@example.com")
    label = await make_label(client, admin, "Billing")
    conversation = await factory.conversation(await factory.channel())
    macro = await make_macro(
        client,
        admin,
        "Later",
        [
            {"type": "remove_labels", "label_ids": [label]},
            {"type": "snooze", "minutes": 90},
        ],
        shared=True,
    )

    ran = await (await run(client, agent, macro["id"], conversation.id)).json()

    assert [o["changed"] for o in ran["outcomes"]] == [False, True]
    async with db() as session:
        stored = await session.get(Conversation, conversation.id)
        assert stored is not None and stored.status == "snoozed"
        assert stored.snoozed_until is not None
        assert 85 * 60 < (stored.snoozed_until - stored.status_changed_at).total_seconds() < 95 * 60
    # A closed conversation is not snoozed, by a macro as by hand: 409, naming the action.
    closed = await client.post(
        f"/api/v1/conversations/{conversation.id}/close", json={}, headers=agent
    )
    assert closed.status == 200, await closed.text()
    refused = await run(client, agent, macro["id"], conversation.id)
    assert refused.status == 409
    error = (await refused.json())["error"]
    assert error["code"] == "conversation_closed"
    assert error["message"].startswith("action 2 (snooze) failed:")
    unshared = await client.patch(f"{MACROS}/{macro['id']}", json={"shared": False}, headers=admin)
    assert (await unshared.json())["owner_id"] == manager.id
    assert (await client.get(f"{MACROS}/{macro['id']}", headers=agent)).status == 404
