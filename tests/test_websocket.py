"""GET /ws: who may connect, which events reach whom, client messages, close codes.

"Does not receive" is proven without sleeping: after the event that must not arrive,
an event the user may see is caused, and it must be the very next frame.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp import ClientWebSocketResponse, WSMessage, WSMsgType, WSServerHandshakeError
from aiohttp.test_utils import TestClient
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub import appkeys
from hub.app import create_app
from hub.events.event import HubEvent
from hub.realtime import ws
from hub.settings import Settings
from hub.store.models import ApiToken, TeamMembership, User
from hub.store.types import utcnow
from tests.conftest import PASSWORD, log_in
from tests.factories import Factory
from tests.ui_helpers import log_in_page

Client = TestClient[Any, Any]
Socket = ClientWebSocketResponse[bool]
UserToken = Callable[..., Awaitable[tuple[User, dict[str, str]]]]
WAIT = 15.0  # seconds a frame may take before the test fails; never slept


async def next_message(socket: Socket) -> WSMessage:
    """The next message, past the ``hello`` every connection starts with (the replay
    protocol's frames and the events' ids are tested in test_realtime_replay.py)."""
    message = await socket.receive(timeout=WAIT)
    if message.type is WSMsgType.TEXT and message.json()["type"] == "hello":
        message = await socket.receive(timeout=WAIT)
    return message


async def frame(socket: Socket) -> dict[str, Any]:
    """The next frame, as JSON, without its event id."""
    message = await next_message(socket)
    assert message.type is WSMsgType.TEXT, message
    data: dict[str, Any] = message.json()
    data.pop("id", None)
    return data


async def frames(socket: Socket, count: int) -> list[tuple[str, dict[str, Any]]]:
    """The next ``count`` frames as (type, data)."""
    return [(f["type"], f.get("data", {})) for f in [await frame(socket) for _ in range(count)]]


async def closed_with(socket: Socket) -> int:
    """Wait for the server to close the socket; its close code."""
    message = await next_message(socket)
    assert message.type is WSMsgType.CLOSE, message
    return int(message.data)


async def test_an_agent_sees_changes_to_conversations_they_can_see(
    client: Client, factory: Factory, user_token: UserToken
) -> None:
    owner, owner_auth = await user_token("owner@example.com", role="owner")
    agent, auth = await user_token("agent@example.com")
    colleague, _ = await user_token("colleague@example.com")
    conversation = await factory.conversation(await factory.channel())
    url = f"/api/v1/conversations/{conversation.id}"

    async with client.ws_connect("/ws", headers=auth) as socket:
        response = await client.post(
            f"{url}/assign", json={"user_id": colleague.id}, headers=owner_auth
        )
        assert response.status == 200
        assert await frames(socket, 2) == [
            (
                "conversation.updated",
                {
                    "conversation_id": conversation.id,
                    "event": "assigned",
                    "actor_id": owner.id,
                    "user_id": colleague.id,
                    "team_id": None,
                },
            ),
            ("counts.changed", {}),
        ]
        response = await client.post(f"{url}/close", json={}, headers=owner_auth)
        assert response.status == 200
        updated, counts = await frames(socket, 2)
        assert updated[0] == "conversation.updated"
        assert (updated[1]["event"], updated[1]["conversation_id"]) == ("closed", conversation.id)
        assert counts == ("counts.changed", {})
    assert agent.id != colleague.id


async def test_a_restricted_agent_gets_no_events_of_conversations_hidden_from_them(
    client: Client, factory: Factory, user_token: UserToken
) -> None:
    _, owner_auth = await user_token("owner@example.com", role="owner")
    restricted, auth = await user_token("restricted@example.com", visibility="assigned")
    other, _ = await user_token("other@example.com")
    channel = await factory.channel()
    hidden = await factory.conversation(channel)
    also_hidden = await factory.conversation(channel, assignee_id=other.id)
    theirs = await factory.conversation(channel)

    async with client.ws_connect("/ws", headers=auth) as socket:
        for conversation, action, body in [
            (hidden, "assign", {"user_id": other.id}),
            (also_hidden, "close", {}),
            (theirs, "assign", {"user_id": restricted.id}),
        ]:
            url = f"/api/v1/conversations/{conversation.id}/{action}"
            assert (await client.post(url, json=body, headers=owner_auth)).status == 200
        first = await frame(socket)
        assert first["type"] == "conversation.updated"
        assert first["data"]["conversation_id"] == theirs.id

        # Taken away from them: they still hear of it, so it can leave their list.
        await frames(socket, 2)  # counts.changed, notification of the assignment
        url = f"/api/v1/conversations/{theirs.id}/assign"
        assert (
            await client.post(url, json={"user_id": other.id}, headers=owner_auth)
        ).status == 200
        taken = await frame(socket)
        assert (taken["type"], taken["data"]["conversation_id"]) == (
            "conversation.updated",
            theirs.id,
        )


async def test_a_notification_reaches_only_its_user(
    client: Client, factory: Factory, user_token: UserToken
) -> None:
    owner, owner_auth = await user_token("owner@example.com", role="owner")
    assignee, assignee_auth = await user_token("assignee@example.com")
    _, bystander_auth = await user_token("bystander@example.com")
    channel = await factory.channel()
    conversation = await factory.conversation(channel)
    later = await factory.conversation(channel)

    async with (
        client.ws_connect("/ws", headers=assignee_auth) as assignee_socket,
        client.ws_connect("/ws", headers=bystander_auth) as bystander_socket,
    ):
        url = f"/api/v1/conversations/{conversation.id}/assign"
        assert (
            await client.post(url, json={"user_id": assignee.id}, headers=owner_auth)
        ).status == 200
        assert [t for t, _ in await frames(assignee_socket, 2)] == [
            "conversation.updated",
            "counts.changed",
        ]
        assert await frame(assignee_socket) == {
            "type": "notification",
            "data": {"kind": "assigned", "conversation_id": conversation.id, "by": owner.id},
        }

        assert [t for t, _ in await frames(bystander_socket, 2)] == [
            "conversation.updated",
            "counts.changed",
        ]
        url = f"/api/v1/conversations/{later.id}/close"
        assert (await client.post(url, json={}, headers=owner_auth)).status == 200
        after = await frame(bystander_socket)
        assert (after["type"], after["data"]["conversation_id"]) == (
            "conversation.updated",
            later.id,
        )


async def test_typing_reaches_the_agents_who_can_see_the_conversation(
    client: Client, factory: Factory, user_token: UserToken
) -> None:
    typist, typist_auth = await user_token("typist@example.com", name="Tess Typist")
    _, colleague_auth = await user_token("colleague@example.com")
    restricted, restricted_auth = await user_token("restricted@example.com", visibility="assigned")
    channel = await factory.channel()
    open_to_all = await factory.conversation(channel)
    the_restricted_ones = await factory.conversation(channel, assignee_id=restricted.id)

    async with (
        client.ws_connect("/ws", headers=typist_auth) as typist_socket,
        client.ws_connect("/ws", headers=colleague_auth) as colleague_socket,
        client.ws_connect("/ws", headers=restricted_auth) as restricted_socket,
    ):
        await typist_socket.send_json(
            {"type": "typing", "conversation_id": open_to_all.id, "typing": True}
        )
        assert await frame(colleague_socket) == {
            "type": "typing",
            "data": {
                "conversation_id": open_to_all.id,
                "user_id": typist.id,
                "name": "Tess Typist",
                "typing": True,
            },
        }
        await typist_socket.send_json(
            {"type": "typing", "conversation_id": the_restricted_ones.id, "typing": True}
        )
        seen = await frame(restricted_socket)
        assert seen["data"]["conversation_id"] == the_restricted_ones.id

        # The typist is not told about their own typing.
        await typist_socket.send_json({"type": "ping"})
        assert await frame(typist_socket) == {"type": "pong"}


async def test_typing_in_a_conversation_one_cannot_see_is_refused(
    client: Client, factory: Factory, user_token: UserToken
) -> None:
    restricted, restricted_auth = await user_token("restricted@example.com", visibility="assigned")
    _, colleague_auth = await user_token("colleague@example.com")
    channel = await factory.channel()
    hidden = await factory.conversation(channel)
    theirs = await factory.conversation(channel, assignee_id=restricted.id)

    async with (
        client.ws_connect("/ws", headers=restricted_auth) as socket,
        client.ws_connect("/ws", headers=colleague_auth) as colleague_socket,
    ):
        for conversation_id in (hidden.id, 999_999):
            await socket.send_json(
                {"type": "typing", "conversation_id": conversation_id, "typing": True}
            )
            assert await frame(socket) == {
                "type": "error",
                "message": f"conversation {conversation_id} not found",
            }
        await socket.send_json({"type": "typing", "conversation_id": theirs.id, "typing": True})
        shown = await frame(colleague_socket)
        assert shown["data"]["conversation_id"] == theirs.id


async def test_typing_stops_for_the_others_when_the_typist_disconnects(
    client: Client, factory: Factory, user_token: UserToken
) -> None:
    typist, typist_auth = await user_token("typist@example.com")
    _, colleague_auth = await user_token("colleague@example.com")
    conversation = await factory.conversation(await factory.channel())
    typing = {"type": "typing", "conversation_id": conversation.id, "typing": True}

    async with client.ws_connect("/ws", headers=colleague_auth) as colleague_socket:
        async with client.ws_connect("/ws", headers=typist_auth) as typist_socket:
            await typist_socket.send_json(typing)
            assert (await frame(colleague_socket))["data"]["typing"] is True
            # Said again at once: not repeated to everyone.
            await typist_socket.send_json(typing)
            await typist_socket.send_json({"type": "ping"})
            assert await frame(typist_socket) == {"type": "pong"}
        stopped = await frame(colleague_socket)
        assert stopped["data"] == {
            "conversation_id": conversation.id,
            "user_id": typist.id,
            "name": typist.name,
            "typing": False,
        }


@pytest.mark.parametrize(
    ("sent", "message"),
    [
        ("not json", "not JSON"),
        ("[1, 2]", 'a JSON object with a "type"'),
        ('{"type": 5}', 'a JSON object with a "type"'),
        ('{"type": "dance"}', "unknown type 'dance'"),
        ('{"type": "typing", "conversation_id": "7", "typing": true}', "conversation_id:"),
        ('{"type": "typing", "conversation_id": 7}', "typing: Field required"),
        ('{"type": "typing", "conversation_id": 7, "typing": "yes"}', "typing:"),
        ('{"type": "typing", "conversation_id": 0, "typing": true}', "conversation_id:"),
        ('{"type": "typing", "conversation_id": 1e40, "typing": true}', "conversation_id:"),
        (
            '{"type": "typing", "conversation_id": 99999999999999999999999, "typing": true}',
            "conversation_id:",
        ),
        ('{"type": "ping", "extra": 1}', "extra:"),
        (b"\x00binary", "not binary"),
    ],
)
async def test_a_malformed_client_message_gets_an_error_frame_and_the_connection_stays(
    client: Client, user_token: UserToken, sent: str | bytes, message: str
) -> None:
    _, auth = await user_token("agent@example.com")
    async with client.ws_connect("/ws", headers=auth) as socket:
        if isinstance(sent, bytes):
            await socket.send_bytes(sent)
        else:
            await socket.send_str(sent)
        error = await frame(socket)
        assert error["type"] == "error"
        assert message in error["message"]
        await socket.send_json({"type": "ping"})
        assert await frame(socket) == {"type": "pong"}


async def test_an_oversized_client_message_closes_the_connection_with_1009(
    client: Client, user_token: UserToken
) -> None:
    _, auth = await user_token("agent@example.com")
    async with client.ws_connect("/ws", headers=auth) as socket:
        await socket.send_str(
            '{"type": "ping", "pad": "' + "x" * ws.MAX_CLIENT_MESSAGE_BYTES + '"}'
        )
        assert await closed_with(socket) == 1009


async def test_an_unauthenticated_connection_is_refused_with_401(client: Client) -> None:
    response = await client.get("/ws")
    assert response.status == 401
    assert (await response.json())["error"]["code"] == "unauthenticated"
    for headers in ({}, {"Authorization": "Bearer hub_unknown"}):
        with pytest.raises(WSServerHandshakeError) as refused:
            await client.ws_connect("/ws", headers=headers)
        assert refused.value.status == 401


async def test_a_plain_get_with_credentials_is_told_to_upgrade(
    client: Client, user_token: UserToken
) -> None:
    _, auth = await user_token("agent@example.com")
    response = await client.get("/ws", headers=auth)
    assert response.status == 426
    assert response.headers["Upgrade"] == "websocket"
    assert (await response.json())["error"]["code"] == "websocket_required"


async def test_a_cookie_connection_from_another_site_is_refused_with_403(
    client: Client, make_user: Callable[..., Awaitable[User]], user_token: UserToken
) -> None:
    await make_user("agent@example.com")
    await log_in(client, "agent@example.com")
    same_host = f"http://{client.host}:{client.port}"
    for origin in ("https://hub.example.test", same_host, None):
        headers = {"Origin": origin} if origin else {}
        async with client.ws_connect("/ws", headers=headers) as socket:
            await socket.send_json({"type": "ping"})
            assert await frame(socket) == {"type": "pong"}
    for origin in ("https://evil.example", "null", "https://hub.example.test.evil.example"):
        response = await client.get("/ws", headers={"Origin": origin})
        assert response.status == 403, origin
        assert (await response.json())["error"]["code"] == "bad_origin"
        with pytest.raises(WSServerHandshakeError) as refused:
            await client.ws_connect("/ws", headers={"Origin": origin})
        assert refused.value.status == 403

    # A bearer token is never sent by a browser on its own: no Origin check.
    client.session.cookie_jar.clear()
    _, auth = await user_token("scripted@example.com")
    async with client.ws_connect("/ws", headers={**auth, "Origin": "https://evil.example"}):
        pass


async def test_a_subscriber_that_falls_behind_is_closed_with_1013(
    client: Client, user_token: UserToken
) -> None:
    _, auth = await user_token("agent@example.com")
    bus = client.server.app[appkeys.BUS]
    async with client.ws_connect("/ws", headers=auth) as socket:
        # Published without yielding to the loop: the connection cannot keep up.
        for _ in range(bus.queue_size + 1):  # type: ignore[attr-defined]
            await bus.publish(HubEvent("counts.changed", {}))
        assert await closed_with(socket) == 1013


async def test_the_viewer_is_reloaded_when_the_user_changes(
    client: Client, factory: Factory, user_token: UserToken, db: async_sessionmaker[AsyncSession]
) -> None:
    _, owner_auth = await user_token("owner@example.com", role="owner")
    agent, auth = await user_token("agent@example.com")
    channel = await factory.channel()
    now_hidden = await factory.conversation(channel)
    theirs = await factory.conversation(channel)
    bus = client.server.app[appkeys.BUS]

    async with client.ws_connect("/ws", headers=auth) as socket:
        async with db() as session:
            await session.execute(
                update(User).where(User.id == agent.id).values(visibility="assigned")
            )
            await session.commit()
        await bus.publish(
            HubEvent("user.updated", {"user_id": agent.id}, user_ids=frozenset({agent.id}))
        )
        assert await frame(socket) == {"type": "user.updated", "data": {"user_id": agent.id}}
        url = f"/api/v1/conversations/{now_hidden.id}/close"
        assert (await client.post(url, json={}, headers=owner_auth)).status == 200
        url = f"/api/v1/conversations/{theirs.id}/assign"
        assert (
            await client.post(url, json={"user_id": agent.id}, headers=owner_auth)
        ).status == 200
        next_one = await frame(socket)
        assert next_one["data"]["conversation_id"] == theirs.id


async def test_a_team_restricted_agent_added_to_a_team_starts_hearing_of_its_conversations(
    client: Client, factory: Factory, user_token: UserToken
) -> None:
    _, owner_auth = await user_token("owner@example.com", role="owner")
    agent, auth = await user_token("agent@example.com", visibility="team")
    team = await factory.team()
    conversation = await factory.conversation(await factory.channel(), team_id=team.id)
    bus = client.server.app[appkeys.BUS]

    async with client.ws_connect("/ws", headers=auth) as socket:
        await factory.add(TeamMembership(team_id=team.id, user_id=agent.id))
        await bus.publish(HubEvent("team.updated", {"team_id": team.id, "change": "members"}))
        assert (await frame(socket))["type"] == "team.updated"
        url = f"/api/v1/conversations/{conversation.id}/close"
        assert (await client.post(url, json={}, headers=owner_auth)).status == 200
        heard = await frame(socket)
        assert heard["data"]["conversation_id"] == conversation.id


async def end_access(db: async_sessionmaker[AsyncSession], user_id: int, change: str) -> None:
    """End a user's access behind the hub's back: ``deactivated`` or ``token_revoked``."""
    async with db() as session:
        if change == "deactivated":
            await session.execute(update(User).where(User.id == user_id).values(is_active=False))
        else:
            await session.execute(
                update(ApiToken).where(ApiToken.user_id == user_id).values(revoked_at=utcnow())
            )
        await session.commit()


@pytest.mark.parametrize("change", ["deactivated", "token_revoked"])
async def test_a_user_whose_access_ended_is_disconnected_with_4401(
    client: Client, user_token: UserToken, db: async_sessionmaker[AsyncSession], change: str
) -> None:
    agent, auth = await user_token("agent@example.com")
    bus = client.server.app[appkeys.BUS]
    async with client.ws_connect("/ws", headers=auth) as socket:
        await end_access(db, agent.id, change)
        await bus.publish(
            HubEvent("user.updated", {"user_id": agent.id}, user_ids=frozenset({agent.id}))
        )
        assert await closed_with(socket) == ws.CLOSE_ACCESS_ENDED


async def test_a_logged_out_session_is_disconnected_with_4401(
    client: Client, make_user: Callable[..., Awaitable[User]]
) -> None:
    agent = await make_user("agent@example.com")
    csrf = await log_in(client, "agent@example.com")
    bus = client.server.app[appkeys.BUS]
    async with client.ws_connect("/ws") as socket:
        response = await client.post("/api/v1/auth/logout", headers={"X-CSRF-Token": csrf})
        assert response.status in (200, 204)
        await bus.publish(
            HubEvent("user.updated", {"user_id": agent.id}, user_ids=frozenset({agent.id}))
        )
        assert await closed_with(socket) == ws.CLOSE_ACCESS_ENDED


async def closed_before_the_next_event(
    socket: Socket, client: Client, owner_auth: dict[str, str], conversation_id: int
) -> str:
    """Cause an event the socket's user could see; the socket must close before it
    arrives. The close reason."""
    url = f"/api/v1/conversations/{conversation_id}/close"
    assert (await client.post(url, json={}, headers=owner_auth)).status == 200
    message = await next_message(socket)
    assert message.type is WSMsgType.CLOSE, message
    assert message.data == ws.CLOSE_ACCESS_ENDED
    return str(message.extra)


async def test_a_token_revoked_over_the_api_closes_its_websocket_at_once(
    client: Client, factory: Factory, user_token: UserToken
) -> None:
    _, owner_auth = await user_token("owner@example.com", role="owner")
    _, auth = await user_token("agent@example.com")
    conversation = await factory.conversation(await factory.channel())
    (token,) = (await (await client.get("/api/v1/tokens", headers=auth)).json())["items"]

    async with client.ws_connect("/ws", headers=auth) as socket:
        response = await client.delete(f"/api/v1/tokens/{token['id']}", headers=auth)
        assert response.status == 204
        reason = await closed_before_the_next_event(socket, client, owner_auth, conversation.id)
    assert reason == "API token revoked"


async def test_logging_out_closes_the_sessions_websocket_at_once(
    client: Client,
    factory: Factory,
    user_token: UserToken,
    make_user: Callable[..., Awaitable[User]],
) -> None:
    _, owner_auth = await user_token("owner@example.com", role="owner")
    await make_user("agent@example.com")
    conversation = await factory.conversation(await factory.channel())
    csrf = await log_in(client, "agent@example.com")

    async with client.ws_connect("/ws") as socket:
        response = await client.post("/api/v1/auth/logout", headers={"X-CSRF-Token": csrf})
        assert response.status == 204
        reason = await closed_before_the_next_event(socket, client, owner_auth, conversation.id)
    assert reason == "session ended; log in again"


async def test_revoking_a_token_or_logging_out_on_the_pages_closes_the_websocket_at_once(
    client: Client, factory: Factory, user_token: UserToken
) -> None:
    _, owner_auth = await user_token("owner@example.com", role="owner")
    _, auth = await user_token("agent@example.com")
    channel = await factory.channel()
    first, second = await factory.conversation(channel), await factory.conversation(channel)
    (token,) = (await (await client.get("/api/v1/tokens", headers=auth)).json())["items"]
    csrf = await log_in_page(client, "agent@example.com")

    async with client.ws_connect("/ws", headers=auth) as socket:
        url = f"/me/tokens/{token['id']}/revoke"
        done = await client.post(url, data={"csrf_token": csrf}, allow_redirects=False)
        assert done.status == 303
        reason = await closed_before_the_next_event(socket, client, owner_auth, first.id)
    assert reason == "API token revoked"

    async with client.ws_connect("/ws") as socket:  # the page session's cookie
        done = await client.post("/logout", data={"csrf_token": csrf}, allow_redirects=False)
        assert done.status == 303
        reason = await closed_before_the_next_event(socket, client, owner_auth, second.id)
    assert reason == "session ended; log in again"


@pytest.mark.parametrize("who", ["admin", "themselves"])
async def test_a_password_change_closes_the_websockets_of_the_sessions_it_ends(
    client: Client, factory: Factory, user_token: UserToken, who: str
) -> None:
    _, owner_auth = await user_token("owner@example.com", role="owner")
    agent, agent_auth = await user_token("agent@example.com")
    conversation = await factory.conversation(await factory.channel())
    await log_in(client, "agent@example.com")

    async with client.ws_connect("/ws") as socket:
        if who == "admin":
            url, body = f"/api/v1/users/{agent.id}/password", {}
            response = await client.post(url, json=body, headers=owner_auth)
        else:  # with a token: every browser session of theirs ends
            body = {"current_password": PASSWORD, "new_password": "another fine passphrase"}
            response = await client.post("/api/v1/me/password", json=body, headers=agent_auth)
        assert response.status in (200, 204), await response.text()
        reason = await closed_before_the_next_event(socket, client, owner_auth, conversation.id)
    assert reason == "session ended; log in again"


async def test_deactivating_a_user_over_the_api_closes_their_websocket_at_once(
    client: Client, factory: Factory, user_token: UserToken
) -> None:
    _, owner_auth = await user_token("owner@example.com", role="owner")
    agent, auth = await user_token("agent@example.com")
    conversation = await factory.conversation(await factory.channel())

    async with client.ws_connect("/ws", headers=auth) as socket:
        url = f"/api/v1/users/{agent.id}"
        response = await client.patch(url, json={"is_active": False}, headers=owner_auth)
        assert response.status == 200, await response.text()
        reason = await closed_before_the_next_event(socket, client, owner_auth, conversation.id)
    assert reason == "account deactivated"


async def test_a_visibility_change_over_the_api_applies_to_the_very_next_event(
    client: Client, factory: Factory, user_token: UserToken
) -> None:
    _, owner_auth = await user_token("owner@example.com", role="owner")
    agent, auth = await user_token("agent@example.com")
    channel = await factory.channel()
    now_hidden = await factory.conversation(channel)
    theirs = await factory.conversation(channel)

    async with client.ws_connect("/ws", headers=auth) as socket:
        url = f"/api/v1/users/{agent.id}"
        response = await client.patch(url, json={"visibility": "assigned"}, headers=owner_auth)
        assert response.status == 200, await response.text()
        assert (await frame(socket))["type"] == "user.updated"
        url = f"/api/v1/conversations/{now_hidden.id}/close"
        assert (await client.post(url, json={}, headers=owner_auth)).status == 200
        url = f"/api/v1/conversations/{theirs.id}/assign"
        body = {"user_id": agent.id}
        assert (await client.post(url, json=body, headers=owner_auth)).status == 200
        assert (await frame(socket))["data"]["conversation_id"] == theirs.id


async def test_shutdown_closes_open_websockets_with_1001_without_waiting(
    aiohttp_client: Callable[..., Awaitable[Client]], settings: Settings, user_token: UserToken
) -> None:
    app = create_app(settings)
    ws.track_websockets(app)
    client = await aiohttp_client(app)
    _, auth = await user_token("agent@example.com")
    socket = await client.ws_connect("/ws", headers=auth)
    await socket.send_json({"type": "ping"})
    assert await frame(socket) == {"type": "pong"}

    # Without closing the websocket, the server would wait its 60 s shutdown timeout.
    stopping = asyncio.create_task(client.server.close())
    assert await closed_with(socket) == 1001
    await asyncio.wait_for(stopping, WAIT)
