"""Snippets over HTTP: CRUD, shortcuts, $variables checked on save and rendered per
conversation with the caller as the agent."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.errors import HubError
from hub.inbox.snippets import VARIABLES, render, variables_in
from hub.store.models import Attachment, Snippet, User
from tests.factories import Factory
from tests.test_attachments_api import upload

Client = TestClient[Any, Any]
UserToken = Callable[..., Awaitable[tuple[User, dict[str, str]]]]


def error_of(body: dict[str, Any]) -> tuple[str, str]:
    detail = body["error"]["details"][0]
    return str(detail["field"]), str(detail["message"])


async def make(
    client: Client, auth: dict[str, str], shortcut: str, body: str = "Hi", name: str | None = None
) -> dict[str, Any]:
    response = await client.post(
        "/api/v1/snippets",
        json={"name": name or f"Snippet {shortcut}", "shortcut": shortcut, "body": body},
        headers=auth,
    )
    assert response.status == 201, await response.text()
    return dict(await response.json())


# --- the template language, without HTTP ---------------------------------------------


def test_dollar_rules_literal_dollars_and_fallbacks() -> None:
    values = {"contact.first_name": None, "contact.last_name": " ", "agent.name": "Ana"}
    assert render("Costs $$5, or $5; $agent.name.", values) == "Costs $5, or $5; Ana."
    assert render("Hi $contact.first_name|there!", values) == "Hi there!"
    assert render("Hi $contact.last_name|there-you's.", values) == "Hi there-you's."
    assert render('Dear $contact.first_name|"valued customer",', values) == (
        "Dear valued customer,"
    )
    # A fallback is only used when there is no value; a | not followed by one is text.
    assert render("$agent.name|there $agent.name | x $agent.name|", values) == "Ana Ana | x Ana|"
    assert render("$$agent.name|there", values) == "$agent.name|there"
    assert variables_in("$a.b $$c.d $a.b|x $e") == ["a.b", "e"]


def test_a_missing_value_without_a_fallback_is_refused_naming_it() -> None:
    values = {"contact.first_name": "", "contact.email": None, "agent.name": "Ana"}
    with pytest.raises(HubError) as caught:
        render("Hi $contact.first_name, $agent.name here ($contact.email)", values)
    assert (caught.value.status, caught.value.code) == (422, "missing_value")
    assert caught.value.details == [
        {
            "field": "body",
            "message": "no value for $contact.first_name, $contact.email in this conversation "
            "(give a fallback: $contact.first_name|there)",
        }
    ]


# --- CRUD ----------------------------------------------------------------------------


async def test_a_manager_creates_reads_updates_and_deletes_a_snippet(
    client: Client, user_token: UserToken
) -> None:
    me, auth = await user_token("manager@example.com", role="manager")
    created = await make(client, auth, "/thanks", "Thanks, $contact.first_name!", "Thank you")
    assert created["shortcut"] == "thanks"  # stored without the slash
    assert (created["name"], created["created_by"]) == ("Thank you", me.id)
    url = f"/api/v1/snippets/{created['id']}"

    fetched = await client.get(url, headers=auth)
    assert (await fetched.json())["body"] == "Thanks, $contact.first_name!"
    patched = await client.patch(
        url, json={"shortcut": "ty", "body": "Thank you, $contact.name."}, headers=auth
    )
    assert patched.status == 200
    body = await patched.json()
    assert (body["shortcut"], body["body"], body["name"]) == (
        "ty",
        "Thank you, $contact.name.",
        "Thank you",
    )
    assert (await client.delete(url, headers=auth)).status == 204
    assert (await client.get(url, headers=auth)).status == 404
    assert (await client.delete(url, headers=auth)).status == 404


async def test_agents_use_snippets_but_cannot_change_them(
    client: Client, user_token: UserToken
) -> None:
    _, admin = await user_token("owner@example.com", role="owner")
    _, agent = await user_token("agent@example.com", visibility="assigned")
    snippet = await make(client, admin, "hello")
    url = f"/api/v1/snippets/{snippet['id']}"
    assert (await client.get("/api/v1/snippets", headers=agent)).status == 200
    assert (await client.get(url, headers=agent)).status == 200
    new = {"name": "X", "shortcut": "x", "body": "x"}
    assert (await client.post("/api/v1/snippets", json=new, headers=agent)).status == 403
    assert (await client.patch(url, json={"name": "X"}, headers=agent)).status == 403
    assert (await client.delete(url, headers=agent)).status == 403


async def test_shortcuts_are_unique(client: Client, user_token: UserToken) -> None:
    _, auth = await user_token("owner@example.com", role="owner")
    await make(client, auth, "hello")
    other = await make(client, auth, "bye")
    again = await client.post(
        "/api/v1/snippets", json={"name": "X", "shortcut": "/hello", "body": "x"}, headers=auth
    )
    assert again.status == 409
    assert error_of(await again.json())[0] == "shortcut"
    renamed = await client.patch(
        f"/api/v1/snippets/{other['id']}", json={"shortcut": "hello"}, headers=auth
    )
    assert renamed.status == 409
    # Keeping one's own shortcut is no conflict.
    same = await client.patch(
        f"/api/v1/snippets/{other['id']}", json={"shortcut": "/bye"}, headers=auth
    )
    assert same.status == 200


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "X", "shortcut": "Hello", "body": "x"}, "shortcut"),
        ({"name": "X", "shortcut": "two words", "body": "x"}, "shortcut"),
        ({"name": "X", "shortcut": "/", "body": "x"}, "shortcut"),
        ({"name": "X", "shortcut": "a" * 51, "body": "x"}, "shortcut"),
        ({"name": "", "shortcut": "x", "body": "x"}, "name"),
        ({"name": "X", "shortcut": "x", "body": ""}, "body"),
        ({"name": "X", "shortcut": "x"}, "body"),
        ({"name": "X", "shortcut": "x", "body": "x", "team": 1}, "team"),
    ],
)
async def test_bad_snippets_get_a_422_naming_the_field(
    client: Client, user_token: UserToken, body: dict[str, Any], field: str
) -> None:
    _, auth = await user_token("owner@example.com", role="owner")
    response = await client.post("/api/v1/snippets", json=body, headers=auth)
    assert response.status == 422, await response.text()
    assert error_of(await response.json())[0] == field


async def test_an_unknown_variable_is_refused_on_save_naming_it(
    client: Client, user_token: UserToken
) -> None:
    _, auth = await user_token("owner@example.com", role="owner")
    response = await client.post(
        "/api/v1/snippets",
        json={"name": "X", "shortcut": "x", "body": "Hi $contact.nickname, costs $$5"},
        headers=auth,
    )
    assert response.status == 422
    field, message = error_of(await response.json())
    assert field == "body"
    assert "$contact.nickname" in message

    snippet = await make(client, auth, "ok", "Hi $contact.name")
    patched = await client.patch(
        f"/api/v1/snippets/{snippet['id']}", json={"body": "Hi $agent.phone"}, headers=auth
    )
    assert patched.status == 422
    assert error_of(await patched.json()) == (
        "body",
        "unknown variable $agent.phone (write $$ for a literal $)",
    )
    unchanged = await client.get(f"/api/v1/snippets/{snippet['id']}", headers=auth)
    assert (await unchanged.json())["body"] == "Hi $contact.name"


async def test_snippets_are_searched_by_name_or_shortcut_prefix_and_paged(
    client: Client, user_token: UserToken
) -> None:
    _, auth = await user_token("agent@example.com", role="owner")
    await make(client, auth, "greet", name="Hello there")
    await make(client, auth, "thanks", name="Thank you")
    await make(client, auth, "bye", name="Goodbye and thanks")

    async def shortcuts(**params: str) -> list[str]:
        response = await client.get("/api/v1/snippets", params=params, headers=auth)
        assert response.status == 200, await response.text()
        return [s["shortcut"] for s in (await response.json())["items"]]

    assert await shortcuts() == ["bye", "greet", "thanks"]  # by name
    assert await shortcuts(q="/th") == ["thanks"]
    assert await shortcuts(q="THANK") == ["bye", "thanks"]  # in a name, or a prefix
    assert await shortcuts(q="reet") == []  # a shortcut matches by its start only
    assert await shortcuts(q="_") == []

    first = await (await client.get("/api/v1/snippets?limit=2", headers=auth)).json()
    assert [s["shortcut"] for s in first["items"]] == ["bye", "greet"]
    rest = await client.get(
        "/api/v1/snippets", params={"limit": "2", "cursor": first["next_cursor"]}, headers=auth
    )
    body = await rest.json()
    assert ([s["shortcut"] for s in body["items"]], body["next_cursor"]) == (["thanks"], None)


async def test_the_variables_are_listed(client: Client, user_token: UserToken) -> None:
    _, auth = await user_token("agent@example.com")
    body = await (await client.get("/api/v1/snippets/variables", headers=auth)).json()
    assert [v["name"] for v in body["items"]] == [f"${name}" for name in VARIABLES]


# --- rendering -----------------------------------------------------------------------


async def test_every_variable_renders_for_the_conversation_and_the_caller(
    client: Client, factory: Factory, user_token: UserToken
) -> None:
    _, auth = await user_token("ana@example.com", name="Ana María Lopez", role="manager")
    contact = await factory.contact(
        "Dana Scully",
        first_name="Dana",
        last_name="Scully",
        email="dana@fbi.example.org",
        phone="+12025550123",
    )
    channel = await factory.channel(name="Support WhatsApp")
    conversation = await factory.conversation(channel, contact)
    body = " | ".join(f"${name}" for name in VARIABLES) + " | $$ | $5"
    snippet = await make(client, auth, "all", body)

    response = await client.post(
        f"/api/v1/snippets/{snippet['id']}/render",
        json={"conversation_id": conversation.id},
        headers=auth,
    )
    assert response.status == 200, await response.text()
    assert (await response.json())["text"] == " | ".join(
        [
            "Dana Scully",
            "Dana",
            "Scully",
            "dana@fbi.example.org",
            "+12025550123",
            "Ana María Lopez",
            "Ana",
            "ana@example.com",
            str(conversation.id),
            "Support WhatsApp",
            "$",
            "$5",
        ]
    )


async def test_a_missing_value_renders_its_fallback_and_without_one_is_refused(
    client: Client, factory: Factory, user_token: UserToken
) -> None:
    _, auth = await user_token("owner@example.com", role="owner")
    conversation = await factory.conversation(await factory.channel(), await factory.contact("Bo"))
    kind = await make(
        client, auth, "hi", 'Hi $contact.first_name|there, mail: $contact.email|"none"'
    )
    response = await client.post(
        f"/api/v1/snippets/{kind['id']}/render",
        json={"conversation_id": conversation.id},
        headers=auth,
    )
    assert (await response.json())["text"] == "Hi there, mail: none"

    # Never "Hi , …": without a fallback the text is refused, naming what is missing.
    blunt = await make(client, auth, "hey", "Hi $contact.first_name, mail: [$contact.email]")
    response = await client.post(
        f"/api/v1/snippets/{blunt['id']}/render",
        json={"conversation_id": conversation.id},
        headers=auth,
    )
    assert response.status == 422
    body = await response.json()
    assert body["error"]["code"] == "missing_value"
    field, message = error_of(body)
    assert field == "body"
    assert "$contact.first_name, $contact.email" in message


async def test_rendering_needs_a_conversation_the_caller_may_see(
    client: Client, factory: Factory, user_token: UserToken
) -> None:
    _, admin = await user_token("owner@example.com", role="owner")
    agent, restricted = await user_token("agent@example.com", visibility="assigned")
    channel = await factory.channel()
    theirs = await factory.conversation(channel, assignee_id=agent.id)
    hidden = await factory.conversation(channel)
    snippet = await make(client, admin, "hi", "Hi $contact.name")
    url = f"/api/v1/snippets/{snippet['id']}/render"

    ok = await client.post(url, json={"conversation_id": theirs.id}, headers=restricted)
    assert ok.status == 200
    for conversation_id in (hidden.id, 999):
        response = await client.post(
            url, json={"conversation_id": conversation_id}, headers=restricted
        )
        assert response.status == 404
        assert (await response.json())["error"]["message"] == "conversation not found"
    missing = await client.post(
        "/api/v1/snippets/999/render", json={"conversation_id": theirs.id}, headers=restricted
    )
    assert missing.status == 404
    for body in ({}, {"conversation_id": "one"}, {"conversation_id": 10**20}):
        bad = await client.post(url, json=body, headers=restricted)
        assert bad.status == 422, body
        assert error_of(await bad.json())[0] == "conversation_id"


async def test_rendering_refuses_a_stored_unknown_variable(
    client: Client, factory: Factory, user_token: UserToken
) -> None:
    # Saved before a variable was retired, say: rendering names it rather than guessing.
    _, auth = await user_token("owner@example.com", role="owner")
    conversation = await factory.conversation(await factory.channel())
    stale = Snippet(name="Old", shortcut="old", body="Dear $contact.title")
    await factory.add(stale)
    response = await client.post(
        f"/api/v1/snippets/{stale.id}/render",
        json={"conversation_id": conversation.id},
        headers=auth,
    )
    assert response.status == 422
    field, message = error_of(await response.json())
    assert field == "body"
    assert "$contact.title" in message


# --- files ---------------------------------------------------------------------------


def refs(*uploads: dict[str, Any]) -> list[dict[str, Any]]:
    keys = ("id", "filename", "content_type", "size")
    return [{k: u[k] for k in keys} for u in uploads]


async def test_a_snippet_claims_the_admins_uploads_and_lists_them(
    client: Client, user_token: UserToken
) -> None:
    _, admin = await user_token("owner@example.com", role="owner")
    _, agent = await user_token("agent@example.com", visibility="assigned")
    price = await upload(client, admin, data=b"prices", filename="prices.csv")
    logo = await upload(client, admin, data=b"\x89PNG logo", filename="logo.png")
    response = await client.post(
        "/api/v1/snippets",
        json={
            "name": "Prices",
            "shortcut": "prices",
            "body": "Our prices:",
            "attachments": [price["id"], logo["id"]],
        },
        headers=admin,
    )
    assert response.status == 201, await response.text()
    created = await response.json()
    assert created["attachments"] == refs(price, logo)
    listed = await (await client.get("/api/v1/snippets", headers=agent)).json()
    assert listed["items"][0]["attachments"] == refs(price, logo)
    # Every user may fetch a snippet's file, as they may use the snippet.
    download = await client.get(f"/api/v1/attachments/{logo['id']}", headers=agent)
    assert download.status == 200
    assert await download.read() == b"\x89PNG logo"

    # Claimed: the same upload cannot go to another snippet, nor to a second one twice.
    other = await client.post(
        "/api/v1/snippets",
        json={"name": "X", "shortcut": "x", "body": "x", "attachments": [logo["id"]]},
        headers=admin,
    )
    assert other.status == 422
    assert error_of(await other.json())[0] == "attachments"
    assert (await client.get("/api/v1/snippets?q=x", headers=admin)).status == 200


async def test_only_the_callers_own_free_uploads_can_be_attached_to_a_snippet(
    client: Client, user_token: UserToken
) -> None:
    _, admin = await user_token("owner@example.com", role="owner")
    _, manager = await user_token("manager@example.com", role="manager")
    theirs = await upload(client, manager)
    mine = await upload(client, admin)
    for attachments in ([theirs["id"]], [999999], [mine["id"], mine["id"]]):
        response = await client.post(
            "/api/v1/snippets",
            json={"name": "X", "shortcut": "x", "body": "x", "attachments": attachments},
            headers=admin,
        )
        assert response.status == 422, attachments
        assert error_of(await response.json())[0] == "attachments"
    # Nothing was saved by the refused requests (the snippet and the claim are one unit).
    assert (await (await client.get("/api/v1/snippets", headers=admin)).json())["items"] == []


async def test_patching_attachments_keeps_adds_and_removes_files(
    client: Client, user_token: UserToken, db: async_sessionmaker[AsyncSession]
) -> None:
    _, admin = await user_token("owner@example.com", role="owner")
    first = await upload(client, admin, data=b"one", filename="one.txt")
    second = await upload(client, admin, data=b"two", filename="two.txt")
    third = await upload(client, admin, data=b"three", filename="three.txt")
    snippet = await make(client, admin, "files")
    url = f"/api/v1/snippets/{snippet['id']}"
    assert snippet["attachments"] == []

    ok = await client.patch(url, json={"attachments": [first["id"], second["id"]]}, headers=admin)
    assert (await ok.json())["attachments"] == refs(first, second)
    ok = await client.patch(url, json={"attachments": [second["id"], third["id"]]}, headers=admin)
    assert (await ok.json())["attachments"] == refs(second, third)
    # A patch without attachments leaves the files alone.
    ok = await client.patch(url, json={"name": "Renamed"}, headers=admin)
    assert (await ok.json())["attachments"] == refs(second, third)
    removed = await client.get(f"/api/v1/attachments/{first['id']}", headers=admin)
    assert removed.status == 404

    assert (await client.delete(url, headers=admin)).status == 204
    async with db() as session:
        left = await session.scalar(select(func.count()).select_from(Attachment))
    assert left == 0  # the snippet's files went with it


async def test_agents_cannot_change_a_snippets_files(client: Client, user_token: UserToken) -> None:
    _, admin = await user_token("owner@example.com", role="owner")
    _, agent = await user_token("agent@example.com")
    mine = await upload(client, agent)
    snippet = await make(client, admin, "hello")
    url = f"/api/v1/snippets/{snippet['id']}"
    response = await client.patch(url, json={"attachments": [mine["id"]]}, headers=agent)
    assert response.status == 403
    assert (await (await client.get(url, headers=agent)).json())["attachments"] == []
    new = {"name": "X", "shortcut": "x", "body": "x", "attachments": [mine["id"]]}
    assert (await client.post("/api/v1/snippets", json=new, headers=agent)).status == 403


async def test_rendering_gives_the_caller_fresh_uploads_of_the_snippets_files(
    client: Client,
    factory: Factory,
    user_token: UserToken,
    db: async_sessionmaker[AsyncSession],
) -> None:
    _, admin = await user_token("owner@example.com", role="owner")
    agent, auth = await user_token("agent@example.com", visibility="assigned")
    channel = await factory.channel()
    conversation = await factory.conversation(channel, assignee_id=agent.id)
    hidden = await factory.conversation(channel)
    logo = await upload(client, admin, data=b"\x89PNG logo", filename="logo.png")
    created = await client.post(
        "/api/v1/snippets",
        json={"name": "Logo", "shortcut": "logo", "body": "Here:", "attachments": [logo["id"]]},
        headers=admin,
    )
    snippet = await created.json()
    url = f"/api/v1/snippets/{snippet['id']}/render"

    refused = await client.post(url, json={"conversation_id": hidden.id}, headers=auth)
    assert refused.status == 404
    response = await client.post(url, json={"conversation_id": conversation.id}, headers=auth)
    assert response.status == 200, await response.text()
    rendered = await response.json()
    assert rendered["text"] == "Here:"
    [copy] = rendered["attachments"]
    assert copy["id"] != logo["id"]
    assert (copy["filename"], copy["size"], copy["sha256"]) == (
        "logo.png",
        logo["size"],
        logo["sha256"],
    )
    async with db() as session:
        row = await session.get(Attachment, copy["id"])
        assert row is not None
        assert (row.uploaded_by, row.snippet_id, row.message_id) == (agent.id, None, None)
        # Only the rendering that succeeded made a copy.
        total = await session.scalar(select(func.count()).select_from(Attachment))
    assert total == 2

    sent = await client.post(
        f"/api/v1/conversations/{conversation.id}/messages",
        json={"text": rendered["text"], "attachments": [copy["id"]]},
        headers=auth,
    )
    assert sent.status == 201, await sent.text()
    assert [a["id"] for a in (await sent.json())["attachments"]] == [copy["id"]]
    # The snippet keeps its own file.
    kept = await client.get(f"/api/v1/snippets/{snippet['id']}", headers=auth)
    assert (await kept.json())["attachments"] == refs(logo)
