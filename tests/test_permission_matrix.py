"""The whole role-by-visibility-by-endpoint matrix: nobody reaches more than they may see.

One world, five callers (owner, manager, and agents who see all, their team's, or only
what is assigned to them). For every endpoint that names a conversation, message,
comment, contact or attachment, a hidden object answers 404 — like a missing one — and
a visible one does not. ``test_the_matrix_covers_every_object_endpoint`` fails when a
new such route is added without a row here.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.media.store import FileMediaStore
from hub.settings import Settings
from hub.store.models import (
    Attachment,
    Comment,
    Contact,
    ContactIdentity,
    Conversation,
    ConversationLabel,
    Label,
    SlaPolicy,
    User,
)
from tests.factories import Factory

Client = TestClient[Any, Any]
UserToken = Callable[..., Awaitable[tuple[User, dict[str, str]]]]
CALLERS = {
    "owner": {"role": "owner"},
    "manager": {"role": "manager"},
    "agent_all": {"role": "agent", "visibility": "all"},
    "agent_team": {"role": "agent", "visibility": "team"},
    "agent_assigned": {"role": "agent", "visibility": "assigned"},
}
# Which conversations each caller may see, written out by hand from the rules rather
# than computed, so the test states the rules independently of the code.
CONVERSATIONS = ("assigned_to_restricted", "team_a", "team_b", "other_agent", "nobody", "blocked")
VISIBLE = {
    "owner": set(CONVERSATIONS),
    "manager": set(CONVERSATIONS),
    "agent_all": set(CONVERSATIONS),
    "agent_team": {"team_a", "assigned_to_restricted"},
    "agent_assigned": {"assigned_to_restricted"},
}
VIEWS = {
    "owner": {"all", "mine", "unassigned", "blocked", "team_a", "team_b"},
    "manager": {"all", "mine", "unassigned", "blocked", "team_a", "team_b"},
    "agent_all": {"all", "mine", "unassigned", "blocked", "team_a", "team_b"},
    "agent_team": {"mine", "team_a"},
    "agent_assigned": {"mine"},
}


@dataclass
class Thing:
    """One conversation and everything hanging off it."""

    conversation: int
    message: int
    comment: int
    contact: int
    attachment: int


@dataclass
class World:
    things: dict[str, Thing]
    layout: dict[str, dict[str, Any]]
    teams: dict[str, int]
    auth: dict[str, dict[str, str]]
    users: dict[str, User]
    channel: int
    factory: Factory
    db: async_sessionmaker[AsyncSession]
    label: int = 0

    async def restore(self, name: str) -> None:
        """Undo what a call may have changed, so every call meets the same world."""
        thing = self.things[name]
        blocked = name == "blocked"
        values = {"assignee_id": None, "team_id": None, **self.layout[name]}
        async with self.db() as session:
            await session.execute(
                update(Conversation)
                .where(Conversation.id == thing.conversation)
                .values(status="open", snoozed_until=None, contact_blocked=blocked, **values)
            )
            await session.execute(
                update(Contact).where(Contact.id == thing.contact).values(blocked=blocked)
            )
            await session.commit()


@pytest.fixture
async def world(
    factory: Factory,
    user_token: UserToken,
    db: async_sessionmaker[AsyncSession],
    settings: Settings,
) -> World:
    """The matrix's world (see ``build_world``)."""
    return await build_world(factory, user_token, db, settings)


async def build_world(
    factory: Factory,
    user_token: UserToken,
    db: async_sessionmaker[AsyncSession],
    settings: Settings,
) -> World:
    """Five callers, two teams, and six conversations laid out as ``VISIBLE`` says, each
    with a message, a comment, an attachment and a contact identity."""
    users: dict[str, User] = {}
    auth: dict[str, dict[str, str]] = {}
    for name, kwargs in CALLERS.items():
        users[name], auth[name] = await user_token(f"{name}@example.com", **kwargs)
    # Both restricted agents are in team A; the team-restricted one is how team A's
    # conversations become visible, the assigned-only one must still not see them.
    team_a = await factory.team("A", members=[users["agent_team"], users["agent_assigned"]])
    team_b = await factory.team("B")
    channel = await factory.channel()
    store = FileMediaStore.in_data_dir(settings.data_dir)
    sha = await store.put(b"secret file")
    layout: dict[str, dict[str, Any]] = {
        "assigned_to_restricted": {"assignee_id": users["agent_assigned"].id, "team_id": team_a.id},
        "team_a": {"team_id": team_a.id},
        "team_b": {"team_id": team_b.id},
        "other_agent": {"assignee_id": users["agent_all"].id},
        "nobody": {},
        "blocked": {"assignee_id": users["agent_assigned"].id},
    }
    things: dict[str, Thing] = {}
    for i, (name, values) in enumerate(layout.items()):
        contact = await factory.contact(f"Contact {name}", blocked=name == "blocked")
        conversation = await factory.conversation(channel, contact, minutes=i, **values)
        message = await factory.message(conversation, f"message in {name}")
        comment = Comment(conversation_id=conversation.id, body=f"comment in {name}")
        attachment = Attachment(
            message_id=message.id, sha256=sha, filename="a.txt", content_type="text/plain", size=11
        )
        identity = ContactIdentity(contact_id=contact.id, channel_id=channel.id, external_id=name)
        await factory.add(comment, attachment, identity)
        things[name] = Thing(conversation.id, message.id, comment.id, contact.id, attachment.id)
    teams = {"team_a": team_a.id, "team_b": team_b.id}
    label = Label(name="Matrix", name_key="matrix", colour="blue")
    await factory.add(label)
    return World(things, layout, teams, auth, users, channel.id, factory, db, label.id)


def soon() -> str:
    return (datetime.now(UTC) + timedelta(hours=1)).isoformat()


# (method, route template, body): every endpoint that names an object of a conversation.
ENDPOINTS: list[tuple[str, str, Any]] = [
    ("GET", "/api/v1/conversations/{conversation_id}", None),
    ("GET", "/api/v1/conversations/{conversation_id}/messages", None),
    ("POST", "/api/v1/conversations/{conversation_id}/messages", {"text": "hi"}),
    ("GET", "/api/v1/conversations/{conversation_id}/timeline", None),
    ("GET", "/api/v1/conversations/{conversation_id}/comments", None),
    ("POST", "/api/v1/conversations/{conversation_id}/comments", {"body": "note"}),
    ("POST", "/api/v1/conversations/{conversation_id}/assign", {"user_id": None, "team_id": None}),
    ("POST", "/api/v1/conversations/{conversation_id}/unassign", None),
    ("POST", "/api/v1/conversations/{conversation_id}/close", {}),
    ("POST", "/api/v1/conversations/{conversation_id}/reopen", None),
    ("POST", "/api/v1/conversations/{conversation_id}/snooze", "SOON"),
    ("POST", "/api/v1/conversations/{conversation_id}/unsnooze", None),
    ("POST", "/api/v1/conversations/{conversation_id}/read", None),
    # Into itself: refused (422) once the caller may see it, so nothing is merged.
    ("POST", "/api/v1/conversations/{conversation_id}/merge", "SELF"),
    ("POST", "/api/v1/conversations/{conversation_id}/labels", "LABEL"),
    ("DELETE", "/api/v1/conversations/{conversation_id}/labels/{label_id}", "UNLABEL"),
    ("POST", "/api/v1/conversations/{conversation_id}/priority", {"priority": "high"}),
    ("GET", "/api/v1/conversations/{conversation_id}/csat", None),
    ("PUT", "/api/v1/conversations/{conversation_id}/sla", "SLA"),
    ("DELETE", "/api/v1/conversations/{conversation_id}/sla", None),
    ("GET", "/api/v1/messages/{message_id}", None),
    ("POST", "/api/v1/messages/{message_id}/retry", None),
    ("GET", "/api/v1/attachments/{attachment_id}", None),
    ("GET", "/api/v1/contacts/{contact_id}", None),
    ("PATCH", "/api/v1/contacts/{contact_id}", {"first_name": "Renamed"}),
    ("GET", "/api/v1/contacts/{contact_id}/identities", None),
    ("POST", "/api/v1/contacts/{contact_id}/block", None),
    ("POST", "/api/v1/contacts/{contact_id}/unblock", None),
    ("POST", "/api/v1/contacts/{contact_id}/merge", "SPARE"),
    ("POST", "/api/v1/contacts/{contact_id}/identities", "IDENTITY"),
    ("GET", "/api/v1/contacts/{contact_id}/crm", None),
    (
        "PATCH",
        "/api/v1/contacts/{contact_id}/crm",
        {"connection_id": 1, "field": "firstname", "value": "Ann", "expected": None},
    ),
    ("POST", "/api/v1/conversations", "START"),
    ("GET", "/api/v1/search", "SEARCH"),
    ("PUT", "/api/v1/conversations/{conversation_id}/draft", {"mode": "reply", "body": "d"}),
    ("GET", "/api/v1/conversations/{conversation_id}/draft", None),
    ("DELETE", "/api/v1/conversations/{conversation_id}/draft", None),
    # Last: it deletes the contact and its conversation.
    ("DELETE", "/api/v1/contacts/{contact_id}", None),
]
# Object endpoints outside the matrix, with the reason.
NOT_OBJECT_SCOPED = {
    "/api/v1/snippets/{snippet_id}/render": "covered by tests/test_snippets_api.py",
    "/media/{attachment_id}/{expires}/{signature}/{filename}": "signed, no login: tests/test_media_links.py",
    "/admin/snippets/{snippet_id}/files/{attachment_id}/delete": "admins only: tests/test_ui_snippets.py",
}


def test_the_matrix_covers_every_object_endpoint(client: Client) -> None:
    covered = {(m, p) for m, p, _ in ENDPOINTS}
    scoped = re.compile(r"{(conversation_id|message_id|contact_id|attachment_id)}")
    routes = {
        (r.method, r.resource.canonical)
        for r in client.app.router.routes()
        if r.resource is not None and r.method != "HEAD" and scoped.search(r.resource.canonical)
    }
    missing = {
        route
        for route in routes - covered
        # The inbox's pages and fragments: tests/test_ui_inbox_access.py finds them itself.
        if route[1] not in NOT_OBJECT_SCOPED and not route[1].startswith("/inbox/")
    }
    assert missing == set()


def _url(template: str, thing: Thing, label_id: int = 0) -> str:
    return template.format(
        label_id=label_id,
        conversation_id=thing.conversation,
        message_id=thing.message,
        contact_id=thing.contact,
        attachment_id=thing.attachment,
    )


async def _call(
    client: Client, method: str, template: str, body: Any, thing: Thing, world: World, caller: str
) -> int:
    headers = world.auth[caller]
    params: dict[str, str] | None = None
    url = _url(template, thing, world.label)
    if body == "LABEL":
        body = {"label_ids": [world.label]}
    elif body == "UNLABEL":
        # The label on the conversation first, so that only visibility can answer 404.
        async with world.db() as session:
            if await session.get(ConversationLabel, (thing.conversation, world.label)) is None:
                session.add(
                    ConversationLabel(conversation_id=thing.conversation, label_id=world.label)
                )
                await session.commit()
        body = None
    elif body == "SLA":
        # A policy that exists, so that only visibility can answer 404.
        async with world.db() as session:
            policy = await session.scalar(select(SlaPolicy).limit(1))
            if policy is None:
                policy = SlaPolicy(name="Gold", name_key="gold", resolution_minutes=60)
                session.add(policy)
                await session.commit()
            body = {"policy_id": policy.id}
    elif body == "SOON":
        body = {"until": soon()}
    elif body == "SPARE":
        # A fresh duplicate to merge in, visible to those who see every contact.
        spare = await world.factory.contact("Spare")
        body = {"other_id": spare.id}
    elif body == "START":
        # A new thread (new subject) with this contact on the channel it is known on.
        body = {
            "contact_id": thing.contact,
            "channel_id": world.channel,
            "text": "hi",
            "subject": "new",
        }
    elif body == "SELF":
        body = {"into": thing.conversation}
    elif body == "IDENTITY":
        body = {"channel_id": world.channel, "address": "someone-new"}
    elif body == "SEARCH":
        params, body = {"q": "message", "conversation_id": str(thing.conversation)}, None
    response = await client.request(method, url, json=body, params=params, headers=headers)
    return response.status


@pytest.mark.parametrize("caller", list(CALLERS))
async def test_hidden_objects_answer_404_on_every_endpoint(
    client: Client, world: World, caller: str
) -> None:
    for name in CONVERSATIONS:
        thing = world.things[name]
        hidden = name not in VISIBLE[caller]
        for method, template, body in ENDPOINTS:
            status = await _call(client, method, template, body, thing, world, caller)
            if method != "DELETE":
                await world.restore(name)
            where = f"{caller} {method} {template} on {name}"
            if hidden:
                assert status == 404, where
            else:
                assert status != 404, where
                assert status < 500, where


@pytest.mark.parametrize("caller", list(CALLERS))
async def test_lists_show_only_what_the_caller_may_see(
    client: Client, world: World, caller: str
) -> None:
    headers = world.auth[caller]
    expected_conversations = {world.things[n].conversation for n in VISIBLE[caller]}
    seen: set[int] = set()
    for view in VIEWS[caller]:
        name = f"team:{world.teams[view]}" if view.startswith("team_") else view
        response = await client.get(
            "/api/v1/conversations",
            params={"view": name, "status": "all", "limit": "100"},
            headers=headers,
        )
        assert response.status == 200, (caller, view)
        seen |= {c["id"] for c in (await response.json())["items"]}
    assert seen == expected_conversations

    contacts = await client.get("/api/v1/contacts", params={"limit": "100"}, headers=headers)
    listed = {c["id"] for c in (await contacts.json())["items"]}
    assert listed == {world.things[n].contact for n in VISIBLE[caller]}

    found = await client.get(
        "/api/v1/search", params={"q": "comment", "limit": "100"}, headers=headers
    )
    hits = {(h["type"], h["id"]) for h in (await found.json())["items"]}
    assert {i for t, i in hits if t == "comment"} == {
        world.things[n].comment for n in VISIBLE[caller]
    }


@pytest.mark.parametrize("caller", list(CALLERS))
async def test_views_the_caller_does_not_have_are_403(
    client: Client, world: World, caller: str
) -> None:
    headers = world.auth[caller]
    for view in {"all", "mine", "unassigned", "blocked", "team_a", "team_b"} - VIEWS[caller]:
        name = f"team:{world.teams[view]}" if view.startswith("team_") else view
        response = await client.get("/api/v1/conversations", params={"view": name}, headers=headers)
        assert response.status == 403, (caller, view)


@pytest.mark.parametrize("caller", list(CALLERS))
async def test_a_bulk_action_changes_only_what_the_caller_may_see(
    client: Client, world: World, caller: str
) -> None:
    ids = [world.things[name].conversation for name in CONVERSATIONS]
    response = await client.post(
        "/api/v1/conversations/bulk",
        json={"action": "close", "conversation_ids": ids},
        headers=world.auth[caller],
    )
    assert response.status == 202, await response.text()
    job = await response.json()
    hidden = len(CONVERSATIONS) - len(VISIBLE[caller])
    assert (job["done"], job["skipped"], job["refused"]) == (len(VISIBLE[caller]), 0, hidden)
    for name in CONVERSATIONS:
        response = await client.get(
            f"/api/v1/conversations/{world.things[name].conversation}", headers=world.auth["owner"]
        )
        closed = (await response.json())["status"] == "closed"
        assert closed == (name in VISIBLE[caller]), (caller, name)


ADMIN_ONLY: list[tuple[str, str, Any]] = [
    ("POST", "/api/v1/users", {"email": "new@example.com", "name": "New", "role": "agent"}),
    ("POST", "/api/v1/teams", {"name": "New team"}),
    ("PATCH", "/api/v1/settings", {"closing_notes": "off"}),
    ("POST", "/api/v1/snippets", {"name": "Hi", "shortcut": "hi", "body": "Hello"}),
    ("POST", "/api/v1/labels", {"name": "New label", "colour": "red"}),
    ("PUT", "/api/v1/csat/settings", {"enabled": True, "question": "How did we do?"}),
    ("POST", "/api/v1/sla-policies", {"name": "Gold", "resolution_minutes": 60}),
    (
        "POST",
        "/api/v1/macros",
        {"name": "Shared", "shared": True, "actions": [{"type": "add_comment", "text": "x"}]},
    ),
    (
        "POST",
        "/api/v1/rules",
        {"name": "Rule", "event": "closed", "actions": [{"type": "add_comment", "text": "x"}]},
    ),
    ("GET", "/api/v1/rules", None),
    (
        "PUT",
        "/api/v1/business-hours/workspace",
        {"time_zone": "UTC", "week": {"monday": [{"opens": "09:00", "closes": "17:00"}]}},
    ),
    (
        "PUT",
        "/api/v1/business-hours/teams/TEAM_A",
        {"time_zone": "UTC", "week": {"monday": [{"opens": "09:00", "closes": "17:00"}]}},
    ),
    (
        "POST",
        "/api/v1/webhooks",
        # allow_private: no name to resolve (the tests run offline).
        {
            "url": "https://hooks.example.com/in",
            "events": ["message.created"],
            "allow_private": True,
        },
    ),
    ("GET", "/api/v1/webhooks", None),
]


@pytest.mark.parametrize("caller", list(CALLERS))
async def test_workspace_administration_is_for_owners_and_managers(
    client: Client, world: World, caller: str
) -> None:
    admin = CALLERS[caller]["role"] in ("owner", "manager")
    for method, template, body in ADMIN_ONLY:
        path = template.replace("TEAM_A", str(world.teams["team_a"]))
        response = await client.request(method, path, json=body, headers=world.auth[caller])
        if admin:
            assert response.status in (200, 201), (caller, path, await response.text())
        else:
            assert response.status == 403, (caller, path)


@pytest.mark.parametrize("caller", list(CALLERS))
async def test_setting_another_users_password_is_for_owners_and_managers(
    client: Client, world: World, caller: str
) -> None:
    # Everyone changes their own with the current one (POST /api/v1/me/password).
    admin = CALLERS[caller]["role"] in ("owner", "manager")
    target = world.users["agent_all" if caller != "agent_all" else "agent_team"]
    response = await client.post(
        f"/api/v1/users/{target.id}/password", json={}, headers=world.auth[caller]
    )
    assert response.status == (200 if admin else 403), (caller, await response.text())
    own = world.users[caller]
    mine = await client.post(
        f"/api/v1/users/{own.id}/password", json={}, headers=world.auth[caller]
    )
    assert mine.status == 403, caller
