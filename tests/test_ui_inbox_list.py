"""The inbox's sidebar and list as pages and fragments: the inbox groups, the top bar,
custom inboxes (editable by their creator only), search hits, rows in order, empty
lists that say what to do, and a restricted agent who gets only what the API gives."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp.test_utils import TestClient

from hub.store.models import User
from tests.factories import Factory
from tests.ui_helpers import HTML, log_in_page

Client = TestClient[Any, Any]
MakeUser = Callable[..., Awaitable[User]]
FRAGMENT = {"Accept": "text/html-fragment"}


async def page(client: Client, path: str, **params: str) -> str:
    response = await client.get(path, params=params, headers=HTML)
    assert response.status == 200, await response.text()
    return await response.text()


def row_ids(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'id="row-(\d+)"', html)]


async def test_the_sidebar_groups_inboxes_and_the_top_bar_has_the_menu(
    client: Client, make_user: MakeUser, factory: Factory
) -> None:
    owner = await make_user("owner@example.com", name="Olive Owner", role="owner")
    await factory.team("Support", members=[owner])
    await log_in_page(client, "owner@example.com")
    html = await page(client, "/inbox")
    for heading in ("Inbox", "Teams", "Custom inboxes"):
        assert f">{heading}</h2>" in html
    assert ">Support<" in html and 'data-view="mine"' in html
    # No blocked contact: no Blocked inbox.
    assert "Blocked contacts" not in html
    # The top bar: availability switch, the slot for the bell, the user menu.
    assert 'role="switch"' in html and 'aria-checked="true"' in html
    assert '<div id="topbar-tools"' in html
    for link in ('href="/me"', 'href="/me/tokens"', 'href="/admin"', 'action="/logout"'):
        assert link in html, link
    # The empty list of a hub without channels tells an owner how to connect one.
    assert "No channel is connected yet" in html and 'href="/admin/channels/new"' in html


async def test_an_agent_without_channels_is_told_to_ask_and_has_no_admin_link(
    client: Client, make_user: MakeUser
) -> None:
    await make_user("agent@example.com")
    await log_in_page(client, "agent@example.com")
    html = await page(client, "/inbox")
    assert "Ask an owner or a manager" in html
    assert 'href="/admin"' not in html and 'href="/admin/channels/new"' not in html


async def test_the_blocked_inbox_shows_once_a_contact_is_blocked(
    client: Client, make_user: MakeUser, factory: Factory
) -> None:
    await make_user("owner@example.com", role="owner")
    await factory.contact("Spam Bot", blocked=True)
    await log_in_page(client, "owner@example.com")
    html = await page(client, "/inbox")
    assert ">Blocked</h2>" in html and "Blocked contacts" in html


async def test_rows_carry_their_place_and_the_row_fragment_follows_the_tab(
    client: Client, make_user: MakeUser, factory: Factory
) -> None:
    await make_user("owner@example.com", role="owner")
    channel = await factory.channel(name="Acme chat")
    older = await factory.conversation(channel, await factory.contact("Ada Lovelace"), minutes=1)
    newer = await factory.conversation(channel, await factory.contact("Grace Hopper"), minutes=2)
    closed = await factory.conversation(channel, minutes=3, status="closed")
    await factory.message(older, "Where is my order?")
    await factory.message(newer, "Sent the files", direction="out", status="sent")
    await log_in_page(client, "owner@example.com")

    html = await page(client, "/inbox")
    assert row_ids(html) == [newer.id, older.id]
    keys = [int(k) for k in re.findall(r'data-sort-key="(\d+)"', html)]
    assert keys == sorted(keys, reverse=True) and keys[0] > keys[1]
    assert ">AL</span>" in html and "Where is my order?" in html and "You replied" in html
    assert "Acme chat" in html and "Unassigned" in html
    oldest = await page(client, "/inbox", sort="oldest")
    assert row_ids(oldest) == [older.id, newer.id]

    # The closed one is no row of the Open tab (204: the script removes it)...
    gone = await client.get(f"/inbox/rows/{closed.id}", headers=FRAGMENT)
    assert gone.status == 204
    # ...but is one of the Closed tab, marked as the list shows it.
    kept = await client.get(f"/inbox/rows/{closed.id}", params={"status": "closed"})
    assert kept.status == 200 and row_ids(await kept.text()) == [closed.id]


async def test_paging_the_rows_with_the_more_link(
    client: Client, make_user: MakeUser, factory: Factory
) -> None:
    await make_user("owner@example.com", role="owner")
    channel = await factory.channel()
    made = [await factory.conversation(channel, minutes=i) for i in range(30)]
    await log_in_page(client, "owner@example.com")
    first = await page(client, "/inbox")
    more = re.search(r'href="([^"]+)" data-more-url', first)
    assert more is not None
    second = await (await client.get(more.group(1).replace("&amp;", "&"))).text()
    listed = row_ids(first) + row_ids(second)
    assert listed == [c.id for c in reversed(made)]
    assert "data-more" not in second and "rows-empty" not in second


async def test_custom_inboxes_are_editable_by_their_creator_only(
    client: Client, make_user: MakeUser, factory: Factory
) -> None:
    creator = await make_user("creator@example.com", name="Cleo Creator", role="manager")
    await make_user("other@example.com", name="Otto Other", role="manager")
    channel = await factory.channel(name="Acme chat")
    await factory.conversation(channel, unread_count=1)
    csrf = await log_in_page(client, "creator@example.com")
    # The "new" dialog starts from the list looked at: Mine, Closed tab, unanswered. The
    # page leaves the dialogs to the script, which fetches them from the page's link.
    list_state = {"view": "mine", "status": "closed", "unanswered": "1"}
    html = await page(client, "/inbox", **list_state)
    assert 'id="custom-inbox-new"' not in html
    link = re.search(r'id="custom-inbox-dialogs" data-url="([^"]+)"', html)
    assert link is not None
    dialogs = await page(client, link.group(1).replace("&amp;", "&"))
    assert dialogs == await page(client, "/inbox/custom-inbox-dialogs", **list_state)
    new_form = dialogs.split('id="custom-inbox-new"')[1].split("</dialog>")[0]
    filters = re.search(r'data-filters="([^"]+)"', new_form)
    assert filters is not None
    assert "&#34;assignee_ids&#34;: [" + str(creator.id) + "]" in filters.group(1)
    assert "&#34;statuses&#34;: [&#34;closed&#34;]" in filters.group(1)
    assert "&#34;unanswered&#34;: true" in filters.group(1)

    made = await client.post(
        "/api/v1/custom-inboxes",
        json={"name": "<b>VIP</b>", "filters": {"channel_ids": [channel.id]}, "share": {}},
        headers={"X-CSRF-Token": csrf},
    )
    assert made.status == 201
    inbox_id = (await made.json())["id"]
    mine = await page(client, "/inbox", view=f"custom:{inbox_id}")
    assert "&lt;b&gt;VIP&lt;/b&gt;" in mine and "<b>VIP</b>" not in mine
    assert "data-custom-edit" in mine
    dialogs = await page(client, "/inbox/custom-inbox-dialogs", view=f"custom:{inbox_id}")
    assert 'id="custom-inbox-edit"' in dialogs and "&lt;b&gt;VIP&lt;/b&gt;" in dialogs
    assert 'data-owner="mine"' in mine and "Last updated" in mine and "data-list-refresh" in mine

    # Shared with the other manager: listed under "by others", read-only.
    shared = await client.patch(
        f"/api/v1/custom-inboxes/{inbox_id}",
        json={"share": {"user_ids": [creator.id + 1]}},
        headers={"X-CSRF-Token": csrf},
    )
    assert shared.status == 200
    await client.post("/logout", data={"csrf_token": csrf})
    other_csrf = await log_in_page(client, "other@example.com")
    theirs = await page(client, "/inbox", view=f"custom:{inbox_id}")
    assert 'data-owner="others"' in theirs and "data-custom-about" in theirs
    assert "Shared by Cleo Creator · read-only" in theirs
    about = await page(client, "/inbox/custom-inbox-dialogs", view=f"custom:{inbox_id}")
    assert "custom-inbox-edit" not in about and 'id="custom-inbox-about"' in about
    assert "Channels: Acme chat" in about
    # Not shared with them, the dialogs are a 404 as the inbox is.
    await make_user("third@example.com", name="Tess Third", role="agent")
    await client.post("/logout", data={"csrf_token": other_csrf})
    await log_in_page(client, "third@example.com")
    hidden = await client.get(
        "/inbox/custom-inbox-dialogs", params={"view": f"custom:{inbox_id}"}, headers=HTML
    )
    assert hidden.status == 404


async def test_search_hits_link_to_the_item_in_its_conversation(
    client: Client, make_user: MakeUser, factory: Factory
) -> None:
    await make_user("owner@example.com", role="owner")
    channel = await factory.channel()
    ada = await factory.contact("Ada Lovelace")
    conversation = await factory.conversation(channel, ada)
    message = await factory.message(conversation, "The parcel to Lisbon is late")
    await log_in_page(client, "owner@example.com")

    html = await page(client, "/inbox/search", q="lisbon")
    assert "Results for “lisbon”" in html
    assert f'/inbox/conversations/{conversation.id}?view=all&amp;item=message:{message.id}"' in html
    fragment = await client.get("/inbox/search/results", params={"q": "ada"}, headers=FRAGMENT)
    text = await fragment.text()
    assert fragment.status == 200 and 'id="search-results"' in text
    # A contact hit opens the contact's latest conversation.
    assert f'/inbox/conversations/{conversation.id}?view=all"' in text
    nothing = await page(client, "/inbox/search", q="zanzibar")
    assert "Nothing found for “zanzibar”" in nothing
    # An empty query shows the inbox; a query too long is a precise 422 page.
    empty = await client.get("/inbox/search", params={"q": " "}, allow_redirects=False)
    assert empty.status == 303 and empty.headers["Location"] == "/inbox?view=all"
    long = await client.get("/inbox/search", params={"q": "x" * 300}, headers=HTML)
    assert long.status == 422 and "200 characters" in await long.text()


async def test_a_restricted_agent_sees_only_mine(
    client: Client, make_user: MakeUser, factory: Factory
) -> None:
    agent = await make_user("agent@example.com", visibility="assigned")
    await make_user("owner@example.com", role="owner")
    channel = await factory.channel()
    own = await factory.conversation(channel, assignee_id=agent.id)
    other = await factory.conversation(channel)
    await factory.message(other, "secret words")
    await log_in_page(client, "agent@example.com")

    html = await page(client, "/inbox")
    sidebar = html.split('id="inbox-sidebar"')[1].split("</nav>")[0]
    assert re.findall(r'data-view="([^"]+)"', sidebar) == ["mine"]
    assert row_ids(html) == [own.id]
    assert (await client.get("/inbox", params={"view": "all"}, headers=HTML)).status == 403
    hidden = await client.get(f"/inbox/conversations/{other.id}", headers=HTML)
    assert hidden.status == 404
    assert (await client.get(f"/inbox/rows/{other.id}")).status == 204
    found = await page(client, "/inbox/search", q="secret")
    assert "Nothing found" in found
