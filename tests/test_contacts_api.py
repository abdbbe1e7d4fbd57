"""Contacts over HTTP: CRUD, normalization, search, visibility, merge, block."""

from __future__ import annotations

import base64
import json
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub import appkeys
from hub.store.models import Contact, ContactIdentity, Conversation, ConversationEvent, User
from tests.factories import Factory

Client = TestClient[Any, Any]
UserToken = Callable[..., Awaitable[tuple[User, dict[str, str]]]]
Auth = dict[str, str]
URL = "/api/v1/contacts"


async def error_field(response: Any) -> str:
    body = await response.json()
    return str(body["error"]["details"][0]["field"])


def forged_cursor(*parts: Any) -> str:
    """A cursor in the API's encoding, with values the API would never give out."""
    return base64.urlsafe_b64encode(json.dumps(parts).encode()).decode().rstrip("=")


async def listed(client: Client, auth: Auth, **params: str) -> list[str]:
    response = await client.get(URL, params=params, headers=auth)
    assert response.status == 200, await response.text()
    return [c["name"] for c in (await response.json())["items"]]


async def test_create_read_update_delete(
    client: Client, factory: Factory, user_token: UserToken, db: async_sessionmaker[AsyncSession]
) -> None:
    _, auth = await user_token("me@example.com")
    created = await client.post(
        URL,
        json={
            "first_name": "Dana",
            "last_name": "Scully",
            "email": "Dana@FBI.gov",
            "phone": "+1 415 555 2671",
            "avatar_url": "https://example.com/dana.png",
            "country": "us",
            "language": "en_us",
            "fields": {"badge": "X-1013", "seats": 2},
        },
        headers=auth,
    )
    assert created.status == 201, await created.text()
    contact = await created.json()
    assert {k: v for k, v in contact.items() if k not in ("id", "created_at", "updated_at")} == {
        "name": "Dana Scully",
        "first_name": "Dana",
        "last_name": "Scully",
        "email": "dana@fbi.gov",
        "phone": "+14155552671",
        "avatar_url": "https://example.com/dana.png",
        "country": "US",
        "language": "en-US",
        "blocked": False,
        "blocked_at": None,
        "fields": {"badge": "X-1013", "seats": 2},
    }
    item = f"{URL}/{contact['id']}"
    assert (await (await client.get(item, headers=auth)).json()) == contact

    patched = await client.patch(
        item,
        json={"phone": None, "fields": {"seats": None}, "last_name": "Mulder", "avatar_url": ""},
        headers=auth,
    )
    assert patched.status == 200
    body = await patched.json()
    assert (body["name"], body["phone"], body["fields"]) == (
        "Dana Mulder",
        None,
        {"badge": "X-1013"},
    )
    assert body["avatar_url"] is None
    assert body["email"] == "dana@fbi.gov"  # not given, so unchanged
    assert body["updated_at"] > contact["updated_at"]

    conversation = await factory.conversation(
        await factory.channel(), await _contact(db, body["id"])
    )
    assert (await client.delete(item, headers=auth)).status == 204
    assert (await client.get(item, headers=auth)).status == 404
    assert (await client.delete(item, headers=auth)).status == 404
    async with db() as session:
        assert await session.get(Conversation, conversation.id) is None


async def _contact(db: async_sessionmaker[AsyncSession], contact_id: int) -> Contact:
    async with db() as session:
        contact = await session.get(Contact, contact_id)
    assert contact is not None
    return contact


@pytest.mark.parametrize(
    ("body", "phone"),
    [
        ({"phone": "+49 151 23456789"}, "+4915123456789"),
        ({"phone": "+49 (0)151 2345-6789"}, "+4915123456789"),
        ({"phone": "+1.415.555.2671"}, "+14155552671"),
        ({"phone": "0151 23456789", "default_region": "DE"}, "+4915123456789"),
        ({"phone": "(415) 555-2671", "default_region": "US"}, "+14155552671"),
    ],
)
async def test_phone_numbers_are_stored_in_e164(
    client: Client, user_token: UserToken, body: dict[str, str], phone: str
) -> None:
    _, auth = await user_token("me@example.com")
    response = await client.post(URL, json=body, headers=auth)
    assert response.status == 201, await response.text()
    assert (await response.json())["phone"] == phone


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"phone": "0151 23456789"}, "phone"),
        ({"phone": "+49 1"}, "phone"),
        ({"phone": "+1 555 000 0000"}, "phone"),
        ({"phone": "not a number", "default_region": "DE"}, "phone"),
        ({"phone": "0151 23456789", "default_region": "ZZ"}, "default_region"),
        ({"phone": "0151 23456789", "default_region": "DEU"}, "default_region"),
        ({"name": "A", "email": "dana"}, "email"),
        ({"name": "A", "email": "dana@localhost"}, "email"),
    ],
)
async def test_invalid_phone_or_email_gets_a_422_naming_it(
    client: Client, user_token: UserToken, body: dict[str, str], field: str
) -> None:
    _, auth = await user_token("me@example.com")
    response = await client.post(URL, json=body, headers=auth)
    assert response.status == 422
    assert await error_field(response) == field


async def test_a_number_without_plus_says_how_to_give_a_region(
    client: Client, user_token: UserToken
) -> None:
    _, auth = await user_token("me@example.com")
    response = await client.post(URL, json={"phone": "0151 23456789"}, headers=auth)
    assert "default_region" in (await response.json())["error"]["message"]


async def test_search_by_name_email_or_phone_pages_through_every_match(
    client: Client, factory: Factory, user_token: UserToken
) -> None:
    _, auth = await user_token("me@example.com", role="owner")
    for i, name in enumerate(["Anna Fox", "anne Lee", "Bob", "Annabel", "Carl"]):
        await factory.contact(
            name,
            email=f"{name.split()[0].lower()}@corp{i % 2}.example",
            phone=f"+4915123456{i:03d}",
        )

    assert await listed(client, auth, q="ANN") == ["Anna Fox", "Annabel", "anne Lee"]
    assert await listed(client, auth, q="@corp1.") == ["Annabel", "anne Lee"]
    assert await listed(client, auth, q="+49 151 23456 002") == ["Bob"]
    assert await listed(client, auth, q="0151 23456 00") == [
        "Anna Fox",
        "Annabel",
        "anne Lee",
        "Bob",
        "Carl",
    ]

    seen: list[str] = []
    cursor = None
    while True:
        params = {"q": "ann", "limit": "2", **({"cursor": cursor} if cursor else {})}
        body = await (await client.get(URL, params=params, headers=auth)).json()
        assert len(body["items"]) <= 2
        seen += [c["name"] for c in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == ["Anna Fox", "Annabel", "anne Lee"]

    newest = await listed(client, auth, sort="newest", limit="2")
    assert newest == ["Carl", "Annabel"]
    first = await (
        await client.get(URL, params={"sort": "newest", "limit": "2"}, headers=auth)
    ).json()
    rest = await listed(client, auth, sort="newest", cursor=first["next_cursor"])
    assert rest == ["Bob", "anne Lee", "Anna Fox"]
    # A cursor belongs to its sort.
    wrong = await client.get(URL, params={"cursor": first["next_cursor"]}, headers=auth)
    assert wrong.status == 422
    assert await error_field(wrong) == "cursor"


async def test_blocked_filter_lists_blocked_or_unblocked_contacts(
    client: Client, factory: Factory, user_token: UserToken
) -> None:
    _, auth = await user_token("me@example.com", role="manager")
    await factory.contact("Spammer", blocked=True)
    await factory.contact("Customer")
    assert await listed(client, auth, blocked="true") == ["Spammer"]
    assert await listed(client, auth, blocked="false") == ["Customer"]


# --- visibility ----------------------------------------------------------------------

ALL = {
    "assigned-to-team-agent",
    "assigned-to-assigned-agent",
    "team",
    "someone-else",
    "no-conversation",
    "blocked",
}
SEES = {
    ("owner", "all"): ALL,
    ("manager", "all"): ALL,
    ("agent", "all"): ALL,
    ("agent", "team"): {"assigned-to-team-agent", "team"},
    ("agent", "assigned"): {"assigned-to-assigned-agent"},
}


@pytest.mark.parametrize(("role", "visibility"), list(SEES))
async def test_who_sees_which_contact(
    client: Client, factory: Factory, user_token: UserToken, role: str, visibility: str
) -> None:
    me, auth = await user_token("me@example.com", role=role, visibility=visibility)
    colleague, _ = await user_token("colleague@example.com")
    team = await factory.team(members=[me])
    channel = await factory.channel()
    # "me" plays the team agent and the assigned agent of the matrix, by visibility.
    team_agent = me if visibility == "team" else colleague
    assigned_agent = me if visibility == "assigned" else colleague
    made: dict[str, int] = {}
    for name, kwargs, contact_kwargs in [
        ("assigned-to-team-agent", {"assignee_id": team_agent.id}, {}),
        ("assigned-to-assigned-agent", {"assignee_id": assigned_agent.id}, {}),
        ("team", {"team_id": team.id}, {}),
        ("someone-else", {"assignee_id": colleague.id}, {}),
        ("no-conversation", None, {}),
        ("blocked", {"assignee_id": me.id}, {"blocked": True}),
    ]:
        contact = await factory.contact(name, **contact_kwargs)
        made[name] = contact.id
        if kwargs is not None:
            await factory.conversation(channel, contact, **kwargs)
    expected = SEES[(role, visibility)]

    assert set(await listed(client, auth, limit="100")) == expected
    for name, contact_id in made.items():
        item = f"{URL}/{contact_id}"
        status = 200 if name in expected else 404
        assert (await client.get(item, headers=auth)).status == status, name
        assert (await client.get(f"{item}/identities", headers=auth)).status == status, name
        patched = await client.patch(item, json={"fields": {"seen": True}}, headers=auth)
        assert patched.status == status, name
        if name in expected and visibility != "all" and role == "agent":
            # Visible, but only those who see everything may delete, block or merge.
            assert (await client.post(f"{item}/block", headers=auth)).status == 403
            assert (await client.delete(item, headers=auth)).status == 403
            merged = await client.post(
                f"{item}/merge", json={"other_id": made["team"]}, headers=auth
            )
            assert merged.status == 403
        elif name not in expected:
            assert (await client.post(f"{item}/block", headers=auth)).status == 404
            assert (await client.post(f"{item}/unblock", headers=auth)).status == 404
            assert (await client.delete(item, headers=auth)).status == 404
            merged = await client.post(f"{item}/merge", json={"other_id": 1}, headers=auth)
            assert merged.status == 404


async def test_creating_is_open_to_everyone_even_if_they_cannot_list_it_afterwards(
    client: Client, user_token: UserToken
) -> None:
    _, auth = await user_token("me@example.com", visibility="assigned")
    created = await client.post(URL, json={"name": "New lead"}, headers=auth)
    assert created.status == 201
    contact_id = (await created.json())["id"]
    assert (await client.get(f"{URL}/{contact_id}", headers=auth)).status == 404
    assert await listed(client, auth) == []


# --- merge -----------------------------------------------------------------------------


async def test_merge_suggestions_then_merge(
    client: Client, factory: Factory, user_token: UserToken, db: async_sessionmaker[AsyncSession]
) -> None:
    me, auth = await user_token("me@example.com", role="manager")
    channel = await factory.channel(name="WhatsApp")
    keep = await factory.contact("Dana Scully", email="dana@fbi.gov")
    other = await factory.contact(
        "dana", email="dana@fbi.gov", phone="+4915123456789", fields={"badge": "X"}
    )
    await factory.contact("Unrelated", email="else@example.com")
    await factory.add(
        ContactIdentity(contact_id=keep.id, channel_id=channel.id, external_id="mail-1"),
        ContactIdentity(
            contact_id=other.id, channel_id=channel.id, external_id="wa-1", profile={"n": 1}
        ),
    )
    conversation = await factory.conversation(channel, other)

    suggestions = await (await client.get(f"{URL}/merge-suggestions", headers=auth)).json()
    assert [(s["contact"]["id"], s["other"]["id"], s["reasons"]) for s in suggestions["items"]] == [
        (keep.id, other.id, ["email"])
    ]
    assert suggestions["next_cursor"] is None

    merged = await client.post(f"{URL}/{keep.id}/merge", json={"other_id": other.id}, headers=auth)
    assert merged.status == 200, await merged.text()
    body = await merged.json()
    assert (body["name"], body["phone"], body["fields"]) == (
        "Dana Scully",
        "+4915123456789",
        {"badge": "X"},
    )
    assert (await client.get(f"{URL}/{other.id}", headers=auth)).status == 404

    identities = await (await client.get(f"{URL}/{keep.id}/identities", headers=auth)).json()
    assert [(i["external_id"], i["channel_name"], i["profile"]) for i in identities["items"]] == [
        ("mail-1", "WhatsApp", {}),
        ("wa-1", "WhatsApp", {"n": 1}),
    ]
    moved = await (
        await client.get(f"/api/v1/conversations/{conversation.id}", headers=auth)
    ).json()
    assert moved["contact"] == {"id": keep.id, "name": "Dana Scully"}
    async with db() as session:
        kinds = (
            await session.execute(
                select(ConversationEvent.kind, ConversationEvent.actor_id).where(
                    ConversationEvent.conversation_id == conversation.id
                )
            )
        ).all()
    assert kinds == [("merged", me.id)]
    after = await (await client.get(f"{URL}/merge-suggestions", headers=auth)).json()
    assert after["items"] == []


async def test_merge_refuses_itself_and_unknown_contacts_naming_other_id(
    client: Client, factory: Factory, user_token: UserToken
) -> None:
    _, auth = await user_token("me@example.com", role="owner")
    contact = await factory.contact()
    item = f"{URL}/{contact.id}/merge"
    for body in (
        {"other_id": contact.id},
        {"other_id": contact.id + 1000},
        {"other_id": "x"},
        {},
        {"other_id": 2**70},
    ):
        response = await client.post(item, json=body, headers=auth)
        assert response.status == 422, body
        assert await error_field(response) == "other_id"


# --- block -----------------------------------------------------------------------------


async def conversation_ids(client: Client, auth: Auth, view: str) -> list[int]:
    response = await client.get("/api/v1/conversations", params={"view": view}, headers=auth)
    assert response.status == 200, await response.text()
    return [c["id"] for c in (await response.json())["items"]]


async def counts(client: Client, auth: Auth) -> dict[str, int]:
    body = await (await client.get("/api/v1/inbox/counts", headers=auth)).json()
    return {v["view"]: v["open"] for v in body["views"]}


async def test_blocking_moves_conversations_to_the_blocked_inbox_and_back(
    client: Client, factory: Factory, user_token: UserToken, db: async_sessionmaker[AsyncSession]
) -> None:
    me, auth = await user_token("me@example.com", role="owner")
    agent, agent_auth = await user_token("agent@example.com", visibility="assigned")
    channel = await factory.channel()
    contact = await factory.contact("Spammer")
    first = await factory.conversation(channel, contact, assignee_id=agent.id, minutes=1)
    second = await factory.conversation(channel, contact, minutes=2)
    bystander = await factory.conversation(channel, minutes=3)
    assert await counts(client, auth) == {"all": 3, "mine": 0, "unassigned": 2}

    blocked = await client.post(f"{URL}/{contact.id}/block", headers=auth)
    assert blocked.status == 200
    body = await blocked.json()
    assert body["blocked"] is True and body["blocked_at"] is not None
    assert await conversation_ids(client, auth, "all") == [bystander.id]
    assert await conversation_ids(client, auth, "blocked") == [second.id, first.id]
    assert await counts(client, auth) == {"all": 1, "mine": 0, "unassigned": 1, "blocked": 2}
    # The assigned agent loses the conversation and the contact with it.
    assert await conversation_ids(client, agent_auth, "mine") == []
    assert (await client.get(f"{URL}/{contact.id}", headers=agent_auth)).status == 404
    assert (await client.post(f"{URL}/{contact.id}/block", headers=auth)).status == 409

    unblocked = await client.post(f"{URL}/{contact.id}/unblock", headers=auth)
    assert (await unblocked.json())["blocked_at"] is None
    assert await conversation_ids(client, auth, "all") == [bystander.id, second.id, first.id]
    assert await counts(client, auth) == {"all": 3, "mine": 0, "unassigned": 2}
    assert await conversation_ids(client, agent_auth, "mine") == [first.id]
    assert (await client.post(f"{URL}/{contact.id}/unblock", headers=auth)).status == 409

    async with db() as session:
        events = (
            await session.execute(
                select(ConversationEvent.conversation_id, ConversationEvent.kind)
                .where(ConversationEvent.actor_id == me.id)
                .order_by(ConversationEvent.id)
            )
        ).all()
    assert sorted(events) == sorted(
        [
            (first.id, "blocked"),
            (second.id, "blocked"),
            (first.id, "unblocked"),
            (second.id, "unblocked"),
        ]
    )


# --- bad input -------------------------------------------------------------------------


async def test_bad_bodies_and_parameters_get_a_precise_4xx(
    client: Client, factory: Factory, user_token: UserToken
) -> None:
    _, auth = await user_token("me@example.com", role="owner")
    contact = await factory.contact()
    item = f"{URL}/{contact.id}"

    for body, field in [
        ({}, "name"),
        ({"name": ""}, "name"),
        ({"name": "x" * 301}, "name"),
        ({"name": "A", "colour": "red"}, "colour"),
        ({"name": "A", "fields": {"a": {"b": 1}}}, "fields.a"),
        ({"name": "A", "fields": {"bad key": 1}}, "fields.bad key.[key]"),
        ({"name": "A", "fields": [1]}, "fields"),
        ({"name": "A", "avatar_url": "javascript:alert(1)"}, "avatar_url"),
        ({"name": "A\u0000"}, "name"),
        ({"name": 5}, "name"),
        ([], "body"),
    ]:
        response = await client.post(URL, json=body, headers=auth)
        assert response.status == 422, body
        assert await error_field(response) == field, body
    patched = await client.patch(item, json={"email": "nope"}, headers=auth)
    assert (patched.status, await error_field(patched)) == (422, "email")

    not_json = await client.post(URL, data="name=A", headers=auth)
    assert not_json.status == 415
    malformed = await client.post(
        URL, data="{", headers={**auth, "Content-Type": "application/json"}
    )
    assert malformed.status == 400

    for params, field in [
        ({"sort": "random"}, "sort"),
        ({"limit": "0"}, "limit"),
        ({"limit": "many"}, "limit"),
        ({"cursor": "garbage"}, "cursor"),
        ({"blocked": "maybe"}, "blocked"),
        ({"q": "a\u0000"}, "q"),
        ({"colour": "red"}, "colour"),
    ]:
        response = await client.get(URL, params=params, headers=auth)
        assert response.status == 422, params
        assert await error_field(response) == field, params
    for url, cursor in [
        (f"{URL}/merge-suggestions", "x"),
        (f"{URL}/merge-suggestions", forged_cursor("pairs", 2**64, 1)),
        (f"{URL}/merge-suggestions", forged_cursor("pairs", True, 1)),
        (URL, forged_cursor("name", "a", 2**64)),
        (URL, forged_cursor("name", "a\u0000", 1)),
        (URL + "?sort=newest", forged_cursor("newest", "0001-01-01T00:00:00+14:00", 1)),
        (URL + "?sort=newest", forged_cursor("newest", "2026-01-01T00:00:00", 1)),
    ]:
        response = await client.get(url, params={"cursor": cursor}, headers=auth)
        assert (response.status, await error_field(response)) == (422, "cursor"), cursor
    region = await client.patch(item, json={"default_region": "ZZ"}, headers=auth)
    assert (region.status, await error_field(region)) == (422, "default_region")

    for path in (f"{URL}/abc", f"{URL}/99999999999999999999", f"{URL}/-1", f"{URL}/abc/identities"):
        assert (await client.get(path, headers=auth)).status == 404, path
    assert (await client.get(URL)).status == 401


async def test_country_and_language_are_checked_and_cleared(
    client: Client, factory: Factory, user_token: UserToken
) -> None:
    _, auth = await user_token("me@example.com")
    contact = await factory.contact("Ana")
    item = f"{URL}/{contact.id}"
    for body, field in (({"country": "XY"}, "country"), ({"language": "not a tag"}, "language")):
        response = await client.patch(item, json=body, headers=auth)
        assert response.status == 422, body
        assert await error_field(response) == field
    response = await client.patch(item, json={"country": "pt", "language": "PT-br"}, headers=auth)
    assert (await response.json())["country"] == "PT"
    assert (await response.json())["language"] == "pt-BR"
    response = await client.patch(item, json={"country": None, "language": ""}, headers=auth)
    assert [(await response.json())[k] for k in ("country", "language")] == [None, None]


async def test_merge_suggestions_of_one_contact(
    client: Client, factory: Factory, user_token: UserToken
) -> None:
    _, auth = await user_token("me@example.com")
    a = await factory.contact("A", email="a@example.com")
    a2 = await factory.contact("A again", email="a@example.com")
    b = await factory.contact("B", phone="+14155552671")
    b2 = await factory.contact("B again", phone="+14155552671")

    async def pairs(**params: str) -> list[tuple[int, int]]:
        response = await client.get(f"{URL}/merge-suggestions", params=params, headers=auth)
        assert response.status == 200, await response.text()
        return [(s["contact"]["id"], s["other"]["id"]) for s in (await response.json())["items"]]

    assert await pairs() == [(b.id, b2.id), (a.id, a2.id)]
    assert await pairs(contact_id=str(a2.id)) == [(a.id, a2.id)]
    assert await pairs(contact_id=str(b.id)) == [(b.id, b2.id)]
    # Only what they share is a reason: two empty emails are not "the same email".
    listed = await (await client.get(f"{URL}/merge-suggestions", headers=auth)).json()
    assert [s["reasons"] for s in listed["items"]] == [["phone"], ["email"]]
    response = await client.get(f"{URL}/merge-suggestions?contact_id=0", headers=auth)
    assert response.status == 422
    assert await error_field(response) == "contact_id"


async def test_contact_changes_are_announced_to_who_sees_its_conversations(
    client: Client, factory: Factory, user_token: UserToken
) -> None:
    _, auth = await user_token("me@example.com")
    channel = await factory.channel()
    keep = await factory.contact("Keep", email="k@example.com")
    other = await factory.contact("Other", email="k@example.com")
    first = await factory.conversation(channel, keep)
    moved = await factory.conversation(channel, other)
    subscription = client.app[appkeys.BUS].subscribe()
    await client.patch(f"{URL}/{keep.id}", json={"country": "DE"}, headers=auth)
    await client.post(f"{URL}/{keep.id}/merge", json={"other_id": other.id}, headers=auth)
    await client.post(f"{URL}/{keep.id}/block", headers=auth)
    subscription.close()
    events = [e async for e in subscription if e.type == "contact.updated"]
    assert sorted(
        (e.data["change"], e.data["conversation_id"], e.scope.conversation_id if e.scope else None)
        for e in events
    ) == sorted(
        [
            ("updated", first.id, first.id),
            ("merged", first.id, first.id),
            ("merged", moved.id, moved.id),
            ("blocked", first.id, first.id),
            ("blocked", moved.id, moved.id),
        ]
    )
    assert all(e.data["contact_id"] == keep.id for e in events)
    assert {e.data.get("merged_contact_id") for e in events if e.data["change"] == "merged"} == {
        other.id
    }
