"""An email conversation in the browser: the HTML shown safely (a script and an
onerror in the mail do nothing), the quoted history and signature folded, an inline
(cid) image in place, a remote image not even requested until "Show remote images"
(then loaded in a sandboxed frame), an auto-reply's badge, who else was on the mail,
a bounce's code on a failed reply, and a reply with its subject and CC reaching the
API. Screenshots at desktop and phone width.

The email plugin is not finished on this branch, so its channel type is given a config
that takes anything, copies (``cc``), and a ``send`` that accepts every message; it
never polls. Everything else — the hub, the store, the browser — is real. Remote
images are served by Playwright's router for ``https://images.example.test``, which also
counts who asked for them.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from hub_email.channel import EmailChannel
from playwright.sync_api import Page, Route, expect
from pydantic import BaseModel, ConfigDict
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub import appkeys
from hub.contract import OutboundMessage
from hub.contract.channel import Capabilities
from hub.media.store import media_store_of
from hub.store.models import (
    Attachment,
    Channel,
    Contact,
    ContactIdentity,
    Conversation,
    Message,
)
from hub.store.types import utcnow
from tests.browser.conftest import log_in
from tests.browser.harness import LiveHub, wait_for
from tests.browser.test_accessibility import PAGE_PROBLEMS


def png(width: int, height: int, rgb: tuple[int, int, int]) -> bytes:
    """A plain PNG of one colour, big enough to see in a screenshot."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    row = b"\x00" + bytes(rgb) * width
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(row * height))
        + chunk(b"IEND", b"")
    )


LABEL = png(160, 60, (66, 120, 200))
BANNER = png(240, 60, (220, 90, 60))
REMOTE = "https://images.example.test/banner.png"
MAIL_HTML = (
    "<p>Hello, my order <b>42</b> has not arrived.</p>"
    '<p>Photo of the label: <img src="cid:label@mail.example" alt="label"></p>'
    f'<p><img src="{REMOTE}" alt="Acme banner" width="240" height="60"></p>'
    '<script>window.pwned = "script"</script>'
    '<img src="x" onerror="window.pwned = \'onerror\'">'
    '<div class="gmail_signature">Ada Lovelace<br>Analytical Engines Ltd</div>'
    '<div class="gmail_quote">On Mon, Acme Support wrote:'
    "<blockquote>Your order 42 has shipped.</blockquote></div>"
)


class _AnyConfig(BaseModel):
    model_config = ConfigDict(extra="allow")


async def _accept(self: EmailChannel, message: OutboundMessage) -> str:
    return f"sent-{message.idempotency_key}@test"


@pytest.fixture(autouse=True)
def email_type(monkeypatch: pytest.MonkeyPatch) -> None:
    """The email type as the finished plugin will be: subjects, copies, sending."""
    monkeypatch.setattr(EmailChannel, "Config", _AnyConfig)
    monkeypatch.setattr(
        EmailChannel, "capabilities", Capabilities(media={"image": 10**7}, subject=True, cc=True)
    )
    monkeypatch.setattr(EmailChannel, "send", _accept)
    monkeypatch.setattr(EmailChannel, "polls", lambda self: False)


def _seed(hub: LiveHub) -> dict[str, int]:
    """An email conversation: the customer's mail (HTML, inline image, remote image,
    signature, quote, CC), our reply that bounced, and their auto-reply."""
    store = media_store_of(hub.app, hub.settings)

    async def seed(db: AsyncSession) -> dict[str, int]:
        sha = await store.put(LABEL)
        channel = Channel(
            type="email",
            name="Acme Support mail",
            config_encrypted=hub.app[appkeys.CIPHER].encrypt({}),
        )
        contact = Contact(name="Ada Lovelace", email="ada@example.com")
        db.add_all([channel, contact])
        await db.flush()
        db.add(
            ContactIdentity(
                contact_id=contact.id, channel_id=channel.id, external_id="ada@example.com"
            )
        )
        now = utcnow()
        conversation = Conversation(
            contact_id=contact.id,
            channel_id=channel.id,
            status="open",
            subject="Order 42 has not arrived",
            contact_blocked=False,
            opened_at=now,
            status_changed_at=now,
            last_message_at=now,
            last_message_direction="in",
        )
        db.add(conversation)
        await db.flush()

        def message(minutes: int, text: str, **kwargs: Any) -> Message:
            row = Message(
                conversation_id=conversation.id,
                channel_id=channel.id,
                direction=kwargs.pop("direction", "in"),
                status=kwargs.pop("status", "received"),
                text=text,
                created_at=now - timedelta(minutes=minutes),
                **kwargs,
            )
            db.add(row)
            return row

        mail = message(
            30,
            "Hello, my order 42 has not arrived.",
            subject="Order 42 has not arrived",
            envelope={
                "to": ["Acme Support <help@acme.test>"],
                "cc": ["Bob Stone <bob@example.com>", "eve@example.com"],
            },
        )
        bounced = message(
            20,
            "Could you send me your address again?",
            direction="out",
            status="failed",
            sender_user_id=hub.users["owner@example.com"].id,
            subject="Re: Order 42 has not arrived",
            failure_reason="550 5.1.1 <ada@example.org>: Recipient address rejected: User unknown",
            error_code="5.1.1",
        )
        auto = message(
            10,
            "I am out of the office until Monday.",
            subject="Automatic reply: Order 42 has not arrived",
            automated="auto_reply",
        )
        await db.flush()
        label = Attachment(
            message_id=mail.id,
            sha256=sha,
            filename="label.png",
            content_type="image/png",
            size=len(LABEL),
        )
        db.add(label)
        await db.flush()
        mail.parts = [
            {"kind": "text", "text": mail.text, "html": MAIL_HTML},
            {
                "kind": "media",
                "media_kind": "image",
                "content_id": "label@mail.example",
                "filename": "label.png",
                "attachment_id": label.id,
            },
        ]
        await db.commit()
        return {
            "conversation": conversation.id,
            "mail": mail.id,
            "bounced": bounced.id,
            "auto": auto.id,
            "label": label.id,
        }

    return hub.query(seed)


@pytest.fixture
def remote_requests(page: Page) -> Iterator[list[str]]:
    """The remote image's requests, answered with a PNG by Playwright's router."""
    asked: list[str] = []

    def answer(route: Route) -> None:
        asked.append(route.request.url)
        route.fulfill(status=200, content_type="image/png", body=BANNER)

    page.context.route("https://images.example.test/**", answer)
    yield asked


def _natural_width(page: Page, selector: str) -> int:
    return int(page.eval_on_selector(selector, "img => img.complete ? img.naturalWidth : 0"))


def test_an_email_is_shown_safely_with_its_images_badges_and_recipients(
    page: Page, hub: LiveHub, remote_requests: list[str], snap: Callable[[str], None]
) -> None:
    hub.add_user("owner@example.com", role="owner", name="Olive Owner")
    ids = _seed(hub)
    log_in(page, "owner@example.com")
    page.goto(f"/inbox/conversations/{ids['conversation']}")
    mail = page.locator(f"#message-{ids['mail']}")
    expect(mail.get_by_text("has not arrived.")).to_be_visible()

    # Inert: neither the script nor the onerror ran.
    assert page.evaluate("window.pwned") is None
    # The quoted history and the signature are folded, one click away.
    quoted = mail.locator("details.quoted")
    expect(quoted.get_by_text("Your order 42 has shipped.")).to_be_hidden()
    expect(mail.locator("details.signature").get_by_text("Analytical Engines Ltd")).to_be_hidden()
    # Who else was on the mail: short, then every address.
    envelope = mail.locator("details.email-envelope")
    expect(envelope.locator("summary")).to_contain_text("to Acme Support, cc Bob Stone +1")
    expect(envelope.get_by_text("eve@example.com", exact=False)).to_be_hidden()
    envelope.locator("summary").click()
    expect(envelope.get_by_text("eve@example.com", exact=False)).to_be_visible()
    # The inline image is the stored file, shown in place, not listed again below.
    inline = f"#message-{ids['mail']} .email-body img[alt=label]"
    expect(page.locator(inline)).to_have_attribute("src", f"/inbox/files/{ids['label']}")
    wait_for(lambda: _natural_width(page, inline) == 160, "the inline image rendered")
    expect(mail.locator(".files")).to_have_count(0)
    # The remote image: a placeholder, and nobody asked the remote server for it.
    expect(mail.locator("img[alt='Acme banner']")).to_have_attribute(
        "src", "/static/inbox/remote-image.svg"
    )
    assert remote_requests == []
    # The auto-reply's badge, the bounce's words and code.
    expect(page.locator(f"#message-{ids['auto']} .automated-badge")).to_have_text("Auto-reply")
    failure = page.locator(f"#message-{ids['bounced']} .failure")
    expect(failure).to_contain_text("Recipient address rejected: User unknown")
    expect(failure.locator(".failure-code")).to_have_text("5.1.1")
    assert page.evaluate(PAGE_PROBLEMS) == []
    snap("desktop")
    mail.get_by_role("button", name="Show remote images").scroll_into_view_if_needed()
    snap("desktop-badges")

    # Asked for, the remote image loads — in the sandboxed frame, which runs no script.
    quoted.locator("summary").click()
    mail.get_by_role("button", name="Show remote images").click()
    frame_element = mail.locator("iframe.email-frame")
    expect(frame_element).to_have_attribute(
        "sandbox", "allow-same-origin allow-popups allow-popups-to-escape-sandbox"
    )
    frame = page.frame_locator(f"#message-{ids['mail']} iframe.email-frame")
    expect(frame.get_by_text("has not arrived.")).to_be_visible()
    wait_for(lambda: REMOTE in remote_requests, "the remote image was requested")
    banner = frame.locator("img[alt='Acme banner']")
    expect(banner).to_have_attribute("src", REMOTE)
    wait_for(lambda: banner.evaluate("img => img.naturalWidth") == 240, "the remote image rendered")
    expect(frame.locator("img[alt=label]")).to_have_attribute("src", f"/inbox/files/{ids['label']}")
    content = page.frame(url=lambda url: "/email?images=1" in url)
    assert content is not None and content.evaluate("window.pwned") is None
    assert page.evaluate("window.pwned") is None
    # Sized to its content: the whole mail visible without a scrollbar of its own.
    wait_for(
        lambda: frame_element.evaluate("f => f.getBoundingClientRect().height") > 100,
        "the frame fitted",
    )
    snap("remote-images")
    # A live update re-renders the timeline (here: an internal comment): the images the
    # agent asked for stay shown.
    page.get_by_label("Internal comment").check()
    page.locator("#composer").get_by_label("Message").fill("Label looks fine to me")
    page.locator("#composer").get_by_role("button", name="Send").click()
    expect(page.locator(".item.comment").last).to_contain_text("Label looks fine to me")
    expect(frame.locator("img[alt='Acme banner']")).to_have_attribute("src", REMOTE)
    expect(mail.get_by_role("button", name="Show remote images")).to_have_count(0)


def test_a_reply_takes_its_subject_and_cc_to_the_api(
    page: Page, hub: LiveHub, snap: Callable[[str], None]
) -> None:
    hub.add_user("owner@example.com", role="owner", name="Olive Owner")
    ids = _seed(hub)
    log_in(page, "owner@example.com")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"/inbox/conversations/{ids['conversation']}")
    composer = page.locator("#composer")
    subject = composer.get_by_label("Subject")
    # The latest subject of a person's mail (not the auto-reply's), with one Re:.
    expect(subject).to_have_value("Re: Order 42 has not arrived")
    subject.fill("Re: Order 42 (replacement)")
    # The CC field is folded behind its button until wanted.
    expect(composer.get_by_label("Cc")).to_be_hidden()
    composer.get_by_role("button", name="Cc").click()
    expect(composer.get_by_label("Cc")).to_be_focused()
    composer.get_by_label("Cc").fill("bob@example.com, Eve@Example.com")
    composer.get_by_label("Message").fill("Sorry about that, a new one is on its way.")
    # The accessibility floor at phone width, with every email part on the page.
    assert page.evaluate(PAGE_PROBLEMS) == []
    # The conversation has the phone's screen (no top bar): the thread keeps room beside
    # an email's subject, copy and message fields.
    expect(page.locator("header.topbar")).to_be_hidden()
    box = page.locator("#timeline").bounding_box()
    assert box is not None and box["height"] >= 200, box
    snap("phone-composer")
    composer.get_by_role("button", name="Send").click()
    expect(page.locator(".item.outgoing").last).to_contain_text("a new one is on its way")

    def stored() -> Message | None:
        async def latest(db: AsyncSession) -> Message | None:
            return await db.scalar(
                select(Message)
                .where(Message.direction == "out")
                .order_by(Message.id.desc())
                .limit(1)
            )

        return hub.query(latest)

    wait_for(lambda: (m := stored()) is not None and m.id != ids["bounced"], "the reply was stored")
    reply = stored()
    assert reply is not None
    assert reply.subject == "Re: Order 42 (replacement)"
    assert reply.envelope == {"cc": ["bob@example.com", "Eve@Example.com"]}
    # The reply shows who got a copy; the CC field is empty for the next one.
    expect(page.locator(f"#message-{reply.id} details.email-envelope summary")).to_contain_text(
        "to Ada Lovelace, cc bob@example.com +1"
    )
    expect(composer.get_by_label("Cc")).to_be_hidden()
    expect(composer.get_by_label("Cc")).to_have_value("")
    # A bad address is refused by the hub, naming it; nothing is sent.
    composer.get_by_role("button", name="Cc").click()
    composer.get_by_label("Cc").fill("bob@example")
    composer.get_by_label("Message").fill("Another one")
    composer.get_by_role("button", name="Send").click()
    expect(composer.locator(".composer-error")).to_have_text(
        "Cc: 'bob@example' is not an email address: one address like name@example.com"
    )
    assert stored() is not None and stored().id == reply.id  # type: ignore[union-attr]
    page.locator(f"#message-{ids['mail']}").scroll_into_view_if_needed()
    # The page itself never scrolls: nothing in the thread lengthens it past the screen.
    assert page.evaluate("document.documentElement.scrollHeight") <= 844
    snap("phone-thread")
