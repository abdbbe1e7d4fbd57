"""Inbound mail → events: bodies, files, charsets, names, envelope and ids, over the
hand-written fixture corpus (tests/fixtures/*.eml)."""

from __future__ import annotations

import hashlib
import json
import random
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import Message
from pathlib import Path

import pytest
from hub.contract import (
    InboundEvent,
    InboundMessage,
    MediaPart,
    StatusUpdate,
    TextPart,
    UnsupportedPart,
)

from hub_email import mime_body
from hub_email.parse import (
    PARSER_VERSION,
    extract_part,
    parse_headers_only,
    parse_mail,
    unparsed_message,
)

FIXTURES = Path(__file__).parent / "fixtures"
OURS = frozenset({"support@acme.example", "billing@acme.example"})


def raw(name: str) -> bytes:
    """The bytes of one fixture mail."""
    return (FIXTURES / name).read_bytes()


def events(name: str, **overrides: object) -> list[InboundEvent]:
    """The events of one fixture mail, parsed as UID 9 of UIDVALIDITY 5."""
    options: dict[str, object] = {
        "uidvalidity": 5,
        "uid": 9,
        "mailbox_addresses": OURS,
        "subject_thread_hours": 72,
        "received_at": None,
    }
    options.update(overrides)
    return parse_mail(raw(name), **options)  # type: ignore[arg-type]


def message(name: str) -> InboundMessage:
    """The one InboundMessage of a fixture mail."""
    [event] = events(name)
    assert isinstance(event, InboundMessage)
    return event


def text_part(msg: InboundMessage) -> TextPart:
    part = msg.parts[0]
    assert isinstance(part, TextPart)
    return part


def media(msg: InboundMessage) -> list[MediaPart]:
    return [p for p in msg.parts if isinstance(p, MediaPart)]


def test_parser_version_is_a_positive_int() -> None:
    assert isinstance(PARSER_VERSION, int) and PARSER_VERSION >= 1


def test_outlook_reply_keeps_plain_and_html_and_the_sender() -> None:
    msg = message("outlook_reply.eml")
    assert msg.external_id == (
        "DB9PR02MB1234A1B2C3D4E5F6A7B8C9D0@DB9PR02MB1234.eurprd02.prod.outlook.com"
    )
    assert msg.sender_id == "petra.meier@kunde.example"
    assert msg.sender.name == "Meier, Petra"
    assert msg.subject == "RE: Order 1234 arrived damaged"
    part = text_part(msg)
    assert part.text.startswith("Hello,\n\nthe replacement has not arrived yet.")
    assert part.html is not None and 'class="MsoNormal"' in part.html
    assert msg.timestamp == datetime(2026, 11, 3, 9, 14, 58, tzinfo=UTC)
    assert msg.thread_key == f"mid:{msg.external_id}"


def test_gmail_reply_decodes_quoted_printable_and_rfc2047_name() -> None:
    msg = message("gmail_reply.eml")
    assert msg.sender.name == "José García"
    part = text_part(msg)
    assert part.text.startswith("Thanks, that fixed it! \N{THUMBS UP SIGN}")
    assert part.html is not None and 'class="gmail_quote"' in part.html


def test_apple_mail_inline_image_has_its_content_id_and_section() -> None:
    msg = message("apple_mail.eml")
    part = text_part(msg)
    assert "Grüße, Lena" in part.text
    assert part.html is not None and "cid:3F2A1B0C-8D7E-4F6A-9B5C-1D2E3F4A5B6C" in part.html
    [image] = media(msg)
    assert image.media_kind == "image"
    assert image.content_id == "3F2A1B0C-8D7E-4F6A-9B5C-1D2E3F4A5B6C"
    assert image.provider_media_id == "5:9:2.2"
    assert image.filename == "part.png"
    data = extract_part(raw("apple_mail.eml"), "2.2")
    assert data.startswith(b"\x89PNG") and image.size == len(data)


def test_html_only_mail_gets_its_text_from_the_html() -> None:
    msg = message("related_cid.eml")
    part = text_part(msg)
    assert part.text == (
        "The error looks like this:\n\n- first step\n- second step\n\nKind regards,\nAnna & team"
    )
    assert "alert(1)" not in part.text and "color:red" not in part.text
    [image] = media(msg)
    assert image.content_id == "screenshot@shop.example"


def test_rfc2231_and_rfc2047_file_names_and_subject() -> None:
    msg = message("rfc2047_2231_names.eml")
    assert msg.subject == "Rechnung für März \N{EN DASH} bitte prüfen"
    assert msg.sender.name == "Jörg Müller"
    files = media(msg)
    assert [f.filename for f in files] == [
        "Rechnung März \N{EN DASH} Köln.pdf",
        "Lieferschein Übersicht.pdf",
        "Notiz zum Auftrag § 5.txt",
    ]
    assert [f.provider_media_id for f in files] == ["5:9:2", "5:9:3", "5:9:4"]
    assert files[0].mime_type == "application/pdf" and files[0].media_kind == "document"
    assert files[0].size == len(b"%PDF-1.4\n%test invoice\n")
    assert extract_part(raw("rfc2047_2231_names.eml"), "4") == b"Notiz"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("wrong_charset_utf8_latin1.eml", "Grüße aus München, die Straße ist gesperrt."),
        ("ascii_8bit.eml", "Hei! Jeg har bestilt en blå gåsepenn \N{EN DASH} når kommer den?"),
        ("no_charset.eml", "Bonjour, où est ma commande ? Merci €"),
    ],
)
def test_wrong_or_missing_charsets_still_decode(name: str, expected: str) -> None:
    assert text_part(message(name)).text.strip() == expected


def test_raw_utf8_header_without_encoding_is_decoded() -> None:
    msg = message("no_charset.eml")
    assert msg.subject == "Café crème \N{EN DASH} question"
    assert msg.sender.name == "Zoë Dupont"


def test_winmail_dat_is_kept_as_a_document() -> None:
    msg = message("winmail.eml")
    assert "Mit freundlichen Grüßen" in text_part(msg).text
    [tnef] = media(msg)
    assert (tnef.filename, tnef.mime_type, tnef.media_kind) == (
        "winmail.dat",
        "application/ms-tnef",
        "document",
    )
    assert extract_part(raw("winmail.eml"), "2").startswith(b"\x78\x9f\x3e\x22")


def test_envelope_lists_others_and_leaves_our_addresses_out() -> None:
    msg = message("cc_bcc.eml")
    assert msg.envelope is not None
    assert msg.envelope.to == ('"Doe, John" <john@doe.example>',)
    assert msg.envelope.cc == ("Lars <lars@reyes.example>",)
    assert msg.envelope.bcc == ("hidden@reyes.example",)
    assert msg.timestamp.utcoffset() is not None


def test_mail_without_message_id_is_named_by_its_hash() -> None:
    msg = message("no_message_id.eml")
    digest = hashlib.sha256(raw("no_message_id.eml")).hexdigest()
    assert msg.external_id == f"sha256:{digest}"
    assert msg.thread_key == f"mid:sha256:{digest}"


def test_mail_from_our_own_address_gives_no_event() -> None:
    assert events("from_ourselves.eml") == []
    # The same mail in a mailbox that is not ours is an ordinary message.
    assert len(events("from_ourselves.eml", mailbox_addresses=frozenset())) == 1


def test_broken_mime_keeps_the_text_and_every_part() -> None:
    msg = message("broken_mime.eml")
    assert text_part(msg).text == "The text is fine."
    assert [f.filename for f in media(msg)] == ["bad.pdf", "cut.png"]


def test_multipart_without_boundary_keeps_its_text() -> None:
    msg = message("missing_boundary.eml")
    assert "Hello from a mailer that forgot the boundary parameter." in text_part(msg).text


def test_a_part_that_raises_becomes_unsupported_and_the_others_stay(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # No real mail is known to make the library raise inside one part (it records
    # defects instead); force it for one part to prove the isolation.
    real_part_bytes = mime_body.part_bytes

    def failing(part: Message) -> bytes:
        if part.get_filename() == "Lieferschein Übersicht.pdf":
            raise ValueError("cannot decode")
        return real_part_bytes(part)

    monkeypatch.setattr(mime_body, "part_bytes", failing)
    msg = message("rfc2047_2231_names.eml")
    kinds = [type(part).__name__ for part in msg.parts]
    assert kinds == ["TextPart", "MediaPart", "UnsupportedPart", "MediaPart"]
    broken = msg.parts[2]
    assert isinstance(broken, UnsupportedPart)
    assert broken.raw_type == "application/pdf" and "cannot decode" in broken.description


def test_timestamp_falls_back_to_received_at_then_now() -> None:
    mail = b"From: a@b.example\nMessage-ID: <d@b.example>\nDate: not a date\n\nhi\n"
    received = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    options = {"uidvalidity": 1, "uid": 1, "mailbox_addresses": OURS, "subject_thread_hours": 72}
    [msg] = parse_mail(mail, received_at=received, **options)  # type: ignore[arg-type]
    assert msg.timestamp == received
    before = datetime.now(UTC)
    [msg] = parse_mail(mail, received_at=None, **options)  # type: ignore[arg-type]
    assert msg.timestamp >= before


def test_raw_is_a_small_json_summary_without_the_body() -> None:
    msg = message("gmail_reply.eml")
    summary = json.loads(json.dumps(msg.raw))
    assert summary["uid"] == 9 and summary["uidvalidity"] == 5
    assert summary["message_id"] == msg.external_id
    assert summary["size"] == len(raw("gmail_reply.eml"))
    assert summary["headers"]["In-Reply-To"] == (
        "<hub.7.ffeeddccbbaa99887766554433221100@acme.example>"
    )
    assert "fixed it" not in json.dumps(summary)


def test_every_fixture_parses_into_valid_events() -> None:
    for path in sorted(FIXTURES.glob("*.eml")):
        for event in events(path.name):
            json.dumps(event.model_dump(mode="json"))  # storable as it is


def test_extract_part_whole_mail_and_unknown_section() -> None:
    mail = raw("apple_mail.eml")
    assert extract_part(mail, "") == mail
    with pytest.raises(KeyError):
        extract_part(mail, "7.1")
    # A forwarded mail (message/rfc822) comes back whole.
    original = extract_part(raw("postfix_dsn.eml"), "3")
    inner = message_from_bytes(original, policy=policy.default)
    assert inner["Message-ID"] == "<hub.7.0a1b2c3d4e5f60718293a4b5c6d7e8f9@acme.example>"


def test_unparsed_message_keeps_the_whole_mail() -> None:
    mail = raw("gmail_reply.eml")
    msg = unparsed_message(mail, uidvalidity=5, uid=9, error="boom: bad header")
    assert msg.external_id == "CAOd2x=Zq8m0Lq5pXyT+3kV2nB7c@mail.gmail.com"
    assert msg.sender_id == "jose.garcia@gmail.example"
    unsupported, whole = msg.parts
    assert isinstance(unsupported, UnsupportedPart)
    assert (
        unsupported.raw_type == "message/rfc822" and unsupported.description == "boom: bad header"
    )
    assert isinstance(whole, MediaPart)
    assert (whole.filename, whole.mime_type, whole.provider_media_id) == (
        "message.eml",
        "message/rfc822",
        "5:9:",
    )
    assert extract_part(mail, "") == mail


def test_unparsed_message_without_headers_uses_hash_and_unknown_sender() -> None:
    mail = b"\x00\xff garbage without headers"
    msg = unparsed_message(mail, uidvalidity=1, uid=3, error="unreadable")
    assert msg.external_id == "sha256:" + hashlib.sha256(mail).hexdigest()
    assert msg.sender_id == "unknown@invalid"


def test_headers_only_mail_says_it_is_over_the_limit() -> None:
    head = raw("gmail_reply.eml").split(b"\n\n", 1)[0] + b"\n\n"
    msg = parse_headers_only(
        head,
        size=31_200_000,
        limit=25_000_000,
        uidvalidity=5,
        uid=9,
        mailbox_addresses=OURS,
        subject_thread_hours=72,
    )
    assert msg.external_id == "CAOd2x=Zq8m0Lq5pXyT+3kV2nB7c@mail.gmail.com"
    assert msg.sender_id == "jose.garcia@gmail.example"
    assert msg.references[0] == "hub.7.ffeeddccbbaa99887766554433221100@acme.example"
    [note] = msg.parts
    assert isinstance(note, TextPart)
    assert "31.2 MB" in note.text and "25 MB" in note.text and "mailbox" in note.text
    assert msg.raw["size"] == 31_200_000


def test_a_header_the_library_cannot_parse_does_not_lose_the_mail() -> None:
    # policy.default's Message-ID parser raises IndexError on a lone "<"; here it sits
    # in the delivery report, whose fields are read through the parser.
    mail = raw("postfix_dsn.eml").replace(b"X-Postfix-Queue-ID: 3F2A41C0A2", b"Message-ID: <")
    [event] = parse_mail(
        mail,
        uidvalidity=1,
        uid=1,
        mailbox_addresses=OURS,
        subject_thread_hours=72,
        received_at=None,
    )
    assert isinstance(event, StatusUpdate)
    assert event.external_id == "hub.7.0a1b2c3d4e5f60718293a4b5c6d7e8f9@acme.example"


MANGLERS = (
    b"=?utf-8?q?=C3?=",
    b"=?x-unknown?b?////?=",
    b"filename*=utf-8''%ZZ",
    b"\x80\xff",
    b"<",
    b'"',
    b"(",
    b";",
    b"\n\n",
    b'boundary=""',
    b"Content-Transfer-Encoding: base64\n",
    b'charset="bogus"',
    b"Date: 99 Foo 99999 99:99\n",
)


def test_mangled_mail_never_raises_and_stays_storable() -> None:
    rng = random.Random(14)  # fixed: the same cases on every run
    for path in sorted(FIXTURES.glob("*.eml")):
        original = path.read_bytes()
        cases = [original[: len(original) * k // 6] for k in range(1, 6)]
        for _ in range(6):
            mangled = bytearray(original)
            for _ in range(rng.randrange(1, 20)):
                at = rng.randrange(len(mangled))
                mangled[at:at] = rng.choice(MANGLERS)
            cases.append(bytes(mangled))
        for case in cases:
            for event in parse_mail(
                case,
                uidvalidity=1,
                uid=1,
                mailbox_addresses=OURS,
                subject_thread_hours=72,
                received_at=None,
            ):
                event.model_dump_json().encode("utf-8")  # no lone surrogates


def test_unparsed_message_reads_the_bracketed_sender() -> None:
    mail = b'From: "boss@acme.example" <Real@Kunde.example>\nSubject: x\n\nbody'
    msg = unparsed_message(mail, uidvalidity=1, uid=1, error="e")
    assert msg.sender_id == "real@kunde.example"
    bare = unparsed_message(
        b"From: plain@x.example (Name)\n\nbody", uidvalidity=1, uid=1, error="e"
    )
    assert bare.sender_id == "plain@x.example"
