"""The channels pages: the list with its figures, a channel's page, disable / enable /
replay held, delete: each change only by a POST carrying the form's CSRF token."""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from html import unescape
from typing import Any

from aiohttp.test_utils import TestClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.store.models import Channel, Conversation, InboundLogEntry, Message, OutboxItem, User
from hub.testing.webhooks import signed_headers
from tests.factories import Factory
from tests.ui_helpers import HTML, hidden, log_in_page

Client = TestClient[Any, Any]
MakeUser = Callable[..., Awaitable[User]]
EVIL = "<script>alert(1)</script>"


async def owner(client: Client, make_user: MakeUser) -> str:
    """Log in as a new owner; return the CSRF token."""
    await make_user("owner@example.com", name="Olive Owner", role="owner")
    return await log_in_page(client, "owner@example.com")


async def page_text(client: Client, path: str) -> tuple[int, str]:
    """GET a page as a browser does."""
    response = await client.get(path, headers=HTML)
    return response.status, await response.text()


def table_rows(html: str) -> list[str]:
    """The body rows of the page's table."""
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return body.split("<tr>")[1:]


async def create_custom_channel(client: Client, csrf_owner_headers: dict[str, str]) -> Any:
    """A custom channel created through the API (its signing secret revealed, this once)."""
    response = await client.post(
        "/api/v1/channels",
        json={
            "type": "custom_channel",
            "name": "Acme <b>chat</b>",
            "config": {"outbound_url": "https://chat.acme.example/replies"},
        },
        headers=csrf_owner_headers,
    )
    assert response.status == 201, await response.text()
    return await response.json()


async def post_webhook(client: Client, channel: Any, external_id: str) -> tuple[int, Any]:
    """A signed message event to the channel's webhook."""
    event = {
        "type": "message",
        "id": external_id,
        "timestamp": "2026-05-01T12:00:00Z",
        "sender": {"id": "u-42", "name": "Ada Lovelace"},
        "text": "Hello while you were away",
    }
    body = json.dumps(event).encode()
    secret = channel["config"]["signing_secret"]
    response = await client.post(
        f"/webhooks/{channel['id']}", data=body, headers=signed_headers(secret, body)
    )
    return response.status, await response.json()


def form_token_of(html: str, action: str) -> str:
    """The CSRF token inside the form that posts to ``action``."""
    form = html.split(f'action="{action}"', 1)[1].split("</form>", 1)[0]
    return hidden(form, "csrf_token")


# --- the list ------------------------------------------------------------------------


async def test_the_empty_list_explains_channels_and_offers_to_connect_one(
    client: Client, make_user: MakeUser
) -> None:
    await owner(client, make_user)
    status, html = await page_text(client, "/admin/channels")
    assert status == 200
    assert "No channels yet" in html and "A channel is one messaging account" in html
    assert html.count('href="/admin/channels/new"') == 2  # the head's button and the empty state's


async def test_the_list_shows_last_inbound_and_failed_deliveries_per_channel(
    client: Client, make_user: MakeUser, factory: Factory
) -> None:
    await owner(client, make_user)
    busy = await factory.channel(
        name="Busy", last_inbound_at=datetime(2026, 3, 4, 5, 6, tzinfo=UTC)
    )
    quiet = await factory.channel(name=EVIL, enabled=False)
    broken = await factory.channel(name="Broken", status="error", status_reason="token revoked")
    conversation = await factory.conversation(busy)
    other = await factory.conversation(quiet)
    for status in ("dead", "dead", "failed", "pending", "done"):
        message = await factory.message(conversation, direction="out", status="sent")
        await factory.add(OutboxItem(message_id=message.id, channel_id=busy.id, status=status))
    message = await factory.message(other, direction="out", status="sent")
    await factory.add(OutboxItem(message_id=message.id, channel_id=quiet.id, status="pending"))

    status, html = await page_text(client, "/admin/channels")
    assert status == 200
    # By name, case-insensitively: "<" sorts before letters.
    rows = dict(zip(["evil", "Broken", "Busy"], table_rows(html), strict=True))
    assert "2026-03-04 05:06 UTC" in rows["Busy"]
    assert f'href="/admin/dead-letters?channel_id={busy.id}">3</a>' in rows["Busy"]
    assert "badge-enabled" in rows["Busy"]
    assert "Never" in rows["evil"] and "badge-disabled" in rows["evil"]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in rows["evil"] and EVIL not in html
    assert "badge-error" in rows["Broken"] and "token revoked" in rows["Broken"]
    assert f'href="/admin/channels/{broken.id}/routing"' in rows["Broken"]
    assert 'src="/channel-types/custom_channel/logo.svg"' in rows["Busy"]


async def test_the_list_pages_sorts_and_filters(
    client: Client, make_user: MakeUser, factory: Factory
) -> None:
    await owner(client, make_user)
    for name, enabled in (("bravo", True), ("Alpha", True), ("charlie", False)):
        await factory.channel(name=name, enabled=enabled)

    def names(html: str) -> list[str]:
        return re.findall(r'<a href="/admin/channels/\d+">([^<]+)</a>', html)

    _, first = await page_text(client, "/admin/channels?limit=2")
    assert names(first) == ["Alpha", "bravo"]
    next_url = unescape(re.search(r'href="([^"]+)" rel="next"', first).group(1))  # type: ignore[union-attr]
    assert "limit=2" in next_url and "cursor=" in next_url
    _, second = await page_text(client, next_url)
    assert names(second) == ["charlie"]
    assert "First page" in second and 'rel="next"' not in second

    _, created = await page_text(client, "/admin/channels?sort=created")
    assert names(created) == ["bravo", "Alpha", "charlie"]
    assert 'aria-sort="ascending"' in created

    _, disabled = await page_text(client, "/admin/channels?enabled=false")
    assert names(disabled) == ["charlie"]
    assert '<option value="false" selected>' in disabled
    _, none = await page_text(client, "/admin/channels?type=telegram")
    assert names(none) == [] and "No channels match these filters" in none

    status, _ = await page_text(client, "/admin/channels?cursor=garbage")
    assert status == 422


async def test_an_agent_gets_403_on_the_channel_pages_and_actions(
    client: Client, make_user: MakeUser, factory: Factory
) -> None:
    channel = await factory.channel(name="Support")
    await make_user("agent@example.com", role="agent")
    csrf = await log_in_page(client, "agent@example.com")
    for path in ("/admin/channels", f"/admin/channels/{channel.id}"):
        assert (await client.get(path, headers=HTML)).status == 403
    for action in ("disable", "enable", "replay-held", "delete"):
        response = await client.post(
            f"/admin/channels/{channel.id}/{action}", data={"csrf_token": csrf}, headers=HTML
        )
        assert response.status == 403


# --- a channel's page and its actions --------------------------------------------------


async def test_the_channel_page_shows_its_facts_and_actions(
    client: Client, make_user: MakeUser, factory: Factory
) -> None:
    await owner(client, make_user)
    channel = await factory.channel(name=EVIL)
    conversation = await factory.conversation(channel)
    message = await factory.message(conversation, direction="out", status="failed")
    await factory.add(OutboxItem(message_id=message.id, channel_id=channel.id, status="dead"))
    status, html = await page_text(client, f"/admin/channels/{channel.id}")
    assert status == 200 and EVIL not in html and html.count("<h1") == 1
    assert f"https://hub.example.test/webhooks/{channel.id}" in html
    assert 'data-copy="webhook-url"' in html
    assert f'href="/admin/dead-letters?channel_id={channel.id}"' in html
    for link in ("edit", "routing", "disable", "delete"):
        assert f'href="/admin/channels/{channel.id}/{link}"' in html
    assert (await page_text(client, "/admin/channels/999999"))[0] == 404
    assert (await page_text(client, "/admin/channels/abc"))[0] == 404


async def test_disable_asks_first_then_holds_webhooks_and_enable_replays_them(
    client: Client,
    make_user: MakeUser,
    db: async_sessionmaker[AsyncSession],
) -> None:
    csrf = await owner(client, make_user)
    channel = await create_custom_channel(client, {"X-CSRF-Token": csrf})
    page = f"/admin/channels/{channel['id']}"

    status, confirm = await page_text(client, f"{page}/disable")
    assert status == 200
    assert "Disable Acme &lt;b&gt;chat&lt;/b&gt;?" in confirm
    assert "held in the inbound log" in confirm and "replay" in confirm
    # Only a POST with the form's token disables; a GET never does.
    assert (await client.post(f"{page}/disable", data={}, headers=HTML)).status == 403
    assert (await client.get(f"{page}/enable", headers=HTML)).status == 405
    done = await client.post(f"{page}/disable", data={"csrf_token": csrf}, allow_redirects=False)
    assert done.status == 303 and done.headers["Location"] == page
    _, shown = await page_text(client, page)
    assert "is disabled. Messages arriving now are held" in shown
    assert f'action="{page}/enable"' in shown

    status, answer = await post_webhook(client, channel, "m-1")
    assert (status, answer["result"]) == (200, "held")
    async with db() as session:
        assert await session.scalar(select(func.count()).select_from(Conversation)) == 0

    enabled = await client.post(f"{page}/enable", data={"csrf_token": csrf}, allow_redirects=False)
    assert enabled.status == 303
    _, shown = await page_text(client, page)
    # One request held: the sentence says so in the singular ("1 request … is held").
    assert "is enabled." in shown and "1 request arrived while it was disabled and is held" in shown
    assert "Replay held (" in shown

    assert (await client.post(f"{page}/replay-held", data={}, headers=HTML)).status == 403
    replayed = await client.post(
        f"{page}/replay-held", data={"csrf_token": csrf}, allow_redirects=False
    )
    assert replayed.status == 303
    _, shown = await page_text(client, page)
    assert "new event stored" in shown
    assert "Replay held (" not in shown
    async with db() as session:
        assert await session.scalar(select(func.count()).select_from(Message)) == 1
        held = select(func.count()).where(InboundLogEntry.result == "held")
        assert await session.scalar(held.select_from(InboundLogEntry)) == 0


async def test_replaying_a_disabled_channel_says_to_enable_it_first(
    client: Client, make_user: MakeUser, factory: Factory
) -> None:
    csrf = await owner(client, make_user)
    channel = await factory.channel(name="Paused", enabled=False)
    page = f"/admin/channels/{channel.id}"
    response = await client.post(f"{page}/replay-held", data={"csrf_token": csrf})
    assert response.status == 200
    assert "Nothing was replayed: enable the channel before replaying" in await response.text()


async def test_delete_asks_naming_the_channel_then_its_webhook_is_refused(
    client: Client, make_user: MakeUser, db: async_sessionmaker[AsyncSession]
) -> None:
    csrf = await owner(client, make_user)
    channel = await create_custom_channel(client, {"X-CSRF-Token": csrf})
    page = f"/admin/channels/{channel['id']}"
    assert (await post_webhook(client, channel, "m-1"))[0] == 200

    status, confirm = await page_text(client, f"{page}/delete")
    assert status == 200
    assert "Delete Acme &lt;b&gt;chat&lt;/b&gt;?" in confirm and "<b>chat" not in confirm
    assert "stay in the inbox" in confirm and "refused" in confirm
    assert (await client.post(f"{page}/delete", data={"csrf_token": "forged"})).status == 403

    done = await client.post(f"{page}/delete", data={"csrf_token": csrf}, allow_redirects=False)
    assert done.status == 303 and done.headers["Location"] == "/admin/channels"
    _, listed = await page_text(client, "/admin/channels")
    assert "Acme &lt;b&gt;chat&lt;/b&gt; is deleted" in listed
    assert f'href="{page}"' not in listed
    assert (await post_webhook(client, channel, "m-2"))[0] == 404
    assert (await page_text(client, page))[0] == 404
    async with db() as session:
        row = await session.get(Channel, channel["id"])
        assert row is not None and row.deleted_at is not None
        assert await session.scalar(select(func.count()).select_from(Conversation)) == 1


async def test_the_forms_of_the_channel_pages_carry_the_session_token(
    client: Client, make_user: MakeUser, factory: Factory
) -> None:
    csrf = await owner(client, make_user)
    channel = await factory.channel(name="Paused", enabled=False)
    page = f"/admin/channels/{channel.id}"
    assert form_token_of((await page_text(client, page))[1], f"{page}/enable") == csrf
    routing = (await page_text(client, f"{page}/routing"))[1]
    assert form_token_of(routing, f"{page}/routing") == csrf


async def test_the_confirmation_forms_carry_the_session_token(
    client: Client, make_user: MakeUser, factory: Factory
) -> None:
    csrf = await owner(client, make_user)
    channel = await factory.channel(name="Support")
    page = f"/admin/channels/{channel.id}"
    for action in ("disable", "delete"):
        html = (await page_text(client, f"{page}/{action}"))[1]
        assert form_token_of(html, f"{page}/{action}") == csrf
