"""Sending replies through a real SMTP server (aiosmtpd): the mail as received, the
envelope, the SMTP security modes, and each failure as the outbox sees it."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from hub.contract import (
    BadCredentials,
    ChannelContext,
    OutboundAttachment,
    OutboundMessage,
    PermanentFailure,
    RetryLater,
)
from hub.testing.files import MemoryFiles
from smtp_server import PASSWORD, USERNAME, SmtpServers, free_port, smtp, smtp_servers

from hub_email.channel import EmailChannel
from hub_email.config import EmailConfig

__all__ = ["smtp", "smtp_servers"]  # the fixtures this module uses

CHANNEL_ID = 7


def config_for(servers: SmtpServers, **overrides: Any) -> EmailConfig:
    """A channel sending through the plain test server, logged in, unencrypted."""
    sample: dict[str, Any] = {
        "imap_host": "127.0.0.1",
        "imap_username": "support@example.com",
        "imap_password": "unused",
        "smtp_host": "127.0.0.1",
        "smtp_port": servers.plain.port,
        "smtp_security": "none",
        "smtp_username": USERNAME,
        "smtp_password": PASSWORD,
        "from_address": "support@acme.example.com",
        "from_name": "Acme Support",
    }
    return EmailConfig(**{**sample, **overrides})


def outbound(key: str = "key-1", **fields: Any) -> OutboundMessage:
    """A reply to ana@example.com, with ``fields`` replaced."""
    sample: dict[str, Any] = {
        "message_id": 1,
        "conversation_id": 1,
        "recipient_id": "ana@example.com",
        "idempotency_key": key,
        "text": "Hello Ana,\n\nyour order ships today.\nBest, Acme",
        "subject": "Your order",
    }
    return OutboundMessage(**{**sample, **fields})


async def send(
    config: EmailConfig, message: OutboundMessage, files: MemoryFiles | None = None
) -> str:
    async with httpx.AsyncClient() as http:
        context = ChannelContext(
            channel_id=CHANNEL_ID, webhook_url="https://hub.example/w/7", http=http, files=files
        )
        return await EmailChannel(config, context).send(message)


async def test_a_reply_arrives_with_its_headers_and_the_returned_message_id(
    smtp: SmtpServers,
) -> None:
    external_id = await send(config_for(smtp), outbound())
    [received] = smtp.plain.messages
    mail = received.message
    assert mail["Message-ID"] == f"<{external_id}>"
    assert external_id.endswith("@acme.example.com")
    assert str(mail["From"]) == "Acme Support <support@acme.example.com>"
    assert str(mail["To"]) == "ana@example.com"
    assert mail["Subject"] == "Your order"
    assert mail["Date"] is not None
    assert mail["In-Reply-To"] is None
    body = mail.get_body(("plain",))
    assert body is not None
    assert "your order ships today." in body.get_content()
    assert (received.mail_from, received.rcpt_tos) == (
        "support@acme.example.com",
        ("ana@example.com",),
    )
    assert received.login == USERNAME
    assert b"\r\n" in received.raw and b"\n\n" not in received.raw.replace(b"\r\n", b"")


async def test_the_message_id_is_the_same_for_a_retry_and_differs_per_message(
    smtp: SmtpServers,
) -> None:
    config = config_for(smtp)
    first = await send(config, outbound("key-a"))
    again = await send(config, outbound("key-a"))
    other = await send(config, outbound("key-b"))
    assert first == again != other
    assert [m.message["Message-ID"] for m in smtp.plain.messages] == [
        f"<{first}>",
        f"<{first}>",
        f"<{other}>",
    ]


async def test_a_reply_threads_with_in_reply_to_references_and_one_re(smtp: SmtpServers) -> None:
    message = outbound(
        subject="Re: Your order",
        references=("first@customer.example", "second@acme.example.com"),
        reply_to_external_id="third@customer.example",
    )
    await send(config_for(smtp), message)
    mail = smtp.plain.messages[0].message
    assert mail["In-Reply-To"] == "<third@customer.example>"
    assert str(mail["References"]).split() == [
        "<first@customer.example>",
        "<second@acme.example.com>",
        "<third@customer.example>",
    ]
    assert mail["Subject"] == "Re: Your order"


async def test_a_reply_without_prefix_gets_re_added(smtp: SmtpServers) -> None:
    await send(config_for(smtp), outbound(references=("first@customer.example",)))
    mail = smtp.plain.messages[0].message
    assert mail["Subject"] == "Re: Your order"
    assert mail["In-Reply-To"] == "<first@customer.example>"


async def test_the_mail_has_a_plain_and_an_html_alternative(smtp: SmtpServers) -> None:
    await send(config_for(smtp), outbound(text="Hi <Ana> & co,\n\nsecond paragraph"))
    mail = smtp.plain.messages[0].message
    assert mail.get_content_type() == "multipart/alternative"
    plain, html = mail.get_body(("plain",)), mail.get_body(("html",))
    assert plain is not None and html is not None
    assert "Hi <Ana> & co," in plain.get_content()
    html_text = html.get_content()
    assert "Hi &lt;Ana&gt; &amp; co," in html_text
    assert html_text.count("<p>") == 2


async def test_attachments_arrive_byte_for_byte(smtp: SmtpServers) -> None:
    files = MemoryFiles()
    pdf = bytes(range(256)) * 40 + b"%%EOF"
    attachments = (
        files.attachment(pdf, filename="Rechnung März.pdf", content_type="application/pdf"),
        files.attachment(
            b"\x89PNG\r\n\x1a\n" + b"\0" * 99, filename="a.png", content_type="image/png"
        ),
    )
    await send(config_for(smtp), outbound(attachments=attachments), files)
    mail = smtp.plain.messages[0].message
    got = {part.get_filename(): part.get_content() for part in mail.iter_attachments()}
    assert got == {"Rechnung März.pdf": pdf}
    # The picture shows in the mail itself: a related part the HTML names by Content-ID.
    [image] = [part for part in mail.walk() if part.get_content_type() == "image/png"]
    assert image.get_filename() == "a.png"
    assert image.get_content() == b"\x89PNG\r\n\x1a\n" + b"\0" * 99
    html = mail.get_body(("html",))
    assert html is not None
    assert f'src="cid:{image["Content-ID"].strip("<>")}"' in html.get_content()


async def test_an_attachment_the_store_lost_fails_the_message_and_sends_nothing(
    smtp: SmtpServers,
) -> None:
    gone = OutboundAttachment(
        filename="gone.pdf", content_type="application/pdf", size=3, sha256="0" * 64
    )
    with pytest.raises(PermanentFailure) as caught:
        await send(config_for(smtp), outbound(attachments=(gone,)), MemoryFiles())
    assert caught.value.code == "attachment_missing"
    assert "gone.pdf" in caught.value.message
    assert smtp.plain.messages == []


async def test_cc_is_in_the_headers_and_the_envelope_each_address_once(smtp: SmtpServers) -> None:
    message = outbound(cc=("Bob <Bob@Example.com>", "carol@example.org", "ANA@example.com"))
    await send(config_for(smtp), message)
    [received] = smtp.plain.messages
    assert received.rcpt_tos == ("ana@example.com", "bob@example.com", "carol@example.org")
    assert "carol@example.org" in str(received.message["Cc"])
    assert "Bob@Example.com" in str(received.message["Cc"])


async def test_the_agent_name_goes_in_from_when_the_channel_says_so(smtp: SmtpServers) -> None:
    message = outbound(sender_name="Ana Agent")
    await send(config_for(smtp, agent_name_in_from=True), message)
    await send(config_for(smtp), outbound("key-2", sender_name="Ana Agent"))
    first, second = (m.message for m in smtp.plain.messages)
    assert str(first["From"]) == "Ana Agent via Acme Support <support@acme.example.com>"
    assert str(second["From"]) == "Acme Support <support@acme.example.com>"


async def test_a_relay_without_login_is_used_without_auth(smtp: SmtpServers) -> None:
    await send(config_for(smtp, smtp_username=None, smtp_password=None), outbound())
    assert [m.login for m in smtp.plain.messages] == [None]


@pytest.mark.parametrize("security", ["starttls", "tls"])
async def test_the_mail_travels_encrypted_when_the_settings_say_so(
    smtp: SmtpServers, security: str
) -> None:
    server = smtp.tls if security == "tls" else smtp.plain
    await send(config_for(smtp, smtp_security=security, smtp_port=server.port), outbound())
    assert [(m.tls, m.login) for m in server.messages] == [(True, USERNAME)]


@pytest.mark.parametrize("command", ["MAIL", "RCPT", "DATA"])
async def test_a_4xx_reply_is_retry_later_with_the_servers_words(
    smtp: SmtpServers, command: Any
) -> None:
    smtp.plain.fail_next(command, "451 4.7.1 Greylisted, please try again later")
    with pytest.raises(RetryLater) as caught:
        await send(config_for(smtp), outbound())
    assert "451 4.7.1 Greylisted, please try again later" in str(caught.value)
    assert str(caught.value).startswith(f"SMTP server 127.0.0.1:{smtp.plain.port}: ")
    assert " refused: 451 " in str(caught.value)
    assert smtp.plain.messages == []


@pytest.mark.parametrize("command", ["MAIL", "RCPT", "DATA"])
async def test_a_5xx_reply_is_a_permanent_failure_with_the_servers_words(
    smtp: SmtpServers, command: Any
) -> None:
    smtp.plain.fail_next(command, "550 5.7.1 Message rejected as spam")
    with pytest.raises(PermanentFailure) as caught:
        await send(config_for(smtp), outbound())
    assert caught.value.code == "smtp_5xx"
    assert "550 5.7.1 Message rejected as spam" in caught.value.message
    assert smtp.plain.messages == []


@pytest.mark.parametrize(
    ("reply", "error"),
    [("421 4.3.2 Try again later", RetryLater), ("554 5.7.1 No", BadCredentials)],
)
async def test_a_refused_ehlo_is_the_server_or_the_settings_not_the_message(
    smtp: SmtpServers, reply: str, error: type[Exception]
) -> None:
    smtp.plain.fail_next("EHLO", reply)
    with pytest.raises(error) as caught:
        await send(config_for(smtp), outbound())
    assert str(caught.value) == f"SMTP server 127.0.0.1:{smtp.plain.port}: EHLO refused: {reply}"
    assert smtp.plain.messages == []


async def test_one_refused_copy_address_sends_to_no_one(smtp: SmtpServers) -> None:
    config = config_for(smtp)
    smtp.plain.fail_next("RCPT", "550 5.1.1 <nobody@example.org>: Recipient address rejected")
    with pytest.raises(PermanentFailure) as caught:
        await send(config, outbound(cc=("nobody@example.org",)))
    assert "recipient" in caught.value.message
    # The first RCPT was the one refused here; nothing was delivered to the other.
    assert smtp.plain.messages == []
    await send(config, outbound("key-2"))  # the session was reset: the next mail goes
    assert len(smtp.plain.messages) == 1


async def test_a_mail_over_the_servers_size_fails_before_sending(smtp: SmtpServers) -> None:
    smtp.plain.size_limit = 50_000
    files = MemoryFiles()
    big = files.attachment(
        b"x" * 60_000, filename="big.bin", content_type="application/octet-stream"
    )
    with pytest.raises(PermanentFailure) as caught:
        await send(config_for(smtp), outbound(attachments=(big,)), files)
    assert caught.value.code == "smtp_size"
    assert "accepts at most 0.1 MB" in caught.value.message
    assert smtp.plain.messages == []


async def test_an_international_domain_travels_in_its_ascii_form(smtp: SmtpServers) -> None:
    await send(config_for(smtp), outbound(recipient_id="ana@bücher.de"))
    [received] = smtp.plain.messages
    assert received.rcpt_tos == ("ana@xn--bcher-kva.de",)
    assert str(received.message["To"]) == "ana@xn--bcher-kva.de"
    assert "SMTPUTF8" not in received.mail_options
    assert received.raw.isascii()


async def test_a_non_ascii_local_part_goes_with_smtputf8(smtp: SmtpServers) -> None:
    await send(config_for(smtp), outbound(cc=("jörg@example.com",), subject="Grüße"))
    [received] = smtp.plain.messages
    assert received.rcpt_tos == ("ana@example.com", "jörg@example.com")
    assert "SMTPUTF8" in received.mail_options
    assert str(received.message["Cc"]) == "jörg@example.com"
    assert received.message["Subject"] == "Grüße"


async def test_a_non_ascii_local_part_fails_clearly_without_smtputf8(smtp: SmtpServers) -> None:
    smtp.plain.smtputf8 = False
    with pytest.raises(PermanentFailure) as caught:
        await send(config_for(smtp), outbound(cc=("jörg@example.com",)))
    assert caught.value.code == "smtp_utf8"
    assert "jörg@example.com" in caught.value.message
    assert smtp.plain.messages == []


async def test_a_recipient_that_is_no_address_fails_the_message(smtp: SmtpServers) -> None:
    with pytest.raises(PermanentFailure) as caught:
        await send(config_for(smtp), outbound(cc=("not an address",)))
    assert caught.value.code == "bad_address"
    assert smtp.plain.messages == []


async def test_an_unreachable_server_is_retry_later(smtp: SmtpServers) -> None:
    port = free_port()  # nothing listens there
    with pytest.raises(RetryLater) as caught:
        await send(config_for(smtp, smtp_port=port), outbound())
    assert str(caught.value) == (
        f"SMTP server 127.0.0.1:{port}: TCP connection failed: Connection refused"
    )


@pytest.mark.parametrize(
    ("typed", "stored"),
    [("Ana@Example.COM", "ana@example.com"), (" Ana Lima <ana@example.com> ", "ana@example.com")],
)
def test_address_of_gives_the_lower_cased_address(typed: str, stored: str) -> None:
    assert EmailChannel.address_of(typed) == stored


@pytest.mark.parametrize(
    "typed", ["ana", "ana@localhost", "a@x.com, b@y.com", "a@x.com\r\nBcc: b@y.com"]
)
def test_address_of_refuses_what_is_not_one_address(typed: str) -> None:
    with pytest.raises(ValueError, match="not"):
        EmailChannel.address_of(typed)
