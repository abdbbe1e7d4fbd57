"""Auto-replies, bulk mail and bounces: flagged messages, and StatusUpdates that fail
the outbound mail a bounce reports on."""

from __future__ import annotations

from email import message_from_bytes, policy
from pathlib import Path

import pytest
from hub.contract import InboundEvent, InboundMessage, StatusUpdate

from hub_email.automated import automated_kind
from hub_email.parse import parse_mail

FIXTURES = Path(__file__).parent / "fixtures"
OURS = frozenset({"support@acme.example"})


def events(name: str) -> list[InboundEvent]:
    return parse_mail(
        (FIXTURES / name).read_bytes(),
        uidvalidity=1,
        uid=1,
        mailbox_addresses=OURS,
        subject_thread_hours=72,
        received_at=None,
    )


def kind_of(headers: str) -> str | None:
    msg = message_from_bytes(headers.encode() + b"\n\nbody\n", policy=policy.default)
    return automated_kind(msg)


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ("From: a@x.example\nSubject: hi", None),
        ("From: a@x.example\nAuto-Submitted: no", None),
        ("From: a@x.example\nAuto-Submitted: auto-replied", "auto_reply"),
        ("From: a@x.example\nAuto-Submitted: auto-generated", "bulk"),
        ("From: a@x.example\nX-Autoreply: yes", "auto_reply"),
        ("From: a@x.example\nX-Autorespond: 1", "auto_reply"),
        ("From: a@x.example\nX-Auto-Response-Suppress: OOF", "auto_reply"),
        ("From: a@x.example\nPrecedence: auto_reply", "auto_reply"),
        ("From: a@x.example\nPrecedence: bulk", "bulk"),
        ("From: a@x.example\nPrecedence: junk", "bulk"),
        ("From: a@x.example\nList-Id: <l.x.example>", "bulk"),
        ("From: a@x.example\nList-Unsubscribe: <mailto:u@x.example>", "bulk"),
        ("From: noreply@x.example", "bulk"),
        ("From: do-not-reply@x.example", "bulk"),
        ("From: MAILER-DAEMON@x.example", "bounce"),
        ("From: postmaster@x.example", "bounce"),
        ("From: a@x.example\nReturn-Path: <>", "auto_reply"),
        ("From: a@x.example\nSubject: Automatische Antwort: Ihre Anfrage", "auto_reply"),
    ],
)
def test_automated_kind(headers: str, expected: str | None) -> None:
    assert kind_of(headers) == expected


def test_oof_auto_reply_is_a_flagged_message() -> None:
    [msg] = events("oof_autoreply.eml")
    assert isinstance(msg, InboundMessage) and msg.automated == "auto_reply"


def test_list_mail_is_bulk_and_its_subject_hint_drops_the_list_tag() -> None:
    [msg] = events("list_mail.eml")
    assert isinstance(msg, InboundMessage) and msg.automated == "bulk"
    assert msg.thread_hints[0].key == "subject:updates@vendor.example:november release notes"


def test_a_person_s_mail_is_not_automated() -> None:
    [msg] = events("gmail_reply.eml")
    assert isinstance(msg, InboundMessage) and msg.automated is None


@pytest.mark.parametrize(
    ("name", "original", "status", "reason_part"),
    [
        (
            "postfix_dsn.eml",
            "hub.7.0a1b2c3d4e5f60718293a4b5c6d7e8f9@acme.example",
            "5.1.1",
            "User unknown in virtual mailbox table",
        ),
        (
            "exchange_ndr.eml",
            "hub.7.33333333333333334444444444444444@acme.example",
            "5.1.10",
            "RESOLVER.ADR.RecipientNotFound",
        ),
        (
            "unzustellbar.eml",
            "hub.7.9999999999999999aaaaaaaaaaaaaaaa@acme.example",
            "5.1.1",
            "Postfach nicht vorhanden",
        ),
    ],
)
def test_bounce_fails_the_original_message(
    name: str, original: str, status: str, reason_part: str
) -> None:
    [update] = events(name)
    assert isinstance(update, StatusUpdate)
    assert update.external_id == original and update.status == "failed"
    assert update.error_code == status
    assert update.reason is not None and reason_part in update.reason


def test_gmail_dsn_names_every_failed_recipient() -> None:
    [update] = events("gmail_dsn.eml")
    assert isinstance(update, StatusUpdate)
    assert update.external_id == "hub.7.55555555555555556666666666666666@acme.example"
    assert update.error_code == "5.1.1"
    assert update.reason is not None
    assert "first.one@gmail.example: 550-5.1.1" in update.reason
    assert "second.two@gmail.example: 552-5.2.2" in update.reason


def test_delayed_dsn_is_not_a_failure() -> None:
    [msg] = events("delayed_dsn.eml")
    assert isinstance(msg, InboundMessage) and msg.automated == "bounce"


def test_bounce_of_an_unknown_mail_is_a_flagged_message() -> None:
    [msg] = events("bounce_unknown_original.eml")
    assert isinstance(msg, InboundMessage) and msg.automated == "bounce"
    assert "someone@elsewhere.example" in msg.parts[0].text  # type: ignore[union-attr]


def test_undeliverable_subject_from_a_person_without_original_is_a_mail() -> None:
    raw = (
        b"From: Pat <pat@x.example>\nSubject: Undeliverable parcel, please help\n"
        b"Message-ID: <p@x.example>\n\nMy parcel could not be delivered.\n"
    )
    [msg] = parse_mail(
        raw,
        uidvalidity=1,
        uid=1,
        mailbox_addresses=OURS,
        subject_thread_hours=72,
        received_at=None,
    )
    assert isinstance(msg, InboundMessage) and msg.automated is None


def test_bounce_of_a_mail_the_hub_did_not_send_stays_a_message_in_its_thread() -> None:
    mail = (FIXTURES / "postfix_dsn.eml").read_bytes()
    foreign = mail.replace(
        b"<hub.7.0a1b2c3d4e5f60718293a4b5c6d7e8f9@acme.example>",
        b"<CAF00d=agent-own-client@mail.gmail.example>",
    )
    assert foreign != mail
    [msg] = parse_mail(
        foreign,
        uidvalidity=1,
        uid=1,
        mailbox_addresses=OURS,
        subject_thread_hours=72,
        received_at=None,
    )
    assert isinstance(msg, InboundMessage) and msg.automated == "bounce"
    assert msg.references[0] == "CAF00d=agent-own-client@mail.gmail.example"


def test_delay_notice_names_the_delayed_mail_first() -> None:
    [msg] = events("delayed_dsn.eml")
    assert isinstance(msg, InboundMessage)
    assert msg.references[0] == "hub.7.77777777777777778888888888888888@acme.example"
