"""The inbound log pages: filters and paging, a raw request with its secrets redacted and
its text inert, and replaying one or many entries (a refusal is a readable notice)."""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.app import create_app
from hub.settings import Settings
from hub.store.models import Channel, InboundLogEntry, Message, User
from tests.channel_doubles import TOKEN, manager, message, post
from tests.factories import Factory
from tests.ui_helpers import HTML, hidden, log_in_page

Client = TestClient[Any, Any]
Sessions = async_sessionmaker[AsyncSession]
MakeUser = Callable[..., Awaitable[User]]
SIGNATURE = "sha256=" + "5e" * 32


def flash(html: str) -> str:
    """The text of the page's flash messages."""
    return " ".join(re.findall(r'<p class="flash flash-\w+">(.*?)</p>', html, re.S))


def form_csrf(html: str) -> str:
    """The CSRF token of the first form in the page's main part (not the log-out form)."""
    return hidden(html.split("<main", 1)[1], "csrf_token")


def rows(html: str) -> list[str]:
    """The entry ids listed on an inbound log page, in order."""
    return re.findall(r'href="/admin/inbound-log/(\d+)\?', html)


@pytest.fixture
async def hub(aiohttp_client: Callable[..., Awaitable[Client]], settings: Settings) -> Client:
    return await aiohttp_client(create_app(settings, plugins=manager()))


@pytest.fixture
async def channel(factory: Factory) -> Channel:
    return await factory.channel("double", name="Support <b>line</b>")


@pytest.fixture
async def csrf(hub: Client, make_user: MakeUser) -> str:
    await make_user("owner@example.com", role="owner")
    return await log_in_page(hub, "owner@example.com")


async def add_entries(
    db: Sessions, channel_id: int, *times: datetime, result: str = "held"
) -> None:
    async with db() as session:
        for at in times:
            session.add(
                InboundLogEntry(
                    channel_id=channel_id,
                    received_at=at,
                    method="POST",
                    path=f"/webhooks/{channel_id}",
                    headers={},
                    query={},
                    body=b"{}",
                    result=result,
                    status_code=200,
                    events=[],
                )
            )
        await session.commit()


async def set_enabled(db: Sessions, channel: Channel, enabled: bool) -> None:
    async with db() as session:
        await session.execute(
            update(Channel).where(Channel.id == channel.id).values(enabled=enabled)
        )
        await session.commit()


async def messages_stored(db: Sessions) -> int:
    async with db() as session:
        return int(await session.scalar(select(func.count()).select_from(Message)) or 0)


async def test_the_log_filters_by_channel_and_result_newest_first(
    hub: Client, csrf: str, channel: Channel, factory: Factory
) -> None:
    other = await factory.channel("double", name="Other")
    await post(hub, channel.id, message("m1"))
    await post(hub, channel.id, message("m1"))
    await post(hub, channel.id, message("m2"), token="wrong")
    await post(hub, other.id, message("m3"))

    page = await hub.get("/admin/inbound-log")
    html = await page.text()
    mine = await (await hub.get(f"/admin/inbound-log?channel_id={channel.id}")).text()
    rejected = await (await hub.get("/admin/inbound-log?result=rejected")).text()

    assert page.status == 200 and "need fixing" not in html
    assert rows(html) == ["4", "3", "2", "1"]
    assert "Support &lt;b&gt;line&lt;/b&gt;" in html and "<b>line</b>" not in html
    assert rows(mine) == ["3", "2", "1"]
    assert f'<option value="{channel.id}" selected>' in mine  # the filter is kept
    assert rows(rejected) == ["3"] and "wrong X-Test-Token" in rejected


async def test_the_time_filter_is_utc_and_paging_keeps_every_filter(
    hub: Client, csrf: str, channel: Channel, db: Sessions
) -> None:
    start = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
    await add_entries(db, channel.id, start - timedelta(hours=1))  # before the window
    await add_entries(db, channel.id, *(start + timedelta(minutes=m) for m in range(30)))
    await add_entries(db, channel.id, start + timedelta(minutes=10), result="stored")
    query = f"channel_id={channel.id}&result=held&since=2026-03-01T09:00&until=2026-03-01T10:00"

    first = await (await hub.get(f"/admin/inbound-log?{query}")).text()
    next_url = re.search(r'href="([^"]+)" rel="next"', first)
    assert next_url is not None
    second = await (await hub.get(next_url.group(1).replace("&amp;", "&"))).text()

    assert len(rows(first)) == 25 and len(rows(second)) == 5
    assert set(rows(first)) | set(rows(second)) == {str(i) for i in range(2, 32)}
    for kept in ("channel_id=", "result=held", "since=2026-03-01T09%3A00", "until="):
        assert kept in next_url.group(1)
    assert 'value="2026-03-01T09:00"' in second and "First page" in second


async def test_the_rest_api_offers_the_same_time_filter(
    hub: Client, channel: Channel, db: Sessions, user_token: Callable[..., Awaitable[Any]]
) -> None:
    _, auth = await user_token("api@example.com", role="manager")
    start = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
    await add_entries(db, channel.id, start, start + timedelta(hours=1), start + timedelta(hours=2))

    window = await hub.get(
        "/api/v1/inbound-log",
        params={"since": "2026-03-01T10:00:00+01:00", "until": "2026-03-01T11:00"},
        headers=auth,
    )
    backwards = await hub.get(
        "/api/v1/inbound-log",
        params={"since": "2026-03-01T11:00Z", "until": "2026-03-01T10:00Z"},
        headers=auth,
    )

    assert [e["id"] for e in (await window.json())["items"]] == [2, 1]
    assert backwards.status == 422
    assert (await backwards.json())["error"]["details"] == [
        {"field": "until", "message": "must be later than since"}
    ]


async def test_a_bad_time_range_is_shown_beside_the_field_keeping_the_input(
    hub: Client, csrf: str
) -> None:
    response = await hub.get(
        "/admin/inbound-log?since=2026-03-01T10:00&until=2026-03-01T09:00", headers=HTML
    )
    html = await response.text()
    assert response.status == 422
    assert 'id="until-error"' in html and "Must be later than since." in html
    assert "Some filters need fixing" in html
    assert 'value="2026-03-01T09:00"' in html and 'value="2026-03-01T10:00"' in html


async def test_the_entry_page_redacts_secrets_and_keeps_raw_text_inert(
    hub: Client, csrf: str, channel: Channel
) -> None:
    body = {
        "events": [message("m1", text="<script>alert('x')</script>")],
        "api_key": "body-key-123",
    }
    await hub.post(
        f"/webhooks/{channel.id}?hub.verify_token=query-token-456&page=2",
        data=json.dumps(body),
        headers={
            "Content-Type": "application/json",
            "X-Test-Token": TOKEN,
            "X-Hub-Signature-256": SIGNATURE,
            "X-Telegram-Bot-Api-Secret-Token": "telegram-secret-789",
            "Authorization": "Bearer auth-000",
        },
    )

    page = await hub.get("/admin/inbound-log/1")
    html = await page.text()

    assert page.status == 200
    for secret in (SIGNATURE, "telegram-secret-789", "auth-000", TOKEN, "body-key-123"):
        assert secret not in html, secret
    assert "query-token-456" not in html and "page=2" in html
    assert "X-Hub-Signature-256" in html and "********" in html
    assert "<script>" not in html.split("<main", 1)[1]
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in html
    assert '"external_id": "m1"' in html.replace("&#34;", '"')  # the events, pretty-printed
    assert ">Replay</button>" in html


async def test_a_rejected_entry_offers_no_replay(hub: Client, csrf: str, channel: Channel) -> None:
    await post(hub, channel.id, message("m1"), token=None)
    html = await (await hub.get("/admin/inbound-log/1")).text()
    assert ">Replay</button>" not in html and "Nothing to replay" in html
    listed = await (await hub.get("/admin/inbound-log")).text()
    assert 'name="entry_id"' not in listed


async def test_replay_while_disabled_is_a_notice_then_stores_once_when_enabled(
    hub: Client, csrf: str, channel: Channel, db: Sessions
) -> None:
    await set_enabled(db, channel, False)
    await post(hub, channel.id, message("m1"))
    held = await (await hub.get("/admin/inbound-log?result=held")).text()
    assert rows(held) == ["1"]
    entry = await (await hub.get("/admin/inbound-log/1")).text()
    assert form_csrf(entry) == csrf  # the Replay form carries the session's token

    refused = await hub.post("/admin/inbound-log/1/replay", data={"csrf_token": csrf})
    refused_html = await refused.text()
    assert refused.status == 200 and refused.url.path == "/admin/inbound-log/1"
    assert "Entry #1 was not replayed: its channel is disabled" in flash(refused_html)
    assert await messages_stored(db) == 0

    await set_enabled(db, channel, True)
    done = await hub.post("/admin/inbound-log/1/replay", data={"csrf_token": csrf})
    again = await hub.post("/admin/inbound-log/1/replay", data={"csrf_token": csrf})

    assert "Entry #1 replayed: 1 event stored." in flash(await done.text())
    assert "1 already in the inbox" in flash(await again.text())
    assert await messages_stored(db) == 1


async def test_replaying_the_selected_entries_reports_each_outcome(
    hub: Client, csrf: str, channel: Channel, db: Sessions
) -> None:
    await set_enabled(db, channel, False)
    await post(hub, channel.id, message("m1"))
    await post(hub, channel.id, message("m2"))
    await post(hub, channel.id, message("m3"), token=None)  # rejected: nothing to replay
    await set_enabled(db, channel, True)
    back = "/admin/inbound-log?result=held"
    listed = await (await hub.get(back)).text()
    assert 'data-select-all="entry_id"' in listed and f'value="{back}"' in listed
    assert form_csrf(listed) == csrf

    response = await hub.post(
        "/admin/inbound-log/replay",
        data=[("csrf_token", csrf), ("back", back), *(("entry_id", i) for i in ("1", "2", "3"))],
    )
    html = await response.text()

    assert response.url.path_qs == back
    assert "Replayed 2 entries: 2 events stored." in flash(html)
    assert "1 entry was not replayed (#3: it has nothing to replay" in flash(html)
    assert await messages_stored(db) == 2

    none = await hub.post("/admin/inbound-log/replay", data={"csrf_token": csrf, "back": back})
    assert "Tick the entries to replay first." in flash(await none.text())
    # The return address stays on this page: a form cannot send the admin elsewhere.
    away = await hub.post(
        "/admin/inbound-log/replay",
        data={"csrf_token": csrf, "back": "https://evil.example/", "entry_id": "1"},
        allow_redirects=False,
    )
    assert away.headers["Location"] == "/admin/inbound-log"


async def test_replay_needs_the_csrf_token_and_agents_get_403(
    hub: Client, channel: Channel, make_user: MakeUser
) -> None:
    await make_user("owner@example.com", role="owner")
    await make_user("agent@example.com", role="agent")
    await post(hub, channel.id, message("m1"))
    await log_in_page(hub, "owner@example.com")
    forged = await hub.post("/admin/inbound-log/1/replay", data={"csrf_token": "x"}, headers=HTML)
    many = await hub.post("/admin/inbound-log/replay", data={"entry_id": "1"}, headers=HTML)
    assert (forged.status, many.status) == (403, 403)
    missing = await hub.get("/admin/inbound-log/999", headers=HTML)
    assert missing.status == 404

    hub.session.cookie_jar.clear()
    agent_csrf = await log_in_page(hub, "agent@example.com")
    for response in (
        await hub.get("/admin/inbound-log", headers=HTML),
        await hub.get("/admin/inbound-log/1", headers=HTML),
        await hub.post("/admin/inbound-log/1/replay", data={"csrf_token": agent_csrf}),
    ):
        assert response.status == 403
