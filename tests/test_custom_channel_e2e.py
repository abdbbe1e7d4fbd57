"""The custom channel through the real app: created over the API, fed signed webhooks,
answered by an agent, delivered signed to a (mocked) service, and marked delivered by
the service's status event."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import pytest
import respx
from aiohttp.test_utils import TestClient
from hub_custom_channel.signing import signed_headers, verify

from hub import appkeys
from hub.channels.outbound import deliver_due
from hub.store.models import User
from hub.testing import eventually

Client = TestClient[Any, Any]
UserToken = Callable[..., Awaitable[tuple[User, dict[str, str]]]]
SERVICE = "https://chat.acme.example/hub/replies"


@pytest.fixture
def service() -> Iterator[respx.MockRouter]:
    """The bridged service's outbound URL, mocked at the HTTP layer."""
    with respx.mock(assert_all_called=False) as router:
        yield router


@pytest.fixture
async def owner(user_token: UserToken) -> dict[str, str]:
    """The Authorization header of an owner."""
    _, headers = await user_token("owner@example.com", role="owner")
    return headers


async def create_channel(client: Client, auth: dict[str, str], **config: Any) -> dict[str, Any]:
    """Create a custom channel over the API; return its JSON (secret revealed)."""
    response = await client.post(
        "/api/v1/channels",
        json={
            "type": "custom_channel",
            "name": "Acme app chat",
            "config": {"outbound_url": SERVICE, **config},
        },
        headers=auth,
    )
    assert response.status == 201, await response.text()
    created: dict[str, Any] = await response.json()
    return created


async def post_signed(
    client: Client, channel: dict[str, Any], event: dict[str, Any], *, secret: str | None = None
) -> tuple[int, Any]:
    """POST ``event`` to the channel's webhook, signed as a service does."""
    body = json.dumps(event).encode()
    key = secret or channel["config"]["signing_secret"]
    response = await client.post(
        f"/webhooks/{channel['id']}",
        data=body,
        headers={"Content-Type": "application/json", **signed_headers(key, body)},
    )
    return response.status, await response.json()


def message_event(external_id: str, text: str, **extra: Any) -> dict[str, Any]:
    """A message event from Ada."""
    return {
        "type": "message",
        "id": external_id,
        "timestamp": "2026-05-01T12:00:00Z",
        "sender": {"id": "u-42", "name": "Ada Lovelace", "email": "ada@example.com"},
        "text": text,
        **extra,
    }


async def get_json(client: Client, path: str, auth: dict[str, str]) -> Any:
    """GET an API path; return its JSON."""
    response = await client.get(path, headers=auth)
    assert response.status == 200, await response.text()
    return await response.json()


async def delivered(client: Client, message_id: int, auth: dict[str, str]) -> dict[str, Any]:
    """Run the outbox, then the message once it is no longer pending.

    The app's own worker is woken by the send too, so either may deliver the row; the
    bounded wait covers a send the worker has in flight."""
    await deliver_due(client.app)

    async def sent() -> dict[str, Any]:
        message: dict[str, Any] = await get_json(client, f"/api/v1/messages/{message_id}", auth)
        assert message["status"] != "pending", f"message {message_id} is still pending"
        return message

    message = await eventually(sent)
    await client.app[appkeys.OBSERVERS].drain()
    return message


async def test_a_service_and_an_agent_converse_through_the_custom_channel(
    client: Client, owner: dict[str, str], service: respx.MockRouter
) -> None:
    channel = await create_channel(client, owner)
    assert channel["webhook_url"].endswith(f"/webhooks/{channel['id']}")
    secret = channel["config"]["signing_secret"]
    assert len(secret) >= 32

    # Inbound: a signed message lands in the inbox; its retry is a duplicate.
    status, answer = await post_signed(client, channel, message_event("m-1", "Where is my order?"))
    assert (status, answer["result"], answer["events"]) == (200, "stored", 1)
    status, answer = await post_signed(client, channel, message_event("m-1", "Where is my order?"))
    assert (status, answer["result"]) == (200, "duplicate")

    conversations = (await get_json(client, "/api/v1/conversations?view=all", owner))["items"]
    assert len(conversations) == 1
    conversation = conversations[0]
    assert conversation["channel_id"] == channel["id"]
    assert conversation["contact"]["name"] == "Ada Lovelace"
    messages = (
        await get_json(client, f"/api/v1/conversations/{conversation['id']}/messages", owner)
    )["items"]
    assert [(m["direction"], m["text"], m["external_id"]) for m in messages] == [
        ("in", "Where is my order?", "m-1")
    ]

    # Outbound: the agent's reply is POSTed signed to the service, which answers its id.
    route = service.post(SERVICE).respond(200, json={"id": "svc-5501"})
    response = await client.post(
        f"/api/v1/conversations/{conversation['id']}/messages",
        json={"text": "It ships today, Ada."},
        headers=owner,
    )
    assert response.status == 201, await response.text()
    reply = await response.json()
    sent = await delivered(client, reply["id"], owner)
    assert (sent["status"], sent["external_id"]) == ("sent", "svc-5501")

    assert route.call_count == 1
    request = route.calls.last.request
    verify(secret, dict(request.headers), request.content)
    assert request.headers["Idempotency-Key"]
    assert json.loads(request.content) == {
        "type": "message",
        "id": str(reply["id"]),
        "conversation_id": conversation["id"],
        "recipient": {"id": "u-42"},
        "thread_id": None,
        "text": "It ships today, Ada.",
        "attachments": [],
        "reply_to": None,
    }

    # The service reports the reply delivered, then read.
    status, _ = await post_signed(
        client, channel, {"type": "status", "id": "svc-5501", "status": "delivered"}
    )
    assert status == 200
    message = await get_json(client, f"/api/v1/messages/{reply['id']}", owner)
    assert message["status"] == "delivered"
    assert message["delivered_at"] is not None


async def test_a_refusing_service_fails_the_reply_with_its_reason(
    client: Client, owner: dict[str, str], service: respx.MockRouter
) -> None:
    channel = await create_channel(client, owner)
    await post_signed(client, channel, message_event("m-1", "Hello"))
    conversation = (await get_json(client, "/api/v1/conversations?view=all", owner))["items"][0]
    service.post(SERVICE).respond(404, json={"error": "the user has left the chat"})
    response = await client.post(
        f"/api/v1/conversations/{conversation['id']}/messages",
        json={"text": "Are you there?"},
        headers=owner,
    )
    reply = await response.json()
    failed = await delivered(client, reply["id"], owner)
    assert failed["status"] == "failed"
    assert "the user has left the chat" in failed["failure_reason"]


async def test_threads_become_conversations_with_per_thread_id(
    client: Client, owner: dict[str, str]
) -> None:
    channel = await create_channel(client, owner, threading="per_thread_id")
    for external_id, thread in (("m-1", "t-a"), ("m-2", "t-b"), ("m-3", "t-a")):
        status, _ = await post_signed(
            client, channel, message_event(external_id, f"in {thread}", thread_id=thread)
        )
        assert status == 200
    conversations = (await get_json(client, "/api/v1/conversations?view=all", owner))["items"]
    assert len(conversations) == 2


@pytest.mark.parametrize(
    ("mangle", "status"),
    [
        pytest.param("wrong_secret", 403, id="wrong secret"),
        pytest.param("unsigned", 401, id="unsigned"),
        pytest.param("naive_time", 400, id="naive timestamp"),
    ],
)
async def test_refused_webhooks_never_reach_the_inbox(
    client: Client, owner: dict[str, str], mangle: str, status: int
) -> None:
    channel = await create_channel(client, owner)
    event = message_event("m-1", "Hello")
    if mangle == "naive_time":
        event["timestamp"] = "2026-05-01T12:00:00"
    if mangle == "unsigned":
        response = await client.post(f"/webhooks/{channel['id']}", json=event)
        answered, body = response.status, await response.json()
    else:
        secret = "not-the-channel-secret" if mangle == "wrong_secret" else None
        answered, body = await post_signed(client, channel, event, secret=secret)
    assert answered == status
    assert body["error"]["message"]
    conversations = (await get_json(client, "/api/v1/conversations?view=all", owner))["items"]
    assert conversations == []
