"""Fan-out: one event reaches every socket as the same frame, encoded once."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp import ClientWebSocketResponse, WSMsgType, web
from aiohttp.test_utils import TestClient

from hub import appkeys
from hub.store.models import User
from tests.factories import Factory

Client = TestClient[Any, Any]
Socket = ClientWebSocketResponse[bool]
UserToken = Callable[..., Awaitable[tuple[User, dict[str, str]]]]
WAIT = 15.0  # seconds a frame may take before the test fails; never slept


async def next_text(socket: Socket) -> str:
    """The next text frame past the ``hello``, as sent."""
    message = await socket.receive(timeout=WAIT)
    assert message.type is WSMsgType.TEXT, message
    if '"hello"' in message.data:
        message = await socket.receive(timeout=WAIT)
    assert message.type is WSMsgType.TEXT, message
    return str(message.data)


async def test_two_sockets_get_the_same_frame_encoded_once(
    client: Client, factory: Factory, user_token: UserToken, monkeypatch: pytest.MonkeyPatch
) -> None:
    owner, owner_auth = await user_token("owner@example.com", role="owner")
    _, first_auth = await user_token("first@example.com")
    _, second_auth = await user_token("second@example.com")
    conversation = await factory.conversation(await factory.channel())
    sent: list[str] = []
    send_str = web.WebSocketResponse.send_str

    async def recording(
        self: web.WebSocketResponse, data: str, compress: int | None = None
    ) -> None:
        sent.append(data)
        await send_str(self, data, compress)

    monkeypatch.setattr(web.WebSocketResponse, "send_str", recording)

    async with (
        client.ws_connect("/ws", headers=first_auth) as first,
        client.ws_connect("/ws", headers=second_auth) as second,
    ):
        url = f"/api/v1/conversations/{conversation.id}/close"
        assert (await client.post(url, json={}, headers=owner_auth)).status == 200
        one, other = await next_text(first), await next_text(second)

    assert one == other
    frame = json.loads(one)
    assert frame["type"] == "conversation.updated"
    assert frame["data"]["conversation_id"] == conversation.id
    assert frame["data"]["event"] == "closed"
    assert frame["data"]["actor_id"] == owner.id
    assert isinstance(frame["id"], int)  # the realtime log's id, the same for everyone
    # One string object for both sockets: the event was encoded once, not per socket.
    copies = [text for text in sent if text == one]
    assert len(copies) == 2
    assert copies[0] is copies[1]


async def test_a_socket_asking_for_compression_gets_plain_frames(
    client: Client, user_token: UserToken
) -> None:
    _, auth = await user_token("agent@example.com")
    # As browsers do: offer permessage-deflate. Per-socket compression would encode each
    # event once per socket again (and keep a zlib context per socket).
    async with client.ws_connect("/ws", headers=auth, compress=15) as socket:
        assert socket.compress == 0
        hello = await socket.receive(timeout=WAIT)
        assert hello.type is WSMsgType.TEXT and '"hello"' in hello.data


async def test_a_socket_stuck_writing_does_not_hold_the_others_back(
    client: Client, factory: Factory, user_token: UserToken, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Each socket has its own pump: one whose writes never finish (a client that stopped
    # reading, its buffers full) delays nobody else's events, and the webhook or API
    # call that caused them still answers.
    _, owner_auth = await user_token("owner@example.com", role="owner")
    _, stuck_auth = await user_token("stuck@example.com")
    _, other_auth = await user_token("other@example.com")
    conversations = [await factory.conversation(await factory.channel()) for _ in range(3)]
    send_str = web.WebSocketResponse.send_str
    stuck_sockets: set[web.WebSocketResponse] = set()
    never = asyncio.Event()

    async def stalling(self: web.WebSocketResponse, data: str, compress: int | None = None) -> None:
        if self in stuck_sockets and '"hello"' not in data:
            await never.wait()  # drain that never comes
        await send_str(self, data, compress)

    monkeypatch.setattr(web.WebSocketResponse, "send_str", stalling)
    app_sockets = client.server.app[appkeys.OPEN_SOCKETS]

    async with client.ws_connect("/ws", headers=stuck_auth) as stuck:
        assert '"hello"' in (await stuck.receive(timeout=WAIT)).data
        stuck_sockets.update(app_sockets)
        async with client.ws_connect("/ws", headers=other_auth) as other:
            for conversation in conversations:
                url = f"/api/v1/conversations/{conversation.id}/close"
                assert (await client.post(url, json={}, headers=owner_auth)).status == 200
            heard = [json.loads(await next_text(other)) for _ in range(6)]
    closed = [f["data"]["conversation_id"] for f in heard if f["type"] == "conversation.updated"]
    assert closed == [c.id for c in conversations]
    never.set()
