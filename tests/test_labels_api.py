"""Labels and priority over HTTP: admins define labels, agents put them on the
conversations they can see and set priorities; lists filter and sort by them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp.test_utils import TestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub import appkeys
from hub.events.event import HubEvent
from hub.store.models import ConversationEvent, User
from tests.factories import Factory

Client = TestClient[Any, Any]
UserToken = Callable[..., Awaitable[tuple[User, dict[str, str]]]]
LABELS = "/api/v1/labels"


def conv_url(conversation_id: int, rest: str = "") -> str:
    return f"/api/v1/conversations/{conversation_id}{rest}"


async def error_of(response: Any) -> tuple[int, str, str]:
    """Status, the field named, and the message of an error response."""
    body = await response.json()
    details = body["error"].get("details") or [{"field": ""}]
    return response.status, details[0]["field"], body["error"]["message"]


async def make_label(client: Client, auth: dict[str, str], name: str, colour: str = "blue") -> int:
    response = await client.post(LABELS, json={"name": name, "colour": colour}, headers=auth)
    assert response.status == 201, await response.text()
    return int((await response.json())["id"])


async def published(client: Client, action: Callable[[], Awaitable[Any]]) -> list[HubEvent]:
    """The events the bus carries while ``action`` runs."""
    subscription = client.app[appkeys.BUS].subscribe()
    await action()
    subscription.close()
    return [event async for event in subscription]


async def test_admins_define_labels_and_anyone_reads_them(
    client: Client, user_token: UserToken
) -> None:
    _, admin = await user_token("admin@example.com", role="manager")
    _, agent = await user_token("agent@example.com")
    response = await client.post(
        LABELS,
        json={"name": "  Billing ", "colour": "green", "description": "Invoices, refunds"},
        headers=admin,
    )
    assert response.status == 201
    created = await response.json()
    assert (created["name"], created["colour"], created["description"]) == (
        "Billing",
        "green",
        "Invoices, refunds",
    )
    assert created["conversations"] == 0
    await make_label(client, admin, "angry")

    listed = await (await client.get(LABELS, headers=agent)).json()
    assert [label["name"] for label in listed["items"]] == ["angry", "Billing"]
    found = await (await client.get(LABELS, params={"q": "BILL"}, headers=agent)).json()
    assert [label["id"] for label in found["items"]] == [created["id"]]
    one = await client.get(f"{LABELS}/{created['id']}", headers=agent)
    assert (await one.json())["name"] == "Billing"
    palette = await (await client.get(f"{LABELS}/palette", headers=agent)).json()
    assert "red" in [c["key"] for c in palette["items"]]

    # Agents read, but do not write.
    assert (
        await client.post(LABELS, json={"name": "X", "colour": "red"}, headers=agent)
    ).status == 403
    item = f"{LABELS}/{created['id']}"
    assert (await client.patch(item, json={"name": "X"}, headers=agent)).status == 403
    assert (await client.delete(item, headers=agent)).status == 403


async def test_bad_labels_are_refused_precisely(client: Client, user_token: UserToken) -> None:
    _, admin = await user_token("admin@example.com", role="owner")
    label_id = await make_label(client, admin, "Billing")
    duplicate = await client.post(LABELS, json={"name": "BILLING", "colour": "red"}, headers=admin)
    assert (await error_of(duplicate))[:2] == (409, "name")
    for body, field in [
        ({"name": "Shiny", "colour": "#ff0000"}, "colour"),
        ({"name": "Shiny", "colour": "chartreuse"}, "colour"),
        ({"name": "x" * 51, "colour": "red"}, "name"),
        ({"name": "   ", "colour": "red"}, "name"),
        ({"name": "Shiny", "colour": "red", "description": "d" * 201}, "description"),
        ({"name": "Shiny"}, "colour"),
        ({"name": "Shiny", "colour": "red", "font": "big"}, "font"),
    ]:
        status, named, message = await error_of(await client.post(LABELS, json=body, headers=admin))
        assert (status, named) == (422, field), (body, message)
    status, _, message = await error_of(
        await client.post(LABELS, json={"name": "Shiny", "colour": "beige"}, headers=admin)
    )
    assert "must be one of grey, red" in message
    other = await make_label(client, admin, "Refunds")
    renamed = await client.patch(f"{LABELS}/{other}", json={"name": "billing"}, headers=admin)
    assert (await error_of(renamed))[:2] == (409, "name")
    # Its own name in other capitals is no clash.
    recased = await client.patch(f"{LABELS}/{label_id}", json={"name": "BILLING"}, headers=admin)
    assert recased.status == 200
    assert (await client.get(f"{LABELS}/999999", headers=admin)).status == 404
    assert (await client.patch(f"{LABELS}/999999", json={"name": "Z"}, headers=admin)).status == 404
    assert (await client.delete(f"{LABELS}/999999", headers=admin)).status == 404
    assert (await client.get(f"{LABELS}/abc", headers=admin)).status == 404


async def test_agents_label_conversations_and_each_change_is_an_event(
    client: Client,
    factory: Factory,
    user_token: UserToken,
    db: async_sessionmaker[AsyncSession],
) -> None:
    _, admin = await user_token("admin@example.com", role="manager")
    ana, agent = await user_token("ana@example.com")
    billing = await make_label(client, admin, "Billing", "green")
    vip = await make_label(client, admin, "VIP", "purple")
    conversation = await factory.conversation(await factory.channel())
    url = conv_url(conversation.id, "/labels")
    response = None

    async def add() -> None:
        nonlocal response
        response = await client.post(url, json={"label_ids": [vip, billing, vip]}, headers=agent)

    events = await published(client, add)
    assert response is not None and response.status == 200, await response.text()
    body = await response.json()
    assert [(label["name"], label["colour"]) for label in body["labels"]] == [
        ("Billing", "green"),
        ("VIP", "purple"),
    ]
    updated = [e for e in events if e.type == "conversation.updated"]
    assert sorted(e.data["name"] for e in updated) == ["Billing", "VIP"]
    assert {e.data["event"] for e in updated} == {"label_added"}
    # Adding one it carries already changes nothing.
    again = await published(
        client, lambda: client.post(url, json={"label_ids": [billing]}, headers=agent)
    )
    assert [e for e in again if e.type == "conversation.updated"] == []

    removed = await client.delete(f"{url}/{billing}", headers=agent)
    assert [label["name"] for label in (await removed.json())["labels"]] == ["VIP"]
    assert (await client.delete(f"{url}/{billing}", headers=agent)).status == 404
    assert (await client.delete(f"{url}/999999", headers=agent)).status == 404

    got = await (await client.get(conv_url(conversation.id), headers=agent)).json()
    assert [label["id"] for label in got["labels"]] == [vip]
    async with db() as session:
        rows = (
            await session.scalars(
                select(ConversationEvent)
                .where(ConversationEvent.conversation_id == conversation.id)
                .order_by(ConversationEvent.id)
            )
        ).all()
    assert [(e.kind, e.data["name"], e.actor_id) for e in rows] == [
        ("label_added", "VIP", ana.id),
        ("label_added", "Billing", ana.id),
        ("label_removed", "Billing", ana.id),
    ]


async def test_labelling_refuses_unknown_labels_and_hidden_conversations(
    client: Client, factory: Factory, user_token: UserToken
) -> None:
    _, admin = await user_token("admin@example.com", role="manager")
    me, agent = await user_token("agent@example.com", visibility="assigned")
    label = await make_label(client, admin, "Billing")
    channel = await factory.channel()
    mine = await factory.conversation(channel, assignee_id=me.id)
    hidden = await factory.conversation(channel)

    status, field, message = await error_of(
        await client.post(
            conv_url(mine.id, "/labels"), json={"label_ids": [label, 424242]}, headers=agent
        )
    )
    assert (status, field) == (422, "label_ids")
    assert "no label with id 424242" in message
    for body in ({"label_ids": []}, {"label_ids": ["x"]}, {}, {"label_ids": [0]}):
        response = await client.post(conv_url(mine.id, "/labels"), json=body, headers=agent)
        status, field, _ = await error_of(response)
        assert status == 422 and field.startswith("label_ids"), body
    # A conversation the agent cannot see is not found, whatever the body says.
    for response in (
        await client.post(
            conv_url(hidden.id, "/labels"), json={"label_ids": [label]}, headers=agent
        ),
        await client.delete(conv_url(hidden.id, f"/labels/{label}"), headers=agent),
        await client.post(
            conv_url(hidden.id, "/priority"), json={"priority": "high"}, headers=agent
        ),
    ):
        assert response.status == 404
    ok = await client.post(conv_url(mine.id, "/labels"), json={"label_ids": [label]}, headers=agent)
    assert ok.status == 200


async def test_priority_is_set_recorded_and_refused_when_unknown(
    client: Client,
    factory: Factory,
    user_token: UserToken,
    db: async_sessionmaker[AsyncSession],
) -> None:
    me, auth = await user_token("agent@example.com")
    conversation = await factory.conversation(await factory.channel())
    url = conv_url(conversation.id, "/priority")
    before = await (await client.get(conv_url(conversation.id), headers=auth)).json()
    assert before["priority"] == "none"

    events = await published(
        client, lambda: client.post(url, json={"priority": "urgent"}, headers=auth)
    )
    changed = [e for e in events if e.type == "conversation.updated"]
    assert [(e.data["event"], e.data["priority"], e.data["was"]) for e in changed] == [
        ("priority_changed", "urgent", "none")
    ]
    again = await published(
        client, lambda: client.post(url, json={"priority": "urgent"}, headers=auth)
    )
    assert [e for e in again if e.type == "conversation.updated"] == []
    lowered = await client.post(url, json={"priority": "low"}, headers=auth)
    assert (await lowered.json())["priority"] == "low"
    for body in ({"priority": "critical"}, {"priority": 3}, {}):
        assert (await error_of(await client.post(url, json=body, headers=auth)))[:2] == (
            422,
            "priority",
        )
    async with db() as session:
        kinds = (
            await session.scalars(
                select(ConversationEvent.data).where(
                    ConversationEvent.conversation_id == conversation.id
                )
            )
        ).all()
    assert [d["priority"] for d in kinds] == ["urgent", "low"]
    assert me.id


async def test_lists_filter_by_label_and_priority_and_sort_by_priority(
    client: Client, factory: Factory, user_token: UserToken
) -> None:
    _, auth = await user_token("admin@example.com", role="owner")
    billing = await make_label(client, auth, "Billing")
    vip = await make_label(client, auth, "VIP")
    channel = await factory.channel()
    made = [await factory.conversation(channel, minutes=i) for i in range(7)]
    levels = ["none", "urgent", "low", "urgent", "high", "none", "medium"]
    for conversation, priority in zip(made, levels, strict=True):
        if priority != "none":
            await client.post(
                conv_url(conversation.id, "/priority"), json={"priority": priority}, headers=auth
            )
    await client.post(conv_url(made[0].id, "/labels"), json={"label_ids": [billing]}, headers=auth)
    await client.post(conv_url(made[2].id, "/labels"), json={"label_ids": [vip]}, headers=auth)
    await client.post(
        conv_url(made[4].id, "/labels"), json={"label_ids": [billing, vip]}, headers=auth
    )

    async def listed(params: list[tuple[str, str]]) -> list[int]:
        response = await client.get("/api/v1/conversations", params=params, headers=auth)
        assert response.status == 200, await response.text()
        return [c["id"] for c in (await response.json())["items"]]

    assert await listed([("label", str(billing))]) == [made[4].id, made[0].id]
    assert await listed([("label", str(billing)), ("label", str(vip))]) == [
        made[4].id,
        made[2].id,
        made[0].id,
    ]
    assert await listed([("priority", "urgent")]) == [made[3].id, made[1].id]
    assert await listed([("priority", "urgent"), ("label", str(vip))]) == []

    # Urgent first, then newest activity within a priority, over pages of 2.
    expected = [made[i].id for i in (3, 1, 4, 6, 2, 5, 0)]
    seen: list[int] = []
    cursor = None
    while True:
        params = [("sort", "priority"), ("limit", "2"), *([("cursor", cursor)] if cursor else [])]
        body = await (await client.get("/api/v1/conversations", params=params, headers=auth)).json()
        seen += [c["id"] for c in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == expected

    for params, field in [
        ([("label", "424242")], "label"),
        ([("label", "abc")], "label.0"),
        ([("priority", "critical")], "priority.0"),
        ([("sort", "priority"), ("cursor", "eyJ4IjoxfQ")], "cursor"),
    ]:
        response = await client.get("/api/v1/conversations", params=params, headers=auth)
        assert (await error_of(response))[:2] == (422, field), params


async def test_renaming_keeps_assignments_and_deleting_removes_them(
    client: Client, factory: Factory, user_token: UserToken
) -> None:
    _, admin = await user_token("admin@example.com", role="owner")
    label = await make_label(client, admin, "Billing")
    conversation = await factory.conversation(await factory.channel())
    await client.post(
        conv_url(conversation.id, "/labels"), json={"label_ids": [label]}, headers=admin
    )
    patched = await client.patch(
        f"{LABELS}/{label}", json={"name": "Invoices", "colour": "teal"}, headers=admin
    )
    assert (await patched.json())["conversations"] == 1
    got = await (await client.get(conv_url(conversation.id), headers=admin)).json()
    assert [(x["name"], x["colour"]) for x in got["labels"]] == [("Invoices", "teal")]
    assert (await client.delete(f"{LABELS}/{label}", headers=admin)).status == 204
    got = await (await client.get(conv_url(conversation.id), headers=admin)).json()
    assert got["labels"] == []


async def test_custom_inboxes_match_labels_and_priorities(
    client: Client, factory: Factory, user_token: UserToken
) -> None:
    _, auth = await user_token("admin@example.com", role="owner")
    billing = await make_label(client, auth, "Billing")
    channel = await factory.channel()
    labelled = await factory.conversation(channel, minutes=1)
    urgent = await factory.conversation(channel, minutes=2)
    await factory.conversation(channel, minutes=3)
    await client.post(conv_url(labelled.id, "/labels"), json={"label_ids": [billing]}, headers=auth)
    await client.post(conv_url(urgent.id, "/priority"), json={"priority": "urgent"}, headers=auth)

    async def inbox_ids(filters: dict[str, Any]) -> list[int]:
        made = await client.post(
            "/api/v1/custom-inboxes", json={"name": "Triage", "filters": filters}, headers=auth
        )
        assert made.status == 201, await made.text()
        view = f"custom:{(await made.json())['id']}"
        body = await (
            await client.get("/api/v1/conversations", params={"view": view}, headers=auth)
        ).json()
        return [c["id"] for c in body["items"]]

    assert await inbox_ids({"label_ids": [billing]}) == [labelled.id]
    assert await inbox_ids({"priorities": ["urgent", "high"]}) == [urgent.id]
    refused = await client.post(
        "/api/v1/custom-inboxes",
        json={"name": "Bad", "filters": {"label_ids": [424242]}},
        headers=auth,
    )
    assert (await error_of(refused))[:2] == (422, "filters.label_ids")
