"""Threading, bounces and auto-replies end to end: mail polled from a real Dovecot into a
real hub, replies sent through a real aiosmtpd. A reply joins its conversation by its
headers, by Outlook's thread index or by its subject — never another contact's; a bounce
fails the very reply it reports on; an out-of-office reopens nothing."""

from __future__ import annotations

import base64
import os
from typing import Any

import pytest
from dovecot import Dovecot, dovecot, dovecot_server
from email_imap_helpers import OURS, FastEmail, config_for, mail
from hub.testing import HubApi
from smtp_server import SmtpServers, smtp, smtp_servers

__all__ = ["dovecot", "dovecot_server", "smtp", "smtp_servers"]  # fixtures, used by name
pytestmark = pytest.mark.slow  # starts Dovecot (once per test process)

ANA = "Ana <ana@example.org>"
BOB = "Bob <bob@example.org>"


@pytest.fixture
def hub_plugins() -> list[object]:
    """The email type with a short IDLE."""
    return [FastEmail]


@pytest.fixture
def hub_settings(hub_settings: Any) -> Any:
    """No background poll loops: the tests poll."""
    return hub_settings.model_copy(update={"polling_enabled": False})


class Mailbox:
    """One channel on the test servers, and what a test does with it."""

    def __init__(self, hub_api: HubApi, dovecot: Dovecot, user: str, channel_id: int) -> None:
        self.hub_api, self.dovecot, self.user, self.channel_id = hub_api, dovecot, user, channel_id

    async def receive(self, raw: bytes) -> None:
        """The mail arrives in the mailbox and the hub polls it in."""
        self.dovecot.append(self.user, raw)
        await self.hub_api.poll_until_quiet(self.channel_id)

    async def conversation_of(self, message_id: str) -> dict[str, Any]:
        """The conversation holding the message stored under ``message_id``."""
        for conversation in await self.hub_api.conversations():
            if conversation["channel_id"] != self.channel_id:
                continue
            messages = await self.hub_api.messages(int(conversation["id"]))
            if any(m["external_id"] == message_id for m in messages):
                return conversation
        raise AssertionError(f"no conversation holds {message_id}")

    async def answer(self, message_id: str, text: str) -> dict[str, Any]:
        """An agent answers in the conversation of ``message_id``; the sent reply."""
        conversation = await self.conversation_of(message_id)
        queued = await self.hub_api.reply(int(conversation["id"]), text)
        sent = await self.hub_api.delivered(int(queued["id"]))
        assert sent["status"] == "sent", sent
        return sent


@pytest.fixture
async def box(hub_api: HubApi, dovecot: Dovecot, smtp: SmtpServers) -> Mailbox:
    user = dovecot.new_user()
    created = await hub_api.create_channel(
        "email", config_for(dovecot, user, smtp_port=smtp.plain.port)
    )
    return Mailbox(hub_api, dovecot, user, created.id)


def thread_index(root: bytes, children: int = 0) -> str:
    """An Outlook Thread-Index: a 22-byte root, and five bytes per reply after it."""
    return base64.b64encode(root + os.urandom(5) * children).decode()


async def test_a_reply_to_our_mail_joins_by_its_headers_whatever_its_subject(
    box: Mailbox,
) -> None:
    await box.receive(mail("Order 1042", "q1@example.org", sender=ANA))
    ours = await box.answer("q1@example.org", "It ships today.")
    await box.receive(
        mail(
            "Something else entirely",
            "q2@example.org",
            sender=ANA,
            headers={
                "In-Reply-To": f"<{ours['external_id']}>",
                "References": f"<q1@example.org> <{ours['external_id']}>",
            },
        )
    )

    first = await box.conversation_of("q1@example.org")
    assert (await box.conversation_of("q2@example.org"))["id"] == first["id"]


async def test_an_outlook_reply_without_references_joins_by_its_thread_index(
    box: Mailbox,
) -> None:
    root = os.urandom(22)
    await box.receive(
        mail("Printer", "o1@example.org", sender=ANA, headers={"Thread-Index": thread_index(root)})
    )
    await box.receive(
        mail(
            "A new subject",
            "o2@example.org",
            sender=ANA,
            headers={"Thread-Index": thread_index(root, 1), "Thread-Topic": "Printer"},
        )
    )

    first = await box.conversation_of("o1@example.org")
    assert (await box.conversation_of("o2@example.org"))["id"] == first["id"]


async def test_a_reply_without_headers_joins_by_subject_but_never_another_contacts(
    box: Mailbox,
) -> None:
    await box.receive(mail("Invoice 7", "s1@example.org", sender=ANA))
    await box.receive(mail("RE: AW: Invoice 7", "s2@example.org", sender=ANA))
    # Bob answers the same mailing, even naming Ana's mail: a conversation of his own.
    await box.receive(
        mail(
            "Re: Invoice 7",
            "s3@example.org",
            sender=BOB,
            headers={"In-Reply-To": "<s1@example.org>"},
        )
    )
    await box.receive(mail("Another question", "s4@example.org", sender=ANA))

    ana = await box.conversation_of("s1@example.org")
    assert (await box.conversation_of("s2@example.org"))["id"] == ana["id"]
    bob = await box.conversation_of("s3@example.org")
    assert bob["id"] != ana["id"] and bob["contact"]["id"] != ana["contact"]["id"]
    assert (await box.conversation_of("s4@example.org"))["id"] != ana["id"]


def bounce_of(message_id: str, recipient: str) -> bytes:
    """A delivery status notification (RFC 3464) reporting the mail ``message_id`` failed,
    as Postfix writes one."""
    return f"""\
From: Mail Delivery System <MAILER-DAEMON@mx.example.org>
To: {OURS}
Subject: Undelivered Mail Returned to Sender
Message-ID: <dsn-1@mx.example.org>
Date: Thu, 03 Dec 2026 10:05:00 +0000
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="b1"

--b1
Content-Type: text/plain; charset=us-ascii

I'm sorry to have to inform you that your message could not be delivered.

--b1
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.org

Final-Recipient: rfc822; {recipient}
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 User unknown

--b1
Content-Type: text/rfc822-headers

From: {OURS}
To: {recipient}
Subject: Re: Order
Message-ID: <{message_id}>

--b1--
""".replace("\n", "\r\n").encode()


async def test_a_bounce_fails_the_reply_it_reports_on_and_only_that_one(
    box: Mailbox,
) -> None:
    await box.receive(mail("Order", "b1@example.org", sender=ANA))
    kept = await box.answer("b1@example.org", "First answer.")
    bounced = await box.answer("b1@example.org", "Second answer.")
    await box.receive(bounce_of(bounced["external_id"], "ana@example.org"))

    conversation = await box.conversation_of("b1@example.org")
    messages = {m["id"]: m for m in await box.hub_api.messages(int(conversation["id"]))}
    failed = messages[bounced["id"]]
    assert failed["status"] == "failed", failed
    assert "User unknown" in (failed["failure_reason"] or "")
    assert failed["error_code"] == "5.1.1"
    assert messages[kept["id"]]["status"] == "sent"


async def test_an_out_of_office_reply_is_flagged_and_reopens_nothing(
    box: Mailbox,
) -> None:
    await box.receive(mail("Refund", "r1@example.org", sender=ANA))
    ours = await box.answer("r1@example.org", "Refunded.")
    conversation = await box.conversation_of("r1@example.org")
    await box.hub_api.call("POST", f"/api/v1/conversations/{conversation['id']}/close", json={})
    await box.receive(
        mail(
            "Automatic reply: Re: Refund",
            "r2@example.org",
            "I am out of the office until Monday.",
            sender=ANA,
            headers={"In-Reply-To": f"<{ours['external_id']}>", "Auto-Submitted": "auto-replied"},
        )
    )

    after = await box.conversation_of("r2@example.org")
    assert after["id"] == conversation["id"] and after["status"] == "closed"
    [auto] = [
        m
        for m in await box.hub_api.messages(int(after["id"]))
        if m["external_id"] == "r2@example.org"
    ]
    assert auto["automated"] == "auto_reply"
