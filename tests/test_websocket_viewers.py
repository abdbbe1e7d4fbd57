"""The websockets' viewers reloaded together (``hub.realtime.viewers.ViewerRefresh``):
unannounced changes reach every open socket in a fixed number of queries, access that
ended closes the socket with 4401, and nothing is kept once the sockets close."""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack
from datetime import timedelta
from typing import Any

import pytest
from aiohttp import WSMsgType
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub import appkeys
from hub.auth.visibility import Viewer
from hub.realtime import viewers
from hub.realtime.viewers import Credential, ViewerRefresh
from hub.store.models import LoginSession, User
from hub.store.types import utcnow
from tests.conftest import log_in
from tests.factories import Factory
from tests.statements import recorded
from tests.test_websocket import Client, Socket, UserToken, closed_with, end_access, frame

WAIT = 15.0


async def hello(socket: Socket) -> None:
    """The first frame: once it is here, the connection is in the refresher."""
    message = await socket.receive(timeout=WAIT)
    assert message.type is WSMsgType.TEXT and message.json()["type"] == "hello", message


def refresher(client: Client) -> ViewerRefresh:
    return client.server.app[appkeys.VIEWER_REFRESH]


async def test_an_unannounced_visibility_change_applies_after_the_reload(
    client: Client,
    factory: Factory,
    user_token: UserToken,
    db: async_sessionmaker[AsyncSession],
) -> None:
    _, owner_auth = await user_token("owner@example.com", role="owner")
    agent, auth = await user_token("agent@example.com")
    channel = await factory.channel()
    now_hidden = await factory.conversation(channel)
    theirs = await factory.conversation(channel)

    async with client.ws_connect("/ws", headers=auth) as socket:
        await hello(socket)
        # Nobody announces this change; the periodic reload alone must catch it.
        async with db() as session:
            await session.execute(
                update(User).where(User.id == agent.id).values(visibility="assigned")
            )
            await session.commit()
        await refresher(client).refresh()
        url = f"/api/v1/conversations/{now_hidden.id}/close"
        assert (await client.post(url, json={}, headers=owner_auth)).status == 200
        url = f"/api/v1/conversations/{theirs.id}/assign"
        assert (
            await client.post(url, json={"user_id": agent.id}, headers=owner_auth)
        ).status == 200
        assert (await frame(socket))["data"]["conversation_id"] == theirs.id


async def test_the_reload_takes_as_many_queries_for_six_sockets_as_for_one(
    client: Client, user_token: UserToken
) -> None:
    tokens = [(await user_token(f"agent{n}@example.com"))[1] for n in range(6)]
    async with AsyncExitStack() as stack:
        first = await stack.enter_async_context(client.ws_connect("/ws", headers=tokens[0]))
        await hello(first)
        with recorded(client.server.app[appkeys.ENGINE]) as one:
            await refresher(client).refresh()
        for auth in tokens[1:]:
            await hello(await stack.enter_async_context(client.ws_connect("/ws", headers=auth)))
        assert len(refresher(client)) == 6
        with recorded(client.server.app[appkeys.ENGINE]) as six:
            await refresher(client).refresh()
    # Users, their teams, their tokens: one query each, whatever the number of sockets.
    assert len(one) == len(six) == 3, six


@pytest.mark.parametrize("change", ["deactivated", "token_revoked"])
async def test_the_reload_closes_a_socket_whose_access_ended_with_4401(
    client: Client, user_token: UserToken, db: async_sessionmaker[AsyncSession], change: str
) -> None:
    agent, auth = await user_token("agent@example.com")
    _, other_auth = await user_token("other@example.com")
    async with (
        client.ws_connect("/ws", headers=auth) as socket,
        client.ws_connect("/ws", headers=other_auth) as other,
    ):
        await hello(socket)
        await hello(other)
        await end_access(db, agent.id, change)
        await refresher(client).refresh()
        assert await closed_with(socket) == 4401
        assert not other.closed


async def test_the_reload_closes_an_expired_session_with_4401(
    client: Client, make_user: Any, db: async_sessionmaker[AsyncSession]
) -> None:
    await make_user("agent@example.com")
    await log_in(client, "agent@example.com")
    async with client.ws_connect("/ws") as socket:
        await hello(socket)
        async with db() as session:
            await session.execute(
                update(LoginSession).values(expires_at=utcnow() - timedelta(seconds=1))
            )
            await session.commit()
        await refresher(client).refresh()
        message = await socket.receive(timeout=WAIT)
        assert message.type is WSMsgType.CLOSE and message.data == 4401
        assert message.extra == viewers.SESSION_ENDED


async def test_nothing_is_kept_once_the_sockets_close(
    client: Client, user_token: UserToken
) -> None:
    app = client.server.app
    bus: Any = app[appkeys.BUS]
    subscribed_before = len(bus._subscribers)
    auths = [(await user_token(f"agent{n}@example.com"))[1] for n in range(3)]
    async with AsyncExitStack() as stack:
        for auth in auths:
            await hello(await stack.enter_async_context(client.ws_connect("/ws", headers=auth)))
        assert len(refresher(client)) == 3 and refresher(client).running
        assert len(app[appkeys.OPEN_SOCKETS]) == 3
    for _ in range(100):  # the server's handlers end just after the clients close
        if not app[appkeys.OPEN_SOCKETS] and not len(refresher(client)):
            break
        await asyncio.sleep(0.02)
    assert not app[appkeys.OPEN_SOCKETS]
    assert len(refresher(client)) == 0
    assert not refresher(client).running
    assert len(bus._subscribers) == subscribed_before


class _Listener:
    """A connection as the refresher sees it, whose own reload lands mid-refresh."""

    def __init__(self, user_id: int) -> None:
        self.credential = Credential(user_id, None, None)
        self.viewer_version = 0
        self.verdicts: list[tuple[Viewer | str, int]] = []

    def refreshed(self, verdict: Viewer | str, version: int) -> None:
        self.verdicts.append((verdict, version))


async def test_the_reload_hands_each_listener_the_version_it_read_against(
    db: async_sessionmaker[AsyncSession], make_user: Any
) -> None:
    user = await make_user("agent@example.com")
    refresh = ViewerRefresh(lambda: db, interval=3600)
    listener = _Listener(user.id)
    refresh.join(listener)
    try:
        listener.viewer_version = 4
        await refresh.refresh()
    finally:
        refresh.leave(listener)
    [(verdict, version)] = listener.verdicts
    assert version == 4
    assert isinstance(verdict, Viewer) and verdict.id == user.id
    assert not refresh.running
