"""Replies through a real hub to real servers: the API creates the channel (connect logs
in to Dovecot and aiosmtpd), an agent writes to a new address and replies, the outbox
sends, and the message records the Message-ID as its external id, or the server's
refusal as its failure."""

from __future__ import annotations

from typing import Any

import pytest
from dovecot import PASSWORD as IMAP_PASSWORD
from dovecot import Dovecot, dovecot, dovecot_server
from hub.testing.harness import HubApi
from smtp_server import PASSWORD as SMTP_PASSWORD
from smtp_server import USERNAME as SMTP_USERNAME
from smtp_server import SmtpServers, smtp, smtp_servers

from hub_email import compose
from hub_email.channel import EmailChannel

__all__ = ["dovecot", "dovecot_server", "smtp", "smtp_servers"]  # fixtures used here

FROM = "support@acme.example.com"


@pytest.fixture
def hub_plugins() -> list[object]:
    """The email type under test."""
    return [EmailChannel]


@pytest.fixture(scope="module")
def mailbox(dovecot_server: Dovecot) -> str:
    name: str = dovecot_server.new_user()
    dovecot_server.create_folder(name, "Sent")
    return name


async def email_channel(
    hub_api: HubApi, dovecot: Dovecot, smtp: SmtpServers, mailbox: str, **overrides: Any
) -> tuple[int, str]:
    """A new email channel on the test servers; its id and its generated Message-ID tag."""
    config = {
        "imap_host": "127.0.0.1",
        "imap_port": dovecot.port,
        "imap_security": "none",
        "imap_username": mailbox,
        "imap_password": IMAP_PASSWORD,
        "smtp_host": "127.0.0.1",
        "smtp_port": smtp.plain.port,
        "smtp_security": "none",
        "smtp_username": SMTP_USERNAME,
        "smtp_password": SMTP_PASSWORD,
        "from_address": FROM,
        "from_name": "Acme Support",
        "sent_folder": "Sent",
        **overrides,
    }
    created = await hub_api.create_channel("email", config)
    return created.id, created.config["message_id_tag"]


async def start_conversation(hub_api: HubApi, channel_id: int, address: str) -> dict[str, Any]:
    contact = await hub_api.call("POST", "/api/v1/contacts", json={"name": "Ana"}, expect=201)
    identity = await hub_api.call(
        "POST",
        f"/api/v1/contacts/{contact['id']}/identities",
        json={"channel_id": channel_id, "address": address},
        expect=201,
    )
    assert identity["external_id"] == "ana@example.com"
    body = {
        "contact_id": contact["id"],
        "channel_id": channel_id,
        "subject": "Your order 1042",
        "text": "Hello Ana,\n\nyour order ships today.",
    }
    started: dict[str, Any] = await hub_api.call(
        "POST", "/api/v1/conversations", json=body, expect=201
    )
    return started


async def test_an_agent_writes_first_and_the_mail_is_sent_and_filed(
    hub_api: HubApi, dovecot: Dovecot, smtp: SmtpServers, mailbox: str
) -> None:
    channel_id, tag = await email_channel(hub_api, dovecot, smtp, mailbox)
    started = await start_conversation(hub_api, channel_id, "Ana <Ana@Example.com>")
    first = await hub_api.delivered(started["message"]["id"])
    assert first["status"] == "sent", first
    # The Message-ID comes from the channel's stored tag and the core's key, as on a retry.
    key = f"{tag}:hub-msg-{first['id']}"
    assert first["external_id"] == compose.message_id_for(channel_id, key, FROM)
    [received] = smtp.plain.messages
    assert received.message["Message-ID"] == f"<{first['external_id']}>"
    assert received.message["Subject"] == "Your order 1042"
    assert received.rcpt_tos == ("ana@example.com",)
    with dovecot.imap(mailbox) as client:
        client.select('"Sent"', readonly=True)
        found = client.uid("SEARCH", "HEADER", "Message-ID", f'"<{first["external_id"]}>"')
    assert found[0] == "OK" and found[1][0], found


async def test_a_reply_follows_the_first_mail_from_the_agent_via_the_team(
    hub_api: HubApi, dovecot: Dovecot, smtp: SmtpServers, mailbox: str
) -> None:
    channel_id, _ = await email_channel(hub_api, dovecot, smtp, mailbox, agent_name_in_from=True)
    started = await start_conversation(hub_api, channel_id, "ana@example.com")
    first = await hub_api.delivered(started["message"]["id"])
    queued = await hub_api.reply(started["id"], "PS: the tracking number is 0042.")
    second = await hub_api.delivered(queued["id"])
    assert second["status"] == "sent", second
    reply = smtp.plain.messages[1].message
    assert reply["In-Reply-To"] == f"<{first['external_id']}>"
    assert reply["References"] == f"<{first['external_id']}>"
    assert str(reply["From"]) == "Hub Owner via Acme Support <support@acme.example.com>"


async def test_a_refusal_fails_the_message_with_the_servers_words(
    hub_api: HubApi, dovecot: Dovecot, smtp: SmtpServers, mailbox: str
) -> None:
    channel_id, _ = await email_channel(hub_api, dovecot, smtp, mailbox)
    smtp.plain.fail_next("RCPT", "550 5.1.1 <ana@example.com>: Recipient address rejected")
    started = await start_conversation(hub_api, channel_id, "ana@example.com")
    failed = await hub_api.delivered(started["message"]["id"])
    assert failed["status"] == "failed"
    assert "550 5.1.1 <ana@example.com>: Recipient address rejected" in failed["failure_reason"]
    assert smtp.plain.messages == []
