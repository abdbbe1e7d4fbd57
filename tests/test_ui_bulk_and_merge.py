"""The merge picker's fragment: the same contact's other conversations, and past 50 of
them a filter box that asks the hub by number, subject or message text; and the bulk
bar's own pickers (closing note as the workspace says, labels)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp.test_utils import TestClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.inbox.workspace import save_workspace_settings
from hub.store.models import Label, User
from tests.factories import Factory
from tests.ui_helpers import HTML, log_in_page

Client = TestClient[Any, Any]
MakeUser = Callable[..., Awaitable[User]]


def _targets(html: str) -> list[str]:
    """The conversation ids offered, in order."""
    return [part.split('"', 1)[0] for part in html.split('data-merge-into="')[1:]]


async def test_a_few_targets_have_no_filter_box(
    client: Client, factory: Factory, make_user: MakeUser
) -> None:
    await make_user("owner@example.com", role="owner")
    await log_in_page(client, "owner@example.com")
    channel = await factory.channel()
    ada = await factory.contact("Ada")
    older = await factory.conversation(channel, ada, minutes=1)
    source = await factory.conversation(channel, ada, minutes=2)
    response = await client.get(f"/inbox/conversations/{source.id}/merge-targets", headers=HTML)
    assert response.status == 200, await response.text()
    html = await response.text()
    assert _targets(html) == [str(older.id)]
    assert 'id="merge-filter"' not in html


async def test_past_fifty_a_filter_finds_by_number_subject_or_message(
    client: Client, factory: Factory, make_user: MakeUser
) -> None:
    await make_user("owner@example.com", role="owner")
    await log_in_page(client, "owner@example.com")
    channel = await factory.channel()
    ada = await factory.contact("Ada")
    others = [await factory.conversation(channel, ada, minutes=i) for i in range(55)]
    await factory.conversation(channel, await factory.contact("Grace"), subject="Invoice 7")
    oldest = others[0]
    invoice = others[1]
    invoice.subject = "Invoice 100%"
    await factory.add(invoice)
    await factory.message(others[2], "Where is my REFUND?")
    source = await factory.conversation(channel, ada, minutes=100)
    url = f"/inbox/conversations/{source.id}/merge-targets"

    html = await (await client.get(url, headers=HTML)).text()
    shown = _targets(html)
    assert len(shown) == 50 and shown[0] == str(others[-1].id)  # latest first
    assert str(oldest.id) not in shown
    assert 'id="merge-filter"' in html and "filter to find an older one" in html

    async def found(q: str) -> list[str]:
        response = await client.get(url, params={"q": q}, headers=HTML)
        assert response.status == 200, await response.text()
        return _targets(await response.text())

    assert await found(f"#{oldest.id}") == [str(oldest.id)]
    # A bare number finds that conversation, and those whose text holds it.
    assert await found(str(others[3].id)) == [str(others[3].id)]
    assert await found("100") == [str(invoice.id)]
    # Case-folded, and % is a character here, not a wildcard; another contact's is not offered.
    assert await found("invoice 100%") == [str(invoice.id)]
    assert await found("refund") == [str(others[2].id)]
    html = await (await client.get(url, params={"q": "nothing like it"}, headers=HTML)).text()
    assert _targets(html) == [] and "matches" in html
    response = await client.get(url, params={"q": "x" * 201}, headers=HTML)
    assert response.status == 422


async def test_the_bulk_bar_asks_for_a_closing_note_as_the_workspace_says(
    client: Client, factory: Factory, make_user: MakeUser, db: async_sessionmaker[AsyncSession]
) -> None:
    await make_user("owner@example.com", role="owner")
    await log_in_page(client, "owner@example.com")
    await factory.conversation(await factory.channel())
    label = Label(name="Billing", name_key="billing", colour="green")
    await factory.add(label)

    async def page_with(mode: str) -> str:
        async with db() as session:
            await save_workspace_settings(session, {"closing_notes": mode})
            await session.commit()
        response = await client.get("/inbox", headers=HTML)
        assert response.status == 200, await response.text()
        return await response.text()

    html = await page_with("optional")
    assert 'id="bulk-close-dialog" aria-labelledby="bulk-close-title" data-mode="optional"' in html
    assert "Closing note (optional)" in html and 'data-bulk="close" aria-haspopup="dialog"' in html
    html = await page_with("mandatory")
    assert 'data-mode="mandatory"' in html and "Closing note (required)" in html
    html = await page_with("off")
    assert 'id="bulk-close-dialog"' not in html and 'data-bulk="close">' in html
    # The bulk label picker: the pane's checkboxes, with their own ids, none ticked.
    response = await client.get("/inbox/bulk/label-picker", headers=HTML)
    picker = await response.text()
    assert f'id="bulk-label-{label.id}"' in picker and "checked" not in picker
