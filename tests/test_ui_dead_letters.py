"""The dead-letters page: deliveries that failed for good, filtered and paged, retried one
at a time or all at once after a confirmation saying how many."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.app import create_app
from hub.settings import Settings
from hub.store.models import Channel, OutboxItem, User
from tests.factories import Factory
from tests.outbound_doubles import Queued, Script, queue_message, scripted_channel, scripted_manager
from tests.test_ui_inbound_log import HTML, flash, form_csrf, log_in_page

Client = TestClient[Any, Any]
Sessions = async_sessionmaker[AsyncSession]
MakeUser = Callable[..., Awaitable[User]]


@pytest.fixture
async def hub(aiohttp_client: Callable[..., Awaitable[Client]], settings: Settings) -> Client:
    # The worker polls rarely, and a retried delivery is sent by the script (successfully).
    quiet = settings.model_copy(update={"outbox_poll_seconds": 3600})
    return await aiohttp_client(create_app(quiet, plugins=scripted_manager(Script())[0]))


@pytest.fixture
async def channel(factory: Factory) -> Channel:
    return await scripted_channel(factory, name="Shop <i>chat</i>")


@pytest.fixture
async def csrf(hub: Client, make_user: MakeUser) -> str:
    await make_user("owner@example.com", role="owner")
    return await log_in_page(hub, "owner@example.com")


async def letter(
    factory: Factory, db: Sessions, channel: Channel, status: str, error: str, text: str = "Hi"
) -> Queued:
    """A delivery in ``status`` after failing with ``error``."""
    queued = await queue_message(factory, channel, text)
    async with db() as session:
        await session.execute(
            update(OutboxItem)
            .where(OutboxItem.id == queued.item.id)
            .values(status=status, attempts=3, last_error=error)
        )
        await session.commit()
    return queued


async def status_of(db: Sessions, item_id: int) -> str:
    async with db() as session:
        item = await session.get(OutboxItem, item_id)
        assert item is not None
        return item.status


def listed(html: str) -> list[str]:
    """The delivery ids with a Retry button on the page, in order."""
    return re.findall(r'action="/admin/dead-letters/(\d+)/retry"', html)


async def test_dead_and_failed_deliveries_are_listed_with_reason_and_attempts(
    hub: Client, csrf: str, channel: Channel, factory: Factory, db: Sessions
) -> None:
    dead = await letter(factory, db, channel, "dead", "gave up after 3 attempts: <b>down</b>")
    failed = await letter(factory, db, channel, "failed", "window closed", text="Your order")
    pending = await queue_message(factory, channel)
    other = await scripted_channel(factory, name="Other")
    elsewhere = await letter(factory, db, other, "dead", "timeout")

    page = await hub.get("/admin/dead-letters")
    html = await page.text()
    mine = await (await hub.get(f"/admin/dead-letters?channel_id={channel.id}")).text()
    only_failed = await (await hub.get("/admin/dead-letters?status=failed")).text()

    assert page.status == 200 and "need fixing" not in html
    assert listed(html) == [str(elsewhere.item.id), str(failed.item.id), str(dead.item.id)]
    assert str(pending.item.id) not in listed(html)
    assert "gave up after 3 attempts: &lt;b&gt;down&lt;/b&gt;" in html and "<b>down" not in html
    assert "Shop &lt;i&gt;chat&lt;/i&gt;" in html and "“Your order”" in html
    assert f"conversation #{dead.conversation.id}" in html
    assert listed(mine) == [str(failed.item.id), str(dead.item.id)]
    assert listed(only_failed) == [str(failed.item.id)]
    assert form_csrf(html) == csrf


async def test_a_state_that_is_no_dead_letter_is_refused_beside_the_filter(
    hub: Client, csrf: str
) -> None:
    response = await hub.get("/admin/dead-letters?status=pending", headers=HTML)
    html = await response.text()
    assert response.status == 422
    assert 'id="status-error"' in html and "choose dead or failed" in html
    assert "Some filters need fixing" in html


async def test_paging_keeps_the_channel_filter(
    hub: Client, csrf: str, channel: Channel, factory: Factory, db: Sessions
) -> None:
    for _ in range(27):
        await letter(factory, db, channel, "dead", "down")

    first = await (await hub.get(f"/admin/dead-letters?channel_id={channel.id}")).text()
    link = re.search(r'href="([^"]+)" rel="next"', first)
    assert link is not None and f"channel_id={channel.id}" in link.group(1)
    second = await (await hub.get(link.group(1).replace("&amp;", "&"))).text()

    assert len(listed(first)) == 25 and len(listed(second)) == 2
    assert not set(listed(first)) & set(listed(second))


async def test_retrying_one_queues_it_again_and_a_second_click_is_a_notice(
    hub: Client, csrf: str, channel: Channel, factory: Factory, db: Sessions
) -> None:
    dead = await letter(factory, db, channel, "dead", "down")
    back = f"/admin/dead-letters?channel_id={channel.id}"
    path = f"/admin/dead-letters/{dead.item.id}/retry"

    done = await hub.post(path, data={"csrf_token": csrf, "back": back})
    again = await hub.post(path, data={"csrf_token": csrf, "back": back})

    assert done.url.path_qs == back
    assert f"Delivery #{dead.item.id} is queued again" in flash(await done.text())
    assert await status_of(db, dead.item.id) in ("pending", "done")
    assert f"Delivery #{dead.item.id} was not retried" in flash(await again.text())


async def test_retry_all_asks_first_with_the_count_then_queues_them(
    hub: Client, csrf: str, channel: Channel, factory: Factory, db: Sessions
) -> None:
    first = await letter(factory, db, channel, "dead", "down")
    second = await letter(factory, db, channel, "failed", "refused")
    other = await scripted_channel(factory, name="Other")
    untouched = await letter(factory, db, other, "dead", "down")

    confirm = await hub.get(f"/admin/dead-letters/retry-all?channel_id={channel.id}")
    html = await confirm.text()
    assert confirm.status == 200
    assert "2 deliveries will be queued again." in html and "Queue 2 deliveries again" in html
    assert f'name="channel_id" value="{channel.id}"' in html

    done = await hub.post(
        "/admin/dead-letters/retry-all", data={"csrf_token": csrf, "channel_id": str(channel.id)}
    )
    assert "2 deliveries queued again." in flash(await done.text())
    assert done.url.path_qs == f"/admin/dead-letters?channel_id={channel.id}"
    for queued in (first, second):
        assert await status_of(db, queued.item.id) in ("pending", "done")
    assert await status_of(db, untouched.item.id) == "dead"

    nothing = await hub.get(f"/admin/dead-letters/retry-all?channel_id={channel.id}")
    assert "There is nothing to retry." in flash(await nothing.text())


async def test_retrying_needs_the_csrf_token_and_agents_get_403(
    hub: Client, channel: Channel, factory: Factory, db: Sessions, make_user: MakeUser
) -> None:
    dead = await letter(factory, db, channel, "dead", "down")
    await make_user("owner@example.com", role="owner")
    await make_user("agent@example.com", role="agent")
    await log_in_page(hub, "owner@example.com")
    path = f"/admin/dead-letters/{dead.item.id}/retry"
    forged = await hub.post(path, data={"csrf_token": "forged"}, headers=HTML)
    all_forged = await hub.post("/admin/dead-letters/retry-all", data={}, headers=HTML)
    assert (forged.status, all_forged.status) == (403, 403)
    assert await status_of(db, dead.item.id) == "dead"
    missing = await hub.post(
        "/admin/dead-letters/999/retry", data={"csrf_token": await owner_token(hub)}, headers=HTML
    )
    assert missing.status == 404

    hub.session.cookie_jar.clear()
    agent_csrf = await log_in_page(hub, "agent@example.com")
    for response in (
        await hub.get("/admin/dead-letters", headers=HTML),
        await hub.get("/admin/dead-letters/retry-all", headers=HTML),
        await hub.post(path, data={"csrf_token": agent_csrf}, headers=HTML),
        await hub.post("/admin/dead-letters/retry-all", data={"csrf_token": agent_csrf}),
    ):
        assert response.status == 403
    assert await status_of(db, dead.item.id) == "dead"


async def owner_token(hub: Client) -> str:
    """The logged-in user's CSRF token, read from a page."""
    return form_csrf(await (await hub.get("/admin/dead-letters")).text())


async def test_the_retry_all_confirmation_carries_the_csrf_token(
    hub: Client, csrf: str, channel: Channel, factory: Factory, db: Sessions
) -> None:
    await letter(factory, db, channel, "dead", "down")
    html = await (await hub.get("/admin/dead-letters/retry-all")).text()
    assert form_csrf(html) == csrf
