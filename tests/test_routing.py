"""Routing of new inbound conversations: unassigned, round robin among available agents
of the chosen users and teams (rotating, remembered per channel), CRM owner fallback."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.app import create_app
from hub.contract import Assignee, NewConversation, hookimpl
from hub.inbox.routing import Pick, next_pick
from hub.settings import Settings
from hub.store.models import Channel, Contact, Conversation, ConversationEvent, Notification, User
from tests.channel_doubles import manager, message, post
from tests.factories import Factory

Client = TestClient[Any, Any]
Sessions = async_sessionmaker[AsyncSession]
MakeUser = Callable[..., Awaitable[User]]


@pytest.fixture
async def hub(aiohttp_client: Callable[..., Awaitable[Client]], settings: Settings) -> Client:
    return await aiohttp_client(create_app(settings, plugins=manager()))


async def routed(factory: Factory, **routing: Any) -> Channel:
    return await factory.channel("double", routing=routing)


async def assignees(db: Sessions) -> list[int | None]:
    async with db() as session:
        return list(
            await session.scalars(select(Conversation.assignee_id).order_by(Conversation.id))
        )


async def post_from(hub: Client, channel: Channel, *senders: str) -> None:
    for sender in senders:
        response = await post(hub, channel.id, message(f"m-{sender}", sender=sender))
        assert response.status == 200, await response.text()


def test_next_pick_rotates_after_the_last_pick_and_wraps() -> None:
    picks = [Pick(2, None), Pick(5, None), Pick(9, None)]

    assert next_pick(picks, None) == picks[0]
    assert next_pick(picks, 2) == picks[1]
    assert next_pick(picks, 6) == picks[2]  # the last pick left the pool: next after it
    assert next_pick(picks, 9) == picks[0]
    assert next_pick([], 1) is None


async def test_unassigned_routing_leaves_new_conversations_unassigned(
    hub: Client, factory: Factory, db: Sessions
) -> None:
    channel = await routed(factory, mode="unassigned")

    await post_from(hub, channel, "a", "b")

    assert await assignees(db) == [None, None]


async def test_round_robin_rotates_and_skips_unavailable_and_inactive_agents(
    hub: Client, factory: Factory, db: Sessions, make_user: MakeUser
) -> None:
    ann = await make_user("ann@example.com")
    ben = await make_user("ben@example.com")
    away = await make_user("away@example.com")
    gone = await make_user("gone@example.com", active=False)
    async with db() as session:
        await session.execute(update(User).where(User.id == away.id).values(available=False))
        await session.commit()
    channel = await routed(factory, mode="round_robin", user_ids=[ann.id, ben.id, away.id, gone.id])

    await post_from(hub, channel, "a", "b", "c")

    assert await assignees(db) == [ann.id, ben.id, ann.id]
    async with db() as session:
        stored = await session.get_one(Channel, channel.id)
        assert stored.routing_cursor == ann.id
        kinds = list(await session.scalars(select(ConversationEvent.kind)))
        notified = list(await session.scalars(select(Notification.user_id)))
    assert kinds.count("assigned") == 3
    assert sorted(notified) == sorted([ann.id, ben.id, ann.id])


async def test_round_robin_reaches_team_members_and_sets_the_team(
    hub: Client, factory: Factory, db: Sessions, make_user: MakeUser
) -> None:
    ann = await make_user("ann@example.com")
    ben = await make_user("ben@example.com")
    team = await factory.team("Support", members=[ben])
    channel = await routed(factory, mode="round_robin", user_ids=[ann.id], team_ids=[team.id])

    await post_from(hub, channel, "a", "b")

    async with db() as session:
        rows = (
            await session.execute(
                select(Conversation.assignee_id, Conversation.team_id).order_by(Conversation.id)
            )
        ).all()
    assert [tuple(r) for r in rows] == [(ann.id, None), (ben.id, team.id)]


async def test_only_new_conversations_are_routed(
    hub: Client, factory: Factory, db: Sessions, make_user: MakeUser
) -> None:
    ann = await make_user("ann@example.com")
    ben = await make_user("ben@example.com")
    channel = await routed(factory, mode="round_robin", user_ids=[ann.id, ben.id])

    await post(hub, channel.id, message("m1", sender="a"))
    await post(hub, channel.id, message("m2", sender="a"))

    assert await assignees(db) == [ann.id]


async def test_round_robin_without_available_agents_leaves_it_unassigned(
    hub: Client, factory: Factory, db: Sessions, make_user: MakeUser
) -> None:
    gone = await make_user("gone@example.com", active=False)
    channel = await routed(factory, mode="round_robin", user_ids=[gone.id])

    await post_from(hub, channel, "a")

    assert await assignees(db) == [None]


async def test_crm_owner_falls_back_to_unassigned_until_crms_exist(
    hub: Client, factory: Factory, db: Sessions, make_user: MakeUser
) -> None:
    await make_user("ann@example.com")
    channel = await routed(factory, mode="crm_owner")

    await post_from(hub, channel, "a")

    assert await assignees(db) == [None]


async def test_a_blocked_contacts_new_conversation_is_not_routed(
    hub: Client, factory: Factory, db: Sessions, make_user: MakeUser
) -> None:
    ann = await make_user("ann@example.com")
    channel = await routed(factory, mode="round_robin", user_ids=[ann.id])
    await post_from(hub, channel, "a")
    async with db() as session:
        await session.execute(update(Contact).values(blocked=True))
        await session.execute(update(Conversation).values(status="closed", contact_blocked=True))
        await session.execute(update(Channel).values(settings={"closed_conversation": "new"}))
        await session.commit()

    await post(hub, channel.id, message("m-2", sender="a"))

    assert await assignees(db) == [ann.id, None]


# --- the routing hook: the built-in rule is a trylast plugin a plugin overrides -------


class Seen:
    """A routing plugin that records what it was offered and answers ``answer``."""

    def __init__(self, answer: Any) -> None:
        self.answer = answer
        self.calls: list[tuple[NewConversation, tuple[Assignee, ...]]] = []

    @hookimpl
    def hub_route_conversation(
        self, conversation: NewConversation, candidates: tuple[Assignee, ...]
    ) -> Any:
        self.calls.append((conversation, candidates))
        return self.answer(candidates) if callable(self.answer) else self.answer


async def routing_hub(
    aiohttp_client: Callable[..., Awaitable[Client]], settings: Settings, plugin: object
) -> Client:
    return await aiohttp_client(create_app(settings, plugins=manager(plugin)))


async def test_hook_hub_route_conversation(
    aiohttp_client: Callable[..., Awaitable[Client]],
    settings: Settings,
    factory: Factory,
    db: Sessions,
    make_user: MakeUser,
) -> None:
    ann = await make_user("ann@example.com")
    ben = await make_user("ben@example.com")
    # Always the last candidate: the built-in round robin would start with ann.
    plugin = Seen(lambda candidates: candidates[-1])
    hub = await routing_hub(aiohttp_client, settings, plugin)
    channel = await routed(factory, mode="round_robin", user_ids=[ann.id, ben.id])

    await post_from(hub, channel, "a", "b")

    assert await assignees(db) == [ben.id, ben.id]
    [(first, offered), (second, _)] = plugin.calls
    assert offered == (Assignee(user_id=ann.id), Assignee(user_id=ben.id))
    assert (first.channel_id, first.channel_type, first.routing_mode) == (
        channel.id,
        "double",
        "round_robin",
    )
    assert (first.last_user_id, second.last_user_id) == (None, ben.id)


async def test_a_plugin_routes_a_channel_the_core_leaves_unassigned_and_may_await(
    aiohttp_client: Callable[..., Awaitable[Client]],
    settings: Settings,
    factory: Factory,
    db: Sessions,
    make_user: MakeUser,
) -> None:
    ann = await make_user("ann@example.com")

    async def decided() -> Assignee:
        return Assignee(user_id=ann.id)

    hub = await routing_hub(aiohttp_client, settings, Seen(lambda _: decided()))
    channel = await routed(factory, mode="unassigned")

    await post_from(hub, channel, "a")

    assert await assignees(db) == [ann.id]


async def test_a_plugin_that_declines_leaves_the_built_in_round_robin(
    aiohttp_client: Callable[..., Awaitable[Client]],
    settings: Settings,
    factory: Factory,
    db: Sessions,
    make_user: MakeUser,
) -> None:
    ann = await make_user("ann@example.com")
    ben = await make_user("ben@example.com")
    hub = await routing_hub(aiohttp_client, settings, Seen(None))
    channel = await routed(factory, mode="round_robin", user_ids=[ann.id, ben.id])

    await post_from(hub, channel, "a", "b")

    assert await assignees(db) == [ann.id, ben.id]


async def test_a_failing_plugin_falls_back_and_a_bad_answer_leaves_it_unassigned(
    aiohttp_client: Callable[..., Awaitable[Client]],
    settings: Settings,
    factory: Factory,
    db: Sessions,
    make_user: MakeUser,
) -> None:
    ann = await make_user("ann@example.com")

    def broken(_: tuple[Assignee, ...]) -> Assignee:
        raise RuntimeError("plugin bug")

    answers = iter([broken, lambda _: Assignee(user_id=ann.id + 999), lambda _: "ann"])
    plugin = Seen(lambda candidates: next(answers)(candidates))
    hub = await routing_hub(aiohttp_client, settings, plugin)
    channel = await routed(factory, mode="round_robin", user_ids=[ann.id])

    await post_from(hub, channel, "a", "b", "c")

    # The bug: the built-in rule; an unknown user and a non-Assignee: nobody.
    assert await assignees(db) == [ann.id, None, None]
