"""Threading keys of inbound mail: references, Outlook's thread root, normalized subject
hints that never match across contacts."""

from __future__ import annotations

import base64
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from hub.contract import InboundMessage, ThreadHint

from hub_email.parse import parse_mail
from hub_email.threading import (
    normalize_subject,
    outlook_thread_root,
    references_of,
    thread_hints,
)

FIXTURES = Path(__file__).parent / "fixtures"
OURS = frozenset({"support@acme.example"})


def message(name: str, hours: int | None = 72) -> InboundMessage:
    [event] = parse_mail(
        (FIXTURES / name).read_bytes(),
        uidvalidity=1,
        uid=1,
        mailbox_addresses=OURS,
        subject_thread_hours=hours,
        received_at=None,
    )
    assert isinstance(event, InboundMessage)
    return event


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("Re: Re: RE: hello", "hello"),
        ("AW: WG: AW:  Rechnung   2026-17", "Rechnung 2026-17"),
        ("SV: Antw: Fwd: FW: TR: RV: Ref: x", "x"),
        ("Re[2]: [support] Re: [list-tag] topic", "topic"),
        ("RE : French style", "French style"),
        ("Re:", ""),
        ("Recipe for AW: not a prefix mid-subject", "Recipe for AW: not a prefix mid-subject"),
        ("Reply needed", "Reply needed"),
        (None, ""),
    ],
)
def test_normalize_subject(subject: str | None, expected: str) -> None:
    assert normalize_subject(subject) == expected


def test_outlook_thread_root_is_the_first_22_bytes() -> None:
    root = bytes(range(22))
    reply = base64.b64encode(root + b"\x00\x00\x1a\x2b\x3c").decode()
    assert outlook_thread_root(reply) == base64.b64encode(root).decode()
    assert outlook_thread_root(base64.b64encode(root).decode()) == base64.b64encode(root).decode()
    assert outlook_thread_root(base64.b64encode(b"short").decode()) is None
    assert outlook_thread_root("not base64 at all!") is None
    assert outlook_thread_root(None) is None


def test_outlook_reply_without_in_reply_to_threads_by_thread_index() -> None:
    reply = message("outlook_reply.eml")
    oof = message("oof_autoreply.eml")  # one more reply level in the same thread
    assert reply.references == ()
    outlook = [h for h in reply.thread_hints if h.key.startswith("outlook:")]
    assert outlook == [
        ThreadHint(key="outlook:petra.meier@kunde.example:AdnEobLDjzprHC1OT1qbDB0uP0BRYg==")
    ]
    assert outlook[0] in oof.thread_hints
    assert outlook[0].within_hours is None


def test_references_are_nearest_first_deduplicated_without_brackets() -> None:
    msg = message("thunderbird_reply.eml")
    assert msg.references == (
        "hub.7.2222222222222222bbbbbbbbbbbbbbbb@acme.example",
        "second-2@posteo.example",
        "hub.7.1111111111111111aaaaaaaaaaaaaaaa@acme.example",
        "first-1@posteo.example",
    )


def test_references_leave_out_the_mail_itself_and_read_bare_ids() -> None:
    raw = (
        b"Message-ID: <self@x.example>\nIn-Reply-To: parent@x.example (the parent)\n"
        b"References: <root@x.example> <self@x.example>\n\nhi\n"
    )
    msg = message_from_bytes(raw, policy=policy.default)
    assert references_of(msg, own_id="self@x.example") == ("parent@x.example", "root@x.example")


def test_german_chain_subject_hint_is_normalized_and_windowed() -> None:
    msg = message("german_chain.eml", hours=48)
    assert msg.subject == "AW: WG: AW: Rechnung 2026-17"
    assert msg.thread_hints == (
        ThreadHint(key="subject:s.wolf@handel.example:rechnung 2026-17", within_hours=48),
    )


def test_subject_hints_never_match_across_contacts() -> None:
    one = thread_hints("a@x.example", "Re: Newsletter", None, 72)
    other = thread_hints("b@y.example", "Re: Newsletter", None, 72)
    assert one and other
    assert not {h.key for h in one} & {h.key for h in other}


def test_no_subject_hint_when_empty_or_switched_off() -> None:
    assert thread_hints("a@x.example", "Re: ", None, 72) == ()
    assert thread_hints("a@x.example", "Invoice", None, None) == ()
    assert thread_hints("a@x.example", "Invoice", None, 0) == ()


def test_long_subject_key_is_cut_to_the_contract_limit() -> None:
    [hint] = thread_hints("a@x.example", "x" * 1000, None, 72)
    assert len(hint.key) == 300 and hint.key.startswith("subject:a@x.example:")
