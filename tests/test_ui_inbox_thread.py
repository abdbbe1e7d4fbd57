"""The conversation pane's fragments over HTTP: every kind of message part rendered, and
hostile names, texts, file names and email HTML kept inert; events as sentences; links
to an item; the files route; the assignee picker."""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from datetime import timedelta
from html.parser import HTMLParser
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.media.store import media_store_of
from hub.settings import Settings
from hub.store.models import Attachment, Comment, Conversation, ConversationEvent, User
from hub.store.types import utcnow
from tests.factories import Factory
from tests.ui_helpers import HTML, log_in_page

Client = TestClient[Any, Any]
MakeUser = Callable[..., Awaitable[User]]
Sessions = async_sessionmaker[AsyncSession]

HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'
HOSTILE_FILE = '"><svg onload=alert(1)>.pdf'
EMAIL_HTML = (
    '<p onclick="alert(1)">Hello <b>there</b><script>alert(2)</script>'
    '<a href="javascript:alert(3)">click</a><img src="https://tracker.example/p.gif">'
    '<span style="color:red">styled</span></p>'
    '<div class="gmail_quote">On Monday Ada wrote:<blockquote>the old message</blockquote></div>'
)


async def _owner(client: Client, make_user: MakeUser) -> User:
    owner = await make_user("owner@example.com", name="Olive Owner", role="owner")
    await log_in_page(client, "owner@example.com")
    return owner


async def _conversation(factory: Factory, **kwargs: Any) -> Conversation:
    channel = await factory.channel(kwargs.pop("channel_type", "custom_channel"))
    contact = await factory.contact(kwargs.pop("contact_name", "Ada Lovelace"))
    return await factory.conversation(channel, contact, **kwargs)


async def _page(client: Client, conversation_id: int, query: str = "") -> str:
    """The conversation's page with its pane inline (as without the script: ``full=1``)."""
    full = f"?full=1&{query[1:]}" if query else "?full=1"
    response = await client.get(f"/inbox/conversations/{conversation_id}{full}", headers=HTML)
    assert response.status == 200, await response.text()
    return await response.text()


class _Markup(HTMLParser):
    """Collects what a page holds as markup: tags, and attributes with their values."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attributes: list[tuple[str, str]] = []
        self.scripts: list[str] = []
        # JSON data blocks (<script type="application/json">): never run by the browser.
        self.data_blocks: dict[str, str] = {}
        self._in_script = False
        self._data_block: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attributes += [(name, value or "") for name, value in attrs]
        values = dict(attrs)
        is_data = tag == "script" and values.get("type") == "application/json"
        self._data_block = (values.get("id") or "") if is_data else None
        self._in_script = tag == "script" and not is_data

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False
            self._data_block = None

    def handle_data(self, data: str) -> None:
        if self._data_block is not None:
            # (The parser may hand a long block over in pieces.)
            self.data_blocks[self._data_block] = self.data_blocks.get(self._data_block, "") + data
        elif self._in_script and data.strip():
            self.scripts.append(data)


def _inert(html: str) -> None:
    """Nothing hostile came through as markup: no inline script, no event handler, no
    style attribute, no SVG, no javascript: URL."""
    markup = _Markup()
    markup.feed(html)
    assert markup.scripts == []
    # The one data block is the scripts' words, and it is JSON (a parse error would mean
    # something broke out of it).
    assert set(markup.data_blocks) <= {"inbox-strings"}
    for block in markup.data_blocks.values():
        assert isinstance(json.loads(block), dict)
    assert "svg" not in markup.tags
    assert [a for a, _ in markup.attributes if a.startswith("on") or a == "style"] == []
    assert [v for _, v in markup.attributes if v.strip().lower().startswith("javascript:")] == []


async def test_every_part_kind_renders_and_hostile_content_stays_text(
    client: Client, make_user: MakeUser, factory: Factory, db: Sessions, settings: Settings
) -> None:
    owner = await _owner(client, make_user)
    c = await _conversation(factory, contact_name=HOSTILE)
    now = utcnow()
    first = await factory.message(c, HOSTILE, created_at=now - timedelta(minutes=9))
    parts: list[dict[str, Any]] = [
        {"kind": "location", "latitude": 38.72, "longitude": -9.14, "name": HOSTILE},
        {"kind": "location", "latitude": "javascript:alert(1)", "longitude": 0, "name": "Bad"},
        {"kind": "contact_card", "name": HOSTILE, "phones": ["+351 912 345 678"], "emails": []},
        {"kind": "sticker", "emoji": "🐱"},
        {"kind": "unsupported", "raw_type": "poll", "description": HOSTILE},
    ]
    await factory.message(c, None, parts=parts, created_at=now - timedelta(minutes=8))
    await factory.message(
        c,
        None,
        direction="out",
        status="read",
        sender_user_id=owner.id,
        parts=[
            {"kind": "template", "name": "order_update", "language": "en", "parameters": ["42"]}
        ],
        created_at=now - timedelta(minutes=7),
    )
    await factory.message(
        c,
        "👍",
        parts=[{"kind": "reaction", "target_external_id": "x", "emoji": "👍"}],
        reply_to_id=first.id,
        created_at=now - timedelta(minutes=6),
    )
    reply = await factory.message(
        c, "As I said", reply_to_id=first.id, created_at=now - timedelta(minutes=5)
    )
    await factory.message(
        c,
        "new words",
        edit_history=[{"text": "old words", "parts": [], "replaced_at": now.isoformat()}],
        created_at=now - timedelta(minutes=4),
    )
    failed = await factory.message(
        c,
        "Are you there?",
        direction="out",
        status="failed",
        failure_reason=HOSTILE,
        created_at=now - timedelta(minutes=3),
    )
    store = media_store_of(client.app, settings)
    sha = await store.put(b"%PDF-1.4 hostile")
    await factory.add(
        Attachment(
            message_id=reply.id,
            sha256=sha,
            filename=HOSTILE_FILE,
            content_type="application/pdf",
            size=16,
        ),
        Comment(conversation_id=c.id, author_id=owner.id, body=HOSTILE, created_at=now),
    )

    html = await _page(client, c.id)
    _inert(html)
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html
    assert "https://www.openstreetmap.org/?mlat=38.72&amp;mlon=-9.14" in html
    assert html.count("openstreetmap") == 1  # the junk coordinates get no link
    assert 'href="tel:+351912345678"' in html
    assert "🐱" in html and "Unsupported message" in html
    assert "Template “order_update”" in html and "[template" not in html
    # The reaction shows on its target; its own item hides.
    target = html.split(f'id="message-{first.id}"', 1)[1].split("</article>", 1)[0]
    assert '<ul class="reactions"' in target and "👍" in target
    assert re.search(r'class="item message incoming reaction-item"[^>]*hidden', html)
    # The reply quotes the first message and jumps to it.
    assert f'data-jump="message:{first.id}"' in html
    assert "edited" in html and "old words" in html
    failed_html = html.split(f'id="message-{failed.id}"', 1)[1].split("</article>", 1)[0]
    assert f'data-retry="{failed.id}"' in failed_html and "Failed" in failed_html
    assert "delivery-read" in html
    assert "&#34;&gt;&lt;svg onload=alert(1)&gt;.pdf" in html


async def test_an_email_is_sanitized_and_its_quoted_history_folded(
    client: Client, make_user: MakeUser, factory: Factory
) -> None:
    await _owner(client, make_user)
    c = await _conversation(factory, channel_type="email")
    await factory.message(
        c, "Hello there", subject=HOSTILE, parts=[{"kind": "text", "text": "x", "html": EMAIL_HTML}]
    )
    await factory.message(c, "Thanks!\n\nOn Mon, Ada <a@example.com> wrote:\n> earlier")
    html = await _page(client, c.id)
    _inert(html)
    body = html.split('<div class="email-body">', 1)[1].split("</div>", 1)[0]
    assert "<b>there</b>" in body and "the old message" not in body
    assert re.search(r"<details class=\"quoted\">.*the old message", html, re.S)
    assert re.search(r"<details class=\"quoted\">.*&gt; earlier", html, re.S)
    assert "message-subject" in html


async def test_events_read_as_sentences(
    client: Client, make_user: MakeUser, factory: Factory
) -> None:
    owner = await _owner(client, make_user)
    ben = await make_user("ben@example.com", name="Ben Agent", role="agent")
    c = await _conversation(factory)
    now = utcnow()
    await factory.add(
        ConversationEvent(
            conversation_id=c.id,
            kind="assigned",
            actor_id=owner.id,
            data={"user_id": ben.id, "team_id": None},
            created_at=now - timedelta(minutes=3),
        ),
        ConversationEvent(
            conversation_id=c.id,
            kind="closed",
            actor_id=ben.id,
            data={"note": HOSTILE},
            created_at=now - timedelta(minutes=2),
        ),
        ConversationEvent(
            conversation_id=c.id,
            kind="snoozed",
            actor_id=owner.id,
            data={"until": (now + timedelta(hours=3)).isoformat()},
            created_at=now - timedelta(minutes=1),
        ),
        ConversationEvent(
            conversation_id=c.id, kind="unsnoozed", actor_id=None, data={"by": "timer"}
        ),
    )
    html = await _page(client, c.id)
    _inert(html)
    assert "Olive Owner assigned this to Ben Agent" in html
    assert "Ben Agent closed this with note: “&lt;script&gt;" in html
    assert "Olive Owner snoozed this until" in html
    assert "The snooze ended" in html


async def test_a_link_to_an_old_item_loads_enough_of_the_timeline(
    client: Client, make_user: MakeUser, factory: Factory
) -> None:
    await _owner(client, make_user)
    c = await _conversation(factory)
    start = utcnow() - timedelta(days=2)
    old = await factory.message(c, "the very first one", created_at=start)
    for n in range(120):
        await factory.message(c, f"later {n}", created_at=start + timedelta(minutes=n + 1))
    html = await _page(client, c.id)
    assert f'id="message-{old.id}"' not in html  # the newest page only
    html = await _page(client, c.id, f"?item=message:{old.id}")
    assert f'id="message-{old.id}"' in html and f'data-target-item="message:{old.id}"' in html
    assert "later 119" in html
    for bad in ("junk", "message:", "message:abc", "user:1"):
        response = await client.get(
            f"/inbox/conversations/{c.id}", params={"item": bad}, headers=HTML
        )
        assert response.status == 422, bad


async def test_the_page_of_a_conversation_leaves_its_pane_to_the_script(
    client: Client, make_user: MakeUser, factory: Factory
) -> None:
    await _owner(client, make_user)
    c = await _conversation(factory, contact_name="Ada <b>Lovelace</b>")
    m = await factory.message(c, "the words of the thread")
    response = await client.get(
        f"/inbox/conversations/{c.id}", params={"item": f"message:{m.id}"}, headers=HTML
    )
    assert response.status == 200
    html = await response.text()
    # The conversation's name in the title, the phone layout on the conversation, and
    # what thread.js needs to fetch the pane and scroll to the item; not the thread.
    assert "<title>Ada &lt;b&gt;Lovelace&lt;/b&gt; · Inbox · Inbox Hub</title>" in html
    assert 'data-pane="conversation"' in html
    assert (
        f'id="pane-deferred" data-conversation-id="{c.id}"\n'
        f'     data-target-item="message:{m.id}" aria-busy="true">'
    ) in html
    assert "the words of the thread" not in html
    full = f"/inbox/conversations/{c.id}?view=all&amp;full=1&amp;item=message:{m.id}"
    assert f'<noscript><p><a href="{full}">' in html
    inline = await (await client.get(full.replace("&amp;", "&"), headers=HTML)).text()
    assert "the words of the thread" in inline and "pane-deferred" not in inline


@pytest.mark.parametrize(
    ("content_type", "filename", "inline"),
    [
        ("image/png", "photo.png", True),
        ("audio/ogg", "voice.ogg", True),
        ("image/svg+xml", "drawing.svg", False),
        ("application/pdf", "invoice.pdf", False),
    ],
)
async def test_files_are_inline_only_for_safe_media(
    client: Client,
    make_user: MakeUser,
    factory: Factory,
    settings: Settings,
    content_type: str,
    filename: str,
    inline: bool,
) -> None:
    await _owner(client, make_user)
    c = await _conversation(factory)
    m = await factory.message(c, "a file")
    sha = await media_store_of(client.app, settings).put(b"bytes of " + filename.encode())
    attachment = Attachment(
        message_id=m.id, sha256=sha, filename=filename, content_type=content_type, size=9
    )
    await factory.add(attachment)
    response = await client.get(f"/inbox/files/{attachment.id}")
    assert response.status == 200
    assert await response.read() == b"bytes of " + filename.encode()
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("inline" if inline else "attachment"), disposition
    assert "sandbox" in response.headers["Content-Security-Policy"]
    download = await client.get(f"/inbox/files/{attachment.id}?download=1")
    assert download.headers["Content-Disposition"].startswith("attachment")
    html = await _page(client, c.id)
    kind = {"image/png": "image", "audio/ogg": "audio"}.get(content_type, "file")
    assert f'class="file file-{kind}"' in html


async def test_a_hidden_conversations_files_and_pane_are_404(
    client: Client, make_user: MakeUser, factory: Factory, settings: Settings
) -> None:
    other = await make_user("other@example.com", name="Other", role="agent")
    await make_user("restricted@example.com", name="R", role="agent", visibility="assigned")
    await log_in_page(client, "restricted@example.com")
    c = await _conversation(factory, assignee_id=other.id)
    m = await factory.message(c, "secret")
    sha = await media_store_of(client.app, settings).put(b"secret bytes")
    attachment = Attachment(
        message_id=m.id, sha256=sha, filename="s.png", content_type="image/png", size=12
    )
    await factory.add(attachment)
    for path in (
        f"/inbox/files/{attachment.id}",
        "/inbox/files/999999",
        f"/inbox/conversations/{c.id}",
        f"/inbox/conversations/{c.id}?full=1",
        f"/inbox/conversations/{c.id}/assignees",
    ):
        response = await client.get(path, headers=HTML)
        assert response.status == 404, path
        assert "secret" not in await response.text()


async def test_the_assignee_picker_lists_active_people_and_teams(
    client: Client, make_user: MakeUser, factory: Factory, db: Sessions
) -> None:
    owner = await _owner(client, make_user)
    ben = await make_user("ben@example.com", name="Ben <b>Agent</b>", role="agent")
    gone = await make_user("gone@example.com", name="Gone Agent", role="agent")
    async with db() as session:
        (await session.get_one(User, gone.id)).is_active = False
        await session.commit()
    team = await factory.team("Support", members=[ben])
    c = await _conversation(factory, assignee_id=ben.id)
    response = await client.get(f"/inbox/conversations/{c.id}/assignees", headers=HTML)
    assert response.status == 200
    html = await response.text()
    _inert(html)
    assert f'value="user:{ben.id}" data-team-ids="{team.id} " selected' in html
    assert "Ben &lt;b&gt;Agent&lt;/b&gt;" in html
    assert f'value="user:{owner.id}"' in html and "Olive Owner (me)" in html
    assert "Gone Agent" not in html
    assert f'value="team:{team.id}"' in html


async def test_the_header_offers_what_the_state_allows(
    client: Client, make_user: MakeUser, factory: Factory, db: Sessions
) -> None:
    await make_user("agent@example.com", name="Agent", role="agent", visibility="all")
    await log_in_page(client, "agent@example.com")
    c = await _conversation(factory, status="snoozed", snoozed_until=utcnow() + timedelta(hours=1))
    head = await (await client.get(f"/inbox/conversations/{c.id}/head", headers=HTML)).text()
    assert 'data-action="unsnooze"' in head and 'data-action="snooze"' not in head
    assert 'data-action="close"' in head and 'data-action="assign"' in head
    assert 'data-action="block"' in head  # an agent who sees everything may block
    async with db() as session:
        row = await session.get_one(Conversation, c.id)
        row.status = "closed"
        await session.commit()
    head = await (await client.get(f"/inbox/conversations/{c.id}/head", headers=HTML)).text()
    assert 'data-action="reopen"' in head and 'data-action="close"' not in head
