"""What a webhook body may be, checked before the plugin sees it (issue 12, items 1 and
8): JSON nested no deeper than ``HUB_WEBHOOK_MAX_DEPTH`` and UTF-8 text, else a precise
400 logged as rejected; and an over-deep entry already in the log still lists."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from hub_custom_channel.signing import signed_headers
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.inbox.nesting import CLIPPED, json_depth, rebuild
from hub.inbox.storable import scrub
from hub.store.models import InboundLogEntry, Message, User
from tests.ui_helpers import log_in_page

Client = TestClient[Any, Any]
Sessions = async_sessionmaker[AsyncSession]
UserToken = Callable[..., Awaitable[tuple[User, dict[str, str]]]]


@pytest.fixture
async def owner(user_token: UserToken) -> dict[str, str]:
    _, headers = await user_token("owner@example.com", role="owner")
    return headers


@pytest.fixture
async def channel(client: Client, owner: dict[str, str]) -> dict[str, Any]:
    response = await client.post(
        "/api/v1/channels",
        json={
            "type": "custom_channel",
            "name": "Acme app chat",
            "config": {"outbound_url": "https://chat.acme.example/hub/replies"},
        },
        headers=owner,
    )
    assert response.status == 201, await response.text()
    created: dict[str, Any] = await response.json()
    return created


def nested(depth: int) -> Any:
    """Arrays nested ``depth`` deep, built without recursion."""
    value: Any = "leaf"
    for _ in range(depth):
        value = [value]
    return value


def event(external_id: str, **extra: Any) -> dict[str, Any]:
    return {
        "type": "message",
        "id": external_id,
        "timestamp": "2026-05-01T12:00:00Z",
        "sender": {"id": "u-42", "name": "Ada"},
        "text": "hello",
        **extra,
    }


def deep_body(depth: int) -> bytes:
    """A message event whose ``extra`` nests so that the whole body is ``depth`` deep."""
    # json.dumps recurses; write the nesting by hand.
    head = json.dumps(event("m-deep"))[:-1]
    return f'{head}, "extra": {"[" * (depth - 1)}1{"]" * (depth - 1)}}}'.encode()


async def post_signed(
    client: Client, channel: dict[str, Any], body: bytes, content_type: str = "application/json"
) -> tuple[int, Any]:
    key = channel["config"]["signing_secret"]
    response = await client.post(
        f"/webhooks/{channel['id']}",
        data=body,
        headers={"Content-Type": content_type, **signed_headers(key, body)},
    )
    return response.status, await response.json()


async def logged(db: Sessions) -> list[InboundLogEntry]:
    async with db() as session:
        return list(await session.scalars(select(InboundLogEntry).order_by(InboundLogEntry.id)))


# --- nesting -------------------------------------------------------------------------


@pytest.mark.parametrize("depth", [65, 255, 256, 500, 950, 20_000])
async def test_a_body_nested_past_the_limit_is_a_400_naming_it_and_logged(
    client: Client, channel: dict[str, Any], owner: dict[str, str], db: Sessions, depth: int
) -> None:
    body = deep_body(depth)
    assert json_depth(body) == depth

    status, answer = await post_signed(client, channel, body)

    assert status == 400, answer
    assert answer["error"]["code"] == "bad_request"
    assert "the limit is 64" in answer["error"]["message"]
    [entry] = await logged(db)
    assert (entry.result, entry.status_code, entry.events) == ("rejected", 400, None)
    listing = await client.get("/api/v1/inbound-log", headers=owner)
    assert listing.status == 200
    assert (await client.get(f"/api/v1/inbound-log/{entry.id}", headers=owner)).status == 200


async def test_a_body_at_the_limit_is_stored(
    client: Client, channel: dict[str, Any], owner: dict[str, str], db: Sessions
) -> None:
    status, answer = await post_signed(client, channel, deep_body(64))

    assert status == 200, answer
    async with db() as session:
        assert await session.scalar(select(Message.text)) == "hello"
    listing = await client.get("/api/v1/inbound-log", headers=owner)
    assert listing.status == 200
    [item] = (await listing.json())["items"]
    assert (item["result"], item["events_clipped"]) == ("stored", False)


async def test_an_over_deep_entry_already_stored_still_lists_and_shows(
    client: Client,
    channel: dict[str, Any],
    owner: dict[str, str],
    db: Sessions,
) -> None:
    body = b"[" * 5000 + b"]" * 5000
    async with db() as session:
        entry = InboundLogEntry(
            channel_id=channel["id"],
            method="POST",
            path=f"/webhooks/{channel['id']}",
            headers={"Content-Type": "application/json"},
            query={},
            body=body,
            result="stored",
            status_code=200,
            event_count=1,
            events=[{"kind": "message", "raw": nested(300)}],
        )
        session.add(entry)
        await session.commit()
        entry_id = entry.id

    listing = await client.get("/api/v1/inbound-log", headers=owner)
    one = await client.get(f"/api/v1/inbound-log/{entry_id}", headers=owner)

    assert listing.status == 200, await listing.text()
    assert one.status == 200, await one.text()
    shown = await one.json()
    assert shown["events_clipped"] is True
    assert json.dumps(shown["events"]).count("[") == 128  # clipped at the shown depth
    assert CLIPPED in json.dumps(shown["events"])
    await log_in_page(client, "owner@example.com")
    page = await client.get(f"/admin/inbound-log/{entry_id}")
    assert page.status == 200, await page.text()
    assert CLIPPED in await page.text()
    assert (await client.get("/admin/inbound-log")).status == 200


def test_json_depth_ignores_brackets_inside_strings() -> None:
    assert json_depth(b'{"a": "[[[[{{{{", "b": [1, {"c": "\\"]]]"}]}') == 3
    assert json_depth(b'"[[["') == 0
    assert json_depth(b"12") == 0


def test_scrub_and_rebuild_take_any_depth_without_recursion() -> None:
    deep = nested(100_000)

    scrubbed = scrub({"k\x00": deep, "t": ("a\x00b",)})
    clipped, cut = rebuild({"a": [1, {"b": [2]}]}, max_depth=3)

    assert set(scrubbed) == {"k", "t"} and scrubbed["t"] == ["ab"]
    assert (clipped, cut) == ({"a": [1, {"b": CLIPPED}]}, True)
    assert rebuild({"a": [1]}, max_depth=3) == ({"a": [1]}, False)


# --- encoding ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("encoding", "content_type"),
    [
        ("utf-16", "application/json"),  # with its byte-order mark
        ("utf-16-le", "application/json"),
        ("utf-16-be", "application/json"),
        ("utf-32", "application/json"),
        ("utf-8", "application/json; charset=utf-16"),
        ("latin-1", "application/json"),
    ],
)
async def test_a_body_that_is_not_utf8_is_a_400_that_says_so(
    client: Client, channel: dict[str, Any], db: Sessions, encoding: str, content_type: str
) -> None:
    body = json.dumps(event("m-1", text="café"), ensure_ascii=False).encode(encoding)

    status, answer = await post_signed(client, channel, body, content_type)

    assert status == 400, answer
    assert "must be UTF-8" in answer["error"]["message"]
    [entry] = await logged(db)
    assert entry.result == "rejected"
    async with db() as session:
        assert await session.scalar(select(Message.id)) is None


async def test_utf8_with_or_without_a_byte_order_mark_is_stored(
    client: Client, channel: dict[str, Any], db: Sessions
) -> None:
    plain = json.dumps(event("m-1", text="café"), ensure_ascii=False).encode()
    marked = b"\xef\xbb\xbf" + json.dumps(event("m-2", text="thé"), ensure_ascii=False).encode()

    first = await post_signed(client, channel, plain, "application/json; charset=UTF-8")
    second = await post_signed(client, channel, marked)

    assert (first[0], second[0]) == (200, 200), (first, second)
    async with db() as session:
        assert set(await session.scalars(select(Message.text))) == {"café", "thé"}
