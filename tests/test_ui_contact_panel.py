"""The inbox's contact panel and notification bell as fragments, and the notification
settings form of the profile page."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp.test_utils import TestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.store.models import Comment, Notification, User
from tests.factories import Factory
from tests.ui_helpers import HTML, log_in_page

Client = TestClient[Any, Any]
MakeUser = Callable[..., Awaitable[User]]


async def test_the_panel_shows_the_contact_its_duplicates_activity_and_conversations(
    client: Client, factory: Factory, make_user: MakeUser
) -> None:
    owner = await make_user("owner@example.com", role="owner", name="Olive Owner")
    await log_in_page(client, "owner@example.com")
    channel = await factory.channel(name="Acme chat")
    ada = await factory.contact(
        "Ada <b>Lovelace</b>", phone="+4915123456789", fields={"plan": "gold"}
    )
    twin = await factory.contact("Ada L.", phone="+4915123456789")
    stranger = await factory.contact("Grace", phone="+14155552671")
    older = await factory.conversation(
        channel, ada, minutes=1, subject="Order 1041", status="closed"
    )
    current = await factory.conversation(channel, ada, minutes=5)
    await factory.add(Comment(conversation_id=older.id, author_id=owner.id, body="Refunded <ok>"))

    url = f"/inbox/contacts/{ada.id}/panel?conversation_id={current.id}"
    response = await client.get(url, headers=HTML)
    assert response.status == 200, await response.text()
    html = await response.text()
    assert "Ada &lt;b&gt;Lovelace&lt;/b&gt;" in html  # escaped, never markup
    assert "+49 151 23456789" in html  # shown formatted, stored in E.164
    assert 'value="+4915123456789"' in html  # edited as stored
    assert "gold" in html and 'data-field="fields.plan"' in html
    # Unknown details show "-".
    assert html.count('title="Unknown">-</span>') == 3  # email, country, language
    assert f'data-merge="{twin.id}"' in html, html
    assert "same phone" in html
    assert f'data-merge="{stranger.id}"' not in html
    assert "Refunded &lt;ok&gt;" in html
    assert f'href="/inbox/conversations/{older.id}"' in html and "Order 1041" in html
    # The open conversation is no "earlier" one.
    assert f'class="earlier-link" href="/inbox/conversations/{current.id}"' not in html
    # The CRM tab and its panel are there, hidden until crm.js finds a record to show.
    assert (
        'id="contact-tab-crm" aria-controls="contact-crm" aria-selected="false" tabindex="-1" hidden>'
        in html
    )
    assert f'data-crm-slot data-crm-url="/inbox/contacts/{ada.id}/crm"' in html

    # The page leaves the pane (so the panel) and the list's rows to the scripts, as a
    # click does; without the script, a link asks for the page with them inline.
    page = await (await client.get(f"/inbox/conversations/{current.id}", headers=HTML)).text()
    assert f'id="pane-deferred" data-conversation-id="{current.id}"' in page
    assert 'id="contact-card"' not in page and "data-crm-slot" not in page
    assert 'id="rows" aria-labelledby="list-heading" data-deferred' in page
    assert f'id="row-{current.id}"' not in page
    full = f"/inbox/conversations/{current.id}?view=all&amp;full=1"
    assert page.count(f'<noscript><p><a href="{full}">') == 2
    # The pane the script fetches leaves the panel to contact.js in its turn.
    pane = await (await client.get(f"/inbox/conversations/{current.id}/pane", headers=HTML)).text()
    assert 'id="contact-card"' in pane and "data-deferred" in pane and "data-crm-slot" not in pane
    inline = await (
        await client.get(f"/inbox/conversations/{current.id}?view=all&full=1", headers=HTML)
    ).text()
    assert "data-deferred" not in inline
    assert f'data-crm-slot data-crm-url="/inbox/contacts/{ada.id}/crm"' in inline
    assert f'id="row-{current.id}"' in inline
    bad = await client.get(f"/inbox/contacts/{ada.id}/panel?conversation_id=x", headers=HTML)
    assert bad.status == 422


async def test_a_restricted_agent_gets_no_merge_and_sees_only_their_conversations(
    client: Client, factory: Factory, make_user: MakeUser
) -> None:
    agent = await make_user("agent@example.com", visibility="assigned")
    await log_in_page(client, "agent@example.com")
    channel = await factory.channel()
    ada = await factory.contact("Ada", email="ada@example.com")
    await factory.contact("Ada again", email="ada@example.com")
    mine = await factory.conversation(channel, ada, assignee_id=agent.id)
    hidden = await factory.conversation(channel, ada, subject="Secret thread")
    await factory.add(Comment(conversation_id=hidden.id, body="hidden remark"))

    html = await (await client.get(f"/inbox/contacts/{ada.id}/panel", headers=HTML)).text()
    assert "data-merge=" not in html and "merge-dialog" not in html
    assert "Secret thread" not in html and "hidden remark" not in html
    assert f"/inbox/conversations/{mine.id}" in html
    assert f"/inbox/conversations/{hidden.id}" not in html


async def test_the_bell_counts_the_unread_and_names_each(
    client: Client, factory: Factory, make_user: MakeUser
) -> None:
    me = await make_user("me@example.com", name="Me")
    bea = await make_user("bea@example.com", name="Bea <Boss>")
    await log_in_page(client, "me@example.com")
    channel = await factory.channel()
    conversation = await factory.conversation(channel, await factory.contact("Ada"))
    await factory.add(
        Notification(
            user_id=me.id,
            kind="mention",
            conversation_id=conversation.id,
            data={"by": bea.id, "excerpt": "look <here>"},
        ),
        Notification(user_id=me.id, kind="snooze_ended", conversation_id=conversation.id),
        Notification(user_id=bea.id, kind="assigned", conversation_id=conversation.id),
    )
    html = await (await client.get("/inbox/notifications", headers=HTML)).text()
    assert 'data-bell-count>2<span class="visually-hidden"> unread' in html
    assert "Bea &lt;Boss&gt; mentioned you · Ada" in html
    assert "look &lt;here&gt;" in html
    assert "⏰</span> Snooze ended · Ada" in html
    assert "assigned you" not in html
    page = await (await client.get("/inbox", headers=HTML)).text()
    assert 'id="topbar-tools"' in page and 'id="bell-button"' in page


async def test_the_profile_page_saves_the_notification_settings(
    client: Client, make_user: MakeUser, db: async_sessionmaker[AsyncSession]
) -> None:
    me = await make_user("me@example.com")
    token = await log_in_page(client, "me@example.com")
    page = await (await client.get("/me", headers=HTML)).text()
    assert 'id="notification-settings"' in page
    assert 'name="mention" type="checkbox" value="on" checked' in page
    done = await client.post(
        "/me/notifications",
        data={"csrf_token": token, "message": "on", "assigned": "on", "sound": "on"},
        headers=HTML,
        allow_redirects=False,
    )
    assert done.status == 303, await done.text()
    async with db() as session:
        stored = await session.scalar(select(User.notification_settings).where(User.id == me.id))
    assert stored == {
        "message": True,
        "mention": False,
        "assigned": True,
        "snooze_ended": False,
        "sla_breached": False,
        "desktop": False,
        "sound": True,
    }
    page = await (await client.get("/me", headers=HTML)).text()
    assert 'name="mention" type="checkbox" value="on">' in page
    forged = await client.post("/me/notifications", data={"mention": "on"}, headers=HTML)
    assert forged.status == 403
