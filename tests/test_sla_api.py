"""SLA over HTTP: admins define policies, agents put them on the conversations they can
see (by hand or with a macro's ``apply_sla``), a reply meets the first response, closing
meets the resolution, and the conversation shows its SLA state."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from aiohttp.test_utils import TestClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub import appkeys
from hub.events.work import unit_of_work
from hub.inbox.sla import check_slas
from hub.store.models import Conversation, User
from hub.store.types import utcnow
from tests.factories import Factory

Client = TestClient[Any, Any]
UserToken = Callable[..., Awaitable[tuple[User, dict[str, str]]]]
POLICIES = "/api/v1/sla-policies"


def conv_url(conversation_id: int, rest: str = "") -> str:
    return f"/api/v1/conversations/{conversation_id}{rest}"


async def error_of(response: Any) -> tuple[int, str, str]:
    body = await response.json()
    details = body["error"].get("details") or [{"field": ""}]
    return response.status, details[0]["field"], body["error"]["code"]


async def make_policy(client: Client, auth: dict[str, str], name: str, **targets: Any) -> int:
    response = await client.post(POLICIES, json={"name": name, **targets}, headers=auth)
    assert response.status == 201, await response.text()
    return int((await response.json())["id"])


async def waiting(factory: Factory, minutes_ago: int, **kwargs: Any) -> Conversation:
    at = utcnow() - timedelta(minutes=minutes_ago)
    conversation = await factory.conversation(
        await factory.channel(), opened_at=at, last_message_direction="in", **kwargs
    )
    await factory.message(conversation, "help", created_at=at)
    return conversation


def parse(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


async def test_admins_define_policies_and_agents_read_them(
    client: Client, user_token: UserToken
) -> None:
    _, admin = await user_token("boss@example.com", role="manager")
    _, agent = await user_token("agent@example.com")
    body = {"name": "  Gold ", "first_response_minutes": 30, "resolution_minutes": 480}
    response = await client.post(POLICIES, json=body, headers=admin)
    assert response.status == 201
    created = await response.json()
    assert (
        created["name"],
        created["first_response_minutes"],
        created["next_response_minutes"],
    ) == (
        "Gold",
        30,
        None,
    )
    assert (created["business_hours"], created["conversations"]) == (False, 0)
    await make_policy(client, admin, "Bronze", resolution_minutes=60 * 24)

    listed = await (await client.get(POLICIES, headers=agent)).json()
    assert [p["name"] for p in listed["items"]] == ["Bronze", "Gold"]
    assert (await client.get(f"{POLICIES}/{created['id']}", headers=agent)).status == 200

    # Agents read but do not write.
    assert (await client.post(POLICIES, json=body, headers=agent)).status == 403
    put = {"name": "Gold", "next_response_minutes": 15, "business_hours": True}
    assert (await client.put(f"{POLICIES}/{created['id']}", json=put, headers=agent)).status == 403
    assert (await client.delete(f"{POLICIES}/{created['id']}", headers=agent)).status == 403

    replaced = await client.put(f"{POLICIES}/{created['id']}", json=put, headers=admin)
    assert replaced.status == 200
    out = await replaced.json()
    assert (out["first_response_minutes"], out["next_response_minutes"], out["business_hours"]) == (
        None,
        15,
        True,
    )
    assert (await client.delete(f"{POLICIES}/{created['id']}", headers=admin)).status == 204
    assert (await client.get(f"{POLICIES}/{created['id']}", headers=agent)).status == 404


async def test_bad_policies_are_precise_4xx(client: Client, user_token: UserToken) -> None:
    _, admin = await user_token("boss@example.com", role="owner")
    await make_policy(client, admin, "Gold", first_response_minutes=30)

    async def refused(body: Any) -> tuple[int, str, str]:
        return await error_of(await client.post(POLICIES, json=body, headers=admin))

    assert await refused({"name": "GOLD", "resolution_minutes": 5}) == (
        409,
        "name",
        "sla_policy_name_taken",
    )
    assert (await refused({"name": "None"}))[:2] == (422, "first_response_minutes")
    assert (await refused({"name": "Zero", "resolution_minutes": 0}))[:2] == (
        422,
        "resolution_minutes",
    )
    assert (await refused({"name": "Far", "next_response_minutes": 10**9}))[:2] == (
        422,
        "next_response_minutes",
    )
    assert (await refused({"name": "", "resolution_minutes": 5}))[:2] == (422, "name")
    assert (await refused({"name": "X", "resolution_minutes": "soon"}))[0] == 422
    assert (await refused({"name": "X", "resolution_minutes": 5, "colour": "red"}))[0] == 422
    assert (
        await client.put(
            f"{POLICIES}/999", json={"name": "X", "resolution_minutes": 5}, headers=admin
        )
    ).status == 404
    assert (await client.get(f"{POLICIES}/abc", headers=admin)).status == 404


async def test_agents_apply_a_policy_and_the_conversation_shows_it(
    client: Client, factory: Factory, user_token: UserToken
) -> None:
    me, auth = await user_token("agent@example.com", visibility="assigned")
    _, admin = await user_token("boss@example.com", role="manager")
    policy = await make_policy(
        client, admin, "Gold", first_response_minutes=30, resolution_minutes=240
    )
    mine = await waiting(factory, 10, assignee_id=me.id)
    other = await waiting(factory, 10)

    response = await client.put(conv_url(mine.id, "/sla"), json={"policy_id": policy}, headers=auth)
    assert response.status == 200
    state = (await response.json())["sla"]
    assert state["policy_id"] == policy
    due = parse(state["first_response_due_at"])
    assert due is not None and abs(due - (mine.opened_at + timedelta(minutes=30))) < timedelta(
        seconds=2
    )
    assert state["next_response_due_at"] is None
    assert state["first_response_breached_at"] is None
    got = await (await client.get(conv_url(mine.id), headers=auth)).json()
    assert got["sla"] == state

    # Hidden conversations are not found; unknown policies neither; bad bodies are 422.
    assert (
        await client.put(conv_url(other.id, "/sla"), json={"policy_id": policy}, headers=auth)
    ).status == 404
    assert (
        await error_of(
            await client.put(conv_url(mine.id, "/sla"), json={"policy_id": 999}, headers=auth)
        )
    )[:1] == (404,)
    assert (
        await client.put(conv_url(mine.id, "/sla"), json={"policy_id": "x"}, headers=auth)
    ).status == 422
    assert (await client.put(conv_url(mine.id, "/sla"), json={}, headers=auth)).status == 422
    policies = await (await client.get(POLICIES, headers=auth)).json()
    assert policies["items"][0]["conversations"] == 1

    removed = await client.delete(conv_url(mine.id, "/sla"), headers=auth)
    assert removed.status == 200
    assert (await removed.json())["sla"] is None


async def test_a_reply_meets_the_first_response_and_closing_the_resolution(
    client: Client, factory: Factory, user_token: UserToken, db: async_sessionmaker[AsyncSession]
) -> None:
    _, admin = await user_token("boss@example.com", role="manager")
    policy = await make_policy(
        client,
        admin,
        "Fast",
        first_response_minutes=1,
        next_response_minutes=1,
        resolution_minutes=1,
    )
    conversation = await waiting(factory, 5)
    await client.put(conv_url(conversation.id, "/sla"), json={"policy_id": policy}, headers=admin)
    sent = await client.post(
        conv_url(conversation.id, "/messages"), json={"text": "On it"}, headers=admin
    )
    assert sent.status == 201, await sent.text()
    state = (await (await client.get(conv_url(conversation.id), headers=admin)).json())["sla"]
    assert state["first_response_due_at"] is None
    assert state["resolution_due_at"] is not None  # still running, and long passed

    closed = await client.post(conv_url(conversation.id, "/close"), json={}, headers=admin)
    assert (await closed.json())["sla"]["resolution_due_at"] is None
    app = client.app
    async with unit_of_work(app[appkeys.SESSIONS], app[appkeys.BUS]) as work:
        assert await check_slas(work) == []  # met: nothing to breach


async def test_a_macro_applies_a_policy_and_refuses_an_unknown_one(
    client: Client, factory: Factory, user_token: UserToken
) -> None:
    _, admin = await user_token("boss@example.com", role="manager")
    policy = await make_policy(client, admin, "Gold", resolution_minutes=60)
    conversation = await waiting(factory, 5)
    bad = await client.post(
        "/api/v1/macros",
        json={"name": "Bad", "actions": [{"type": "apply_sla", "policy_id": 999}]},
        headers=admin,
    )
    assert await error_of(bad) == (422, "actions[0].policy_id", "validation_error")
    made = await client.post(
        "/api/v1/macros",
        json={"name": "VIP", "actions": [{"type": "apply_sla", "policy_id": policy}]},
        headers=admin,
    )
    assert made.status == 201, await made.text()
    macro_id = (await made.json())["id"]
    run = await client.post(
        f"/api/v1/macros/{macro_id}/run", json={"conversation_id": conversation.id}, headers=admin
    )
    assert run.status == 200, await run.text()
    assert [o["changed"] for o in (await run.json())["outcomes"]] == [True]
    again = await client.post(
        f"/api/v1/macros/{macro_id}/run", json={"conversation_id": conversation.id}, headers=admin
    )
    assert [o["changed"] for o in (await again.json())["outcomes"]] == [False]
    got = await (await client.get(conv_url(conversation.id), headers=admin)).json()
    assert got["sla"]["policy_id"] == policy


async def test_deleting_a_policy_takes_it_off_its_conversations(
    client: Client, factory: Factory, user_token: UserToken, db: async_sessionmaker[AsyncSession]
) -> None:
    _, admin = await user_token("boss@example.com", role="manager")
    policy = await make_policy(client, admin, "Gold", resolution_minutes=1)
    conversation = await waiting(factory, 5)
    await client.put(conv_url(conversation.id, "/sla"), json={"policy_id": policy}, headers=admin)
    app = client.app
    async with unit_of_work(app[appkeys.SESSIONS], app[appkeys.BUS]) as work:
        assert await check_slas(work) == [(conversation.id, "resolution")]
    assert (await client.delete(f"{POLICIES}/{policy}", headers=admin)).status == 204
    async with db() as session:
        stored = await session.get_one(Conversation, conversation.id)
        assert (stored.sla_policy_id, stored.resolution_due_at, stored.resolution_breached_at) == (
            None,
            None,
            None,
        )


async def test_the_at_risk_view_lists_and_counts_what_the_caller_sees(
    client: Client, factory: Factory, user_token: UserToken
) -> None:
    me, auth = await user_token("agent@example.com", visibility="assigned")
    _, admin = await user_token("boss@example.com", role="manager")
    counts = await (await client.get("/api/v1/inbox/counts", headers=auth)).json()
    assert "sla" not in [c["view"] for c in counts["views"]]  # no policy yet
    policy = await make_policy(client, admin, "Gold", first_response_minutes=60)
    mine_late = await waiting(factory, 90, assignee_id=me.id)
    mine_calm = await waiting(factory, 1, assignee_id=me.id)  # due in 59 min
    others_late = await waiting(factory, 90)
    for conversation in (mine_late, mine_calm, others_late):
        response = await client.put(
            conv_url(conversation.id, "/sla"), json={"policy_id": policy}, headers=admin
        )
        assert response.status == 200

    listed = await (await client.get("/api/v1/conversations?view=sla", headers=auth)).json()
    assert [c["id"] for c in listed["items"]] == [mine_late.id]
    everyone = await (await client.get("/api/v1/conversations?view=sla", headers=admin)).json()
    assert {c["id"] for c in everyone["items"]} == {mine_late.id, others_late.id}
    counts = await (await client.get("/api/v1/inbox/counts", headers=auth)).json()
    assert {"view": "sla", "name": "SLA at risk", "open": 1}.items() <= next(
        c for c in counts["views"] if c["view"] == "sla"
    ).items()


async def test_merging_stops_the_clocks_of_the_conversation_merged_away(
    client: Client, factory: Factory, user_token: UserToken
) -> None:
    _, admin = await user_token("boss@example.com", role="manager")
    policy = await make_policy(
        client, admin, "Gold", first_response_minutes=30, resolution_minutes=60
    )
    channel = await factory.channel()
    ada = await factory.contact("Ada")
    at = utcnow() - timedelta(minutes=5)
    source = await factory.conversation(channel, ada, opened_at=at, last_message_direction="in")
    target = await factory.conversation(channel, ada, opened_at=at)
    await factory.message(source, "help", created_at=at)
    await client.put(conv_url(source.id, "/sla"), json={"policy_id": policy}, headers=admin)
    merged = await client.post(
        conv_url(source.id, "/merge"), json={"into": target.id}, headers=admin
    )
    assert merged.status == 200, await merged.text()
    state = (await (await client.get(conv_url(source.id), headers=admin)).json())["sla"]
    assert (state["first_response_due_at"], state["resolution_due_at"]) == (None, None)
