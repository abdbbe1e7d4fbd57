"""Search over HTTP: each kind found, prefixes, hostile input, visibility, scope, paging."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from hub.inbox.search import make_snippet
from hub.store.models import Comment, Conversation, User
from tests.factories import Factory

Client = TestClient[Any, Any]
UserToken = Callable[..., Awaitable[tuple[User, dict[str, str]]]]
HOSTILE = [
    '"',
    '""',
    '"unbalanced',
    "*",
    "**",
    "AND OR NOT",
    "(",
    ")",
    "NEAR(",
    "NEAR(a b, 2)",
    "-x",
    "a - b",
    "+",
    "^start",
    "{a b}",
    "col:value",
    "text:*",
    "'",
    "''",
    "'a':*",
    "\\",
    "a\\",
    "a\\'",
    "&|!<->",
    "%",
    "_",
    "ünïcödé",
    "日本語",
    "😀",
    "😀 hello",
    "\u200b",
    "a" * 200,
]


async def search(client: Client, headers: dict[str, str], **params: str) -> dict[str, Any]:
    response = await client.get("/api/v1/search", params=params, headers=headers)
    assert response.status == 200, await response.text()
    body: dict[str, Any] = await response.json()
    return body


async def found(
    client: Client, headers: dict[str, str], q: str, **params: str
) -> set[tuple[str, int]]:
    body = await search(client, headers, q=q, limit="100", **params)
    return {(item["type"], item["id"]) for item in body["items"]}


async def add_comment(factory: Factory, conversation: Conversation, body: str) -> Comment:
    comment = Comment(conversation_id=conversation.id, body=body)
    await factory.add(comment)
    return comment


async def test_each_kind_is_found_by_a_word_in_it(
    client: Client, factory: Factory, user_token: UserToken
) -> None:
    _, auth = await user_token("me@example.com", role="owner")
    channel = await factory.channel()
    contact = await factory.contact(
        "Dana Scully", email="dana.scully@fbi.example", phone="+12025550143"
    )
    conversation = await factory.conversation(channel, contact)
    message = await factory.message(conversation, "The invoice for March is overdue.")
    comment = await add_comment(factory, conversation, "Please check the refund first")
    await factory.message(conversation, "Nothing to see here")

    body = await search(client, auth, q="invoice")
    assert body == {
        "items": [
            {
                "type": "message",
                "id": message.id,
                "conversation_id": conversation.id,
                "contact_id": contact.id,
                "snippet": "The invoice for March is overdue.",
                "at": body["items"][0]["at"],
            }
        ],
        "next_cursor": None,
    }
    assert await found(client, auth, "REFUND") == {("comment", comment.id)}
    assert await found(client, auth, "scully") == {("contact", contact.id)}
    assert await found(client, auth, "SCULLY@FBI") == {("contact", contact.id)}
    # A phone is compared by its digits, as typed locally or internationally.
    assert await found(client, auth, "(202) 555-0143") == {("contact", contact.id)}
    assert await found(client, auth, "0202 5550143") == {("contact", contact.id)}
    assert await found(client, auth, "+1 202 555 0143") == {("contact", contact.id)}
    assert await found(client, auth, "555 0199") == set()
    contact_item = (await search(client, auth, q="dana"))["items"][0]
    assert contact_item["conversation_id"] is None
    assert contact_item["contact_id"] == contact.id
    assert contact_item["snippet"] == "Dana Scully · dana.scully@fbi.example · +12025550143"


async def test_the_last_term_matches_as_a_prefix_and_every_term_must_match(
    client: Client, factory: Factory, user_token: UserToken
) -> None:
    _, auth = await user_token("me@example.com", role="owner")
    conversation = await factory.conversation(await factory.channel())
    message = await factory.message(conversation, "Your parcel was delivered yesterday")
    comment = await add_comment(factory, conversation, "parcel lost, refund it")

    assert await found(client, auth, "deliv") == {("message", message.id)}
    assert await found(client, auth, "parcel deliv") == {("message", message.id)}
    assert await found(client, auth, "parc") == {("message", message.id), ("comment", comment.id)}
    # Only the last term is a prefix; every term must be there.
    assert await found(client, auth, "deliv parcel") == set()
    assert await found(client, auth, "parcel tomorrow") == set()


@pytest.mark.parametrize("q", HOSTILE)
async def test_hostile_queries_are_words_not_syntax(
    client: Client, factory: Factory, user_token: UserToken, q: str
) -> None:
    _, auth = await user_token("me@example.com", role="owner")
    conversation = await factory.conversation(await factory.channel())
    await factory.message(conversation, 'rock AND roll OR NOT "quoted" x-ray (NEAR) 100% a_b')
    await add_comment(factory, conversation, "hello 😀 ünïcödé 日本語")
    response = await client.get("/api/v1/search", params={"q": q}, headers=auth)
    assert response.status == 200, await response.text()


async def test_operator_words_and_punctuation_are_searched_as_text(
    client: Client, factory: Factory, user_token: UserToken
) -> None:
    _, auth = await user_token("me@example.com", role="owner")
    channel = await factory.channel()
    conversation = await factory.conversation(channel)
    message = await factory.message(conversation, "rock and roll or not, x-ray (near) me")
    await factory.message(conversation, "something else entirely")
    cotton = await factory.contact("100% Cotton")
    await factory.contact("1000 Cottons")
    await factory.contact("a_b and axb")

    assert await found(client, auth, "AND OR NOT") == {("message", message.id)}
    assert await found(client, auth, "NEAR(") == {("message", message.id)}
    assert await found(client, auth, "-ray") == {("message", message.id)}
    assert await found(client, auth, '"rock roll"') == {("message", message.id)}
    # LIKE wildcards typed by the user are literal characters.
    assert await found(client, auth, "100%", types="contacts") == {("contact", cotton.id)}
    assert len(await found(client, auth, "x_b", types="contacts")) == 0


async def test_restricted_agents_find_only_what_they_may_see(
    client: Client, factory: Factory, user_token: UserToken
) -> None:
    assigned_agent, assigned_auth = await user_token("mine@example.com", visibility="assigned")
    team_agent, team_auth = await user_token("team@example.com", visibility="team")
    _, owner_auth = await user_token("owner@example.com", role="owner")
    team = await factory.team("Support", members=[team_agent])
    channel = await factory.channel()

    async def conversation_with_secret(name: str, **kwargs: Any) -> tuple[int, int, int]:
        contact = await factory.contact(f"Secret {name}", blocked=kwargs.pop("blocked", False))
        conversation = await factory.conversation(channel, contact, **kwargs)
        message = await factory.message(conversation, f"secret plans of {name}")
        comment = await add_comment(factory, conversation, f"secret note about {name}")
        return contact.id, message.id, comment.id

    def hits(ids: tuple[int, int, int]) -> set[tuple[str, int]]:
        return {("contact", ids[0]), ("message", ids[1]), ("comment", ids[2])}

    mine = await conversation_with_secret("mine", assignee_id=assigned_agent.id)
    teams = await conversation_with_secret("team", team_id=team.id)
    nobody = await conversation_with_secret("nobody")
    blocked = await conversation_with_secret("blocked", blocked=True, team_id=team.id)
    await factory.contact("Secret without conversation")

    assert await found(client, assigned_auth, "secret") == hits(mine)
    assert await found(client, team_auth, "secret") == hits(teams)
    everything = await found(client, owner_auth, "secret")
    assert hits(mine) | hits(teams) | hits(nobody) | hits(blocked) <= everything
    assert len([kind for kind, _ in everything if kind == "contact"]) == 5


async def test_search_within_one_conversation(
    client: Client, factory: Factory, user_token: UserToken
) -> None:
    agent, auth = await user_token("agent@example.com", visibility="assigned")
    channel = await factory.channel()
    here = await factory.conversation(channel, assignee_id=agent.id)
    elsewhere = await factory.conversation(channel, assignee_id=agent.id)
    hidden = await factory.conversation(channel)
    message = await factory.message(here, "shipping to Berlin")
    comment = await add_comment(factory, here, "shipping label printed")
    await factory.message(elsewhere, "shipping to Paris")
    await factory.message(hidden, "shipping to Rome")

    scoped = await found(client, auth, "shipping", conversation_id=str(here.id))
    assert scoped == {("message", message.id), ("comment", comment.id)}
    assert await found(
        client, auth, "shipping", conversation_id=str(here.id), types="comments"
    ) == {("comment", comment.id)}
    for conversation_id in (hidden.id, 999_999):
        response = await client.get(
            "/api/v1/search",
            params={"q": "shipping", "conversation_id": str(conversation_id)},
            headers=auth,
        )
        assert response.status == 404
        assert (await response.json())["error"]["code"] == "not_found"
    response = await client.get(
        "/api/v1/search",
        params={"q": "shipping", "conversation_id": str(here.id), "types": "contacts"},
        headers=auth,
    )
    assert response.status == 422
    assert (await response.json())["error"]["details"][0]["field"] == "types"


@pytest.mark.parametrize("limit", [1, 2, 3, 4, 9, 10])
async def test_paging_visits_every_result_once_in_group_order(
    client: Client, factory: Factory, user_token: UserToken, limit: int
) -> None:
    _, auth = await user_token("me@example.com", role="owner")
    channel = await factory.channel()
    contacts = [await factory.contact(f"Alpha {i}") for i in range(3)]
    conversation = await factory.conversation(channel, contacts[0])
    messages = [await factory.message(conversation, f"alpha message {i}") for i in range(4)]
    comments = [await add_comment(factory, conversation, f"alpha comment {i}") for i in range(2)]
    await factory.message(conversation, "beta message")
    expected = (
        [("contact", c.id) for c in reversed(contacts)]
        + [("message", m.id) for m in reversed(messages)]
        + [("comment", c.id) for c in reversed(comments)]
    )

    seen: list[tuple[str, int]] = []
    cursor: str | None = None
    pages = 0
    while True:
        params = {"q": "alpha", "limit": str(limit), **({"cursor": cursor} if cursor else {})}
        body = await search(client, auth, **params)
        pages += 1
        assert 0 < len(body["items"]) <= limit
        seen += [(item["type"], item["id"]) for item in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == expected
    assert pages == -(-len(expected) // limit)


async def test_a_cursor_of_another_search_is_refused(
    client: Client, factory: Factory, user_token: UserToken
) -> None:
    _, auth = await user_token("me@example.com", role="owner")
    conversation = await factory.conversation(await factory.channel())
    for _ in range(2):
        await add_comment(factory, conversation, "gamma")
    body = await search(client, auth, q="gamma", limit="1")
    response = await client.get(
        "/api/v1/search",
        params={"q": "gamma", "types": "contacts", "cursor": body["next_cursor"]},
        headers=auth,
    )
    assert response.status == 422
    assert (await response.json())["error"]["details"][0]["field"] == "cursor"


async def test_diacritics_follow_each_engine(
    client: Client, factory: Factory, user_token: UserToken, db_url: str
) -> None:
    _, auth = await user_token("me@example.com", role="owner")
    conversation = await factory.conversation(await factory.channel())
    message = await factory.message(conversation, "Termin mit Frau Müller am Dienstag")

    assert await found(client, auth, "müller") == {("message", message.id)}
    assert await found(client, auth, "MÜLL") == {("message", message.id)}
    # SQLite's tokenizer removes diacritics; PostgreSQL's 'simple' configuration keeps
    # them (docs/api/search.md says so), so there "Muller" is another word.
    folded = await found(client, auth, "muller")
    assert folded == ({("message", message.id)} if db_url.startswith("sqlite") else set())


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({}, "q"),
        ({"q": ""}, "q"),
        ({"q": "   \t "}, "q"),
        ({"q": "\x00"}, "q"),
        ({"q": "x\x00y"}, "q"),
        ({"q": "a" * 201}, "q"),
        ({"q": "x", "types": "people"}, "types"),
        ({"q": "x", "types": ""}, "types"),
        ({"q": "x", "cursor": "nonsense"}, "cursor"),
        ({"q": "x", "limit": "0"}, "limit"),
        ({"q": "x", "limit": "101"}, "limit"),
        ({"q": "x", "conversation_id": "abc"}, "conversation_id"),
        ({"q": "x", "conversation_id": "99999999999999999999999"}, "conversation_id"),
        ({"q": "x", "sort": "bm25"}, "sort"),
    ],
)
async def test_bad_parameters_get_a_422_naming_them(
    client: Client, user_token: UserToken, params: dict[str, str], field: str
) -> None:
    _, auth = await user_token("me@example.com", role="owner")
    response = await client.get("/api/v1/search", params=params, headers=auth)
    assert response.status == 422, await response.text()
    details = (await response.json())["error"]["details"]
    assert [d["field"] for d in details] == [field]


async def test_search_needs_authentication(client: Client) -> None:
    response = await client.get("/api/v1/search", params={"q": "x"})
    assert response.status == 401


def test_a_snippet_is_plain_text_around_the_first_match() -> None:
    text = "word " * 100 + "the\n<b>Müller</b>   invoice " + "tail " * 100
    snippet = make_snippet(text, ["muller"])
    assert "Müller</b> invoice" in snippet
    assert snippet.startswith("…") and snippet.endswith("…")
    assert len(snippet) <= 162
    assert "\n" not in snippet
    assert make_snippet("short text", ["absent"]) == "short text"
    assert make_snippet("x " * 200, ["absent"]).startswith("x x")
