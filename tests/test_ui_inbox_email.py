"""Emails in the conversation pane over HTTP: who they went to, a machine's badge, a
bounce's code on the failed reply, inline images in place, remote images held back,
folded signatures, subjects only where they change; and the sandboxed frame that shows
an email with its remote images."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp.test_utils import TestClient

from hub.store.models import Attachment, Conversation, User
from tests.factories import Factory
from tests.ui_helpers import HTML, log_in_page

Client = TestClient[Any, Any]
MakeUser = Callable[..., Awaitable[User]]


async def _email_conversation(
    client: Client, make_user: MakeUser, factory: Factory
) -> Conversation:
    await make_user("owner@example.com", name="Olive Owner", role="owner")
    await log_in_page(client, "owner@example.com")
    channel = await factory.channel("email", name="Support mail")
    contact = await factory.contact("Ada Lovelace", email="ada@example.com")
    return await factory.conversation(channel, contact, subject="Order 42")


def _article(html: str, message_id: int) -> str:
    return html.split(f'id="message-{message_id}"', 1)[1].split("</article>", 1)[0]


async def _page(client: Client, conversation_id: int) -> str:
    response = await client.get(f"/inbox/conversations/{conversation_id}?full=1", headers=HTML)
    assert response.status == 200, await response.text()
    return await response.text()


async def test_recipients_badge_bounce_code_and_subjects(
    client: Client, make_user: MakeUser, factory: Factory
) -> None:
    c = await _email_conversation(client, make_user, factory)
    first = await factory.message(
        c,
        "Where is my order?",
        subject="Order 42",
        envelope={"to": ["Support <help@acme.test>"], "cc": ["bob@example.com", "eve@x.test"]},
    )
    again = await factory.message(c, "Any news?", subject="Re: RE: order 42")
    auto = await factory.message(c, "I am away", subject="Out of office", automated="auto_reply")
    failed = await factory.message(
        c,
        "Here it is",
        direction="out",
        status="failed",
        failure_reason="user unknown",
        error_code="5.1.1",
        envelope={"cc": ["bob@example.com"]},
    )
    html = await _page(client, c.id)
    head = _article(html, first.id)
    assert "to Support" in head and "cc bob@example.com +1" in head
    assert "help@acme.test" in head and "eve@x.test" in head  # the full list, folded
    assert "Ada Lovelace &lt;ada@example.com&gt;" in head
    assert "message-subject" in head
    assert "message-subject" not in _article(html, again.id)  # same thread, no repeat
    assert "Out of office" in _article(html, auto.id)
    badge = 'class="automated-badge automated-auto_reply" title="Sent automatically'
    assert badge in _article(html, auto.id) and ">Auto-reply</p>" in _article(html, auto.id)
    out = _article(html, failed.id)
    assert "user unknown" in out and '<code class="failure-code"' in out and "5.1.1" in out
    assert "to Ada Lovelace" in out and "cc bob@example.com" in out


async def test_inline_images_remote_images_and_signature(
    client: Client, make_user: MakeUser, factory: Factory
) -> None:
    c = await _email_conversation(client, make_user, factory)
    m = await factory.message(c, "see the logo")
    logo = Attachment(
        message_id=m.id, sha256="1" * 64, filename="logo.png", content_type="image/png", size=3
    )
    await factory.add(logo)
    m.parts = [
        {
            "kind": "text",
            "text": "see the logo",
            "html": '<p>Logo: <img src="cid:logo@acme" alt="logo"> <img src="cid:late@acme">'
            '<img src="https://tracker.test/open.gif" onerror="alert(1)"></p>'
            '<div class="gmail_signature">Ada, Acme Ltd</div>',
        },
        {
            "kind": "media",
            "media_kind": "image",
            "content_id": "logo@acme",
            "attachment_id": logo.id,
        },
        {"kind": "media", "media_kind": "image", "content_id": "late@acme"},
    ]
    await factory.add(m)
    html = _article(await _page(client, c.id), m.id)
    assert f'<img src="/inbox/files/{logo.id}" alt="logo">' in html
    assert "/static/inbox/inline-image.svg" in html  # late@acme: no file yet
    assert "tracker.test" not in html and "/static/inbox/remote-image.svg" in html
    assert "onerror" not in html
    assert f'data-remote-images="/inbox/messages/{m.id}/email?images=1"' in html
    assert '<details class="signature"><summary>Show signature</summary>' in html
    assert 'class="file file-image"' not in html  # shown in place, not listed again

    frame = await client.get(f"/inbox/messages/{m.id}/email?images=1")
    assert frame.status == 200
    csp = frame.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "img-src 'self' https: data:" in csp
    assert "script-src" not in csp and "sandbox" in csp
    assert frame.headers["X-Frame-Options"] == "SAMEORIGIN"
    body = await frame.text()
    assert 'src="https://tracker.test/open.gif"' in body and "onerror" not in body
    assert f'src="/inbox/files/{logo.id}"' in body and '<base target="_blank">' in body
    blocked = await (await client.get(f"/inbox/messages/{m.id}/email")).text()
    assert "tracker.test" not in blocked


async def test_the_frame_of_a_missing_message_is_404(
    client: Client, make_user: MakeUser, factory: Factory
) -> None:
    await _email_conversation(client, make_user, factory)
    assert (await client.get("/inbox/messages/987654/email", headers=HTML)).status == 404
