"""Outbound mail: Message-IDs, headers, bodies and attachments, and the round trip
through the inbound parser."""

from __future__ import annotations

from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
from hub.contract import InboundMessage, MediaPart, OutboundAttachment, OutboundMessage, TextPart

from hub_email.compose import build_mail, is_hub_message_id, message_id_for
from hub_email.parse import extract_part, parse_mail

NOW = datetime(2026, 11, 20, 12, 30, tzinfo=UTC)
FROM = "support@acme.example"


def outbound(**fields: object) -> OutboundMessage:
    base: dict[str, object] = {
        "message_id": 11,
        "conversation_id": 3,
        "recipient_id": "petra@kunde.example",
        "idempotency_key": "key-11",
        "text": "Hello Petra,\n\nyour order ships today.\nDetails: https://acme.example/o/1.",
    }
    base.update(fields)
    return OutboundMessage(**base)  # type: ignore[arg-type]


def build(
    message: OutboundMessage,
    attachments: list[tuple[OutboundAttachment, bytes]] | None = None,
    **options: object,
) -> EmailMessage:
    settings: dict[str, object] = {
        "from_address": FROM,
        "from_name": "Acme Support",
        "agent_name_in_from": False,
        "message_id": message_id_for(7, message.idempotency_key, FROM),
        "attachments": attachments or [],
        "now": NOW,
    }
    settings.update(options)
    return build_mail(message, **settings)  # type: ignore[arg-type]


def reparsed(mail: EmailMessage) -> EmailMessage:
    parsed = message_from_bytes(mail.as_bytes(), policy=policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def test_message_id_is_deterministic_and_distinct() -> None:
    first = message_id_for(7, "key-11", FROM)
    assert first == message_id_for(7, "key-11", "Support@ACME.example")
    assert first.endswith("@acme.example") and "<" not in first
    assert first != message_id_for(7, "key-12", FROM)
    assert first != message_id_for(8, "key-11", FROM)
    assert message_id_for(7, "k", "weird").endswith("@inbox-hub.invalid")
    assert message_id_for(7, "k", "a@bücher.example").endswith("@xn--bcher-kva.example")


def test_new_mail_headers() -> None:
    mail = reparsed(build(outbound(subject="Your order")))
    assert mail["From"] == "Acme Support <support@acme.example>"
    assert mail["To"] == "petra@kunde.example"
    assert mail["Subject"] == "Your order"
    assert mail["Message-ID"] == f"<{message_id_for(7, 'key-11', FROM)}>"
    assert mail["Date"].datetime == NOW
    assert mail["MIME-Version"] == "1.0"
    assert mail["In-Reply-To"] is None and mail["References"] is None
    assert mail["Auto-Submitted"] is None


def test_new_mail_without_subject_gets_none() -> None:
    assert reparsed(build(outbound()))["Subject"] is None


def test_agent_name_in_from() -> None:
    message = outbound(sender_name="Ana")
    assert str(build(message, agent_name_in_from=True)["From"]) == (
        "Ana via Acme Support <support@acme.example>"
    )
    assert str(build(message)["From"]) == "Acme Support <support@acme.example>"
    assert str(build(outbound(), agent_name_in_from=True)["From"]) == (
        "Acme Support <support@acme.example>"
    )


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("Your order", "Re: Your order"),
        ("Re: Your order", "Re: Your order"),
        ("AW: Ihre Bestellung", "AW: Ihre Bestellung"),
        ("Fwd: Invoice", "Re: Fwd: Invoice"),
    ],
)
def test_reply_subject_gets_one_re(subject: str, expected: str) -> None:
    mail = build(outbound(subject=subject, reply_to_external_id="p@kunde.example"))
    assert mail["Subject"] == expected


def test_reply_threading_headers() -> None:
    message = outbound(
        subject="Your order",
        references=("a@x.example", "b@x.example", "c@x.example"),
        reply_to_external_id="b@x.example",
    )
    mail = reparsed(build(message))
    assert mail["In-Reply-To"] == "<b@x.example>"
    assert mail["References"] == "<a@x.example> <c@x.example> <b@x.example>"


def test_reply_to_last_reference_when_none_named() -> None:
    mail = build(outbound(references=("a@x.example", "b@x.example")))
    assert mail["In-Reply-To"] == "<b@x.example>"
    assert mail["References"] == "<a@x.example> <b@x.example>"


def test_references_keep_the_root_and_the_latest_19() -> None:
    ids = tuple(f"m{i}@x.example" for i in range(30))
    mail = build(outbound(references=ids))
    refs = str(mail["References"]).split()
    assert len(refs) == 20
    assert refs[0] == "<m0@x.example>" and refs[1] == "<m11@x.example>"
    assert refs[-1] == "<m29@x.example>"


def test_cc_and_no_header_injection() -> None:
    message = outbound(
        subject="Hi\r\nBcc: evil@attacker.example",
        sender_name="Ana\nX-Evil: 1",
        cc=("lars@kunde.example", "mia@kunde.example"),
    )
    data = build(message, agent_name_in_from=True).as_bytes()
    mail = message_from_bytes(data, policy=policy.default)
    assert mail["Cc"] == "lars@kunde.example, mia@kunde.example"
    assert mail["Bcc"] is None and mail["X-Evil"] is None
    assert mail["Subject"] == "Hi Bcc: evil@attacker.example"


def test_body_is_plain_and_html_alternatives() -> None:
    mail = reparsed(build(outbound()))
    plain = mail.get_body(preferencelist=("plain",))
    html = mail.get_body(preferencelist=("html",))
    assert plain is not None and html is not None
    assert plain.get_content().rstrip("\n") == outbound().text
    content = html.get_content()
    assert "<p>Hello Petra,</p>" in content
    assert "your order ships today.<br>" in content
    assert '<a href="https://acme.example/o/1">https://acme.example/o/1</a>.' in content


def test_html_escapes_the_agent_s_text() -> None:
    html = reparsed(build(outbound(text="<script>x</script> & co")))
    body = html.get_body(preferencelist=("html",))
    assert body is not None
    assert "&lt;script&gt;x&lt;/script&gt; &amp; co" in body.get_content()


def test_attachments_with_non_ascii_names() -> None:
    pdf = OutboundAttachment(
        filename="Rechnung März.pdf", content_type="application/pdf", size=9, sha256="a"
    )
    raw = build(outbound(), [(pdf, b"%PDF-1.4\n")]).as_bytes()
    assert b"filename*=utf-8''Rechnung%20M%C3%A4rz.pdf" in raw
    [attachment] = list(reparsed(build(outbound(), [(pdf, b"%PDF-1.4\n")])).iter_attachments())
    assert attachment.get_filename() == "Rechnung März.pdf"
    assert attachment.get_content() == b"%PDF-1.4\n"


def test_round_trip_through_the_parser() -> None:
    files = [
        (
            OutboundAttachment(
                filename="Lieferschein Ü.pdf", content_type="application/pdf", size=9, sha256="a"
            ),
            b"%PDF-1.4\n",
        ),
        (
            OutboundAttachment(filename="photo.png", content_type="image/png", size=4, sha256="b"),
            b"\x89PNG",
        ),
    ]
    message = outbound(
        subject="Ihre Bestellung",
        text="Grüße aus Köln 👋\n\nSee https://acme.example.",
        references=("root@kunde.example", "parent@kunde.example"),
        cc=("lars@kunde.example",),
        sender_name="José Ñúñez, Jr.",
    )
    raw = build(
        message,
        files,
        from_address="agent@team.example",
        from_name="Équipe Köln",
        agent_name_in_from=True,
    ).as_bytes()
    assert max(raw) < 128  # 7-bit clean: no server needs SMTPUTF8 or 8BITMIME
    [event] = parse_mail(
        raw,
        uidvalidity=3,
        uid=4,
        mailbox_addresses=frozenset({"support@acme.example"}),
        subject_thread_hours=72,
        received_at=None,
    )
    assert isinstance(event, InboundMessage)
    assert event.external_id == message_id_for(7, "key-11", FROM)
    assert event.sender_id == "agent@team.example"
    assert event.sender.name == "José Ñúñez, Jr. via Équipe Köln"
    assert event.subject == "Re: Ihre Bestellung"
    assert event.references == ("parent@kunde.example", "root@kunde.example")
    text, *attached = event.parts
    assert isinstance(text, TextPart)
    assert text.text.rstrip("\n") == message.text
    assert text.html is not None and "Grüße aus Köln 👋" in text.html
    assert all(isinstance(part, MediaPart) for part in attached)
    files_by_name = {part.filename: part for part in attached if isinstance(part, MediaPart)}
    assert sorted(files_by_name) == ["Lieferschein Ü.pdf", "photo.png"]
    # The picture is inline: the HTML shows it through its Content-ID; the PDF is attached.
    photo, pdf = files_by_name["photo.png"], files_by_name["Lieferschein Ü.pdf"]
    assert photo.content_id and f"cid:{photo.content_id}" in text.html
    assert pdf.content_id is None
    sections = [part.provider_media_id or "" for part in (pdf, photo)]
    assert [extract_part(raw, i.split(":", 2)[2]) for i in sections] == [b"%PDF-1.4\n", b"\x89PNG"]
    assert event.envelope is not None and event.envelope.cc == ("lars@kunde.example",)


def test_our_own_sent_mail_is_ignored_when_read_back() -> None:
    raw = build(outbound()).as_bytes()
    assert (
        parse_mail(
            raw,
            uidvalidity=1,
            uid=1,
            mailbox_addresses=frozenset({FROM}),
            subject_thread_hours=72,
            received_at=None,
        )
        == []
    )


def test_hub_message_ids_are_recognized() -> None:
    assert is_hub_message_id(message_id_for(7, "key-11", FROM))
    assert is_hub_message_id(message_id_for(123, "x", "a@Sub.Example.ORG"))
    assert not is_hub_message_id("CAOd2x=Zq8m0@mail.gmail.com")
    assert not is_hub_message_id("hub.7.short@acme.example")
