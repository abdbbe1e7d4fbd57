"""The IMAP session (hub_email/imap.py) against a real Dovecot: security modes, the
``n:*`` pitfall, BODY.PEEK, IDLE, and errors that name the server and the step."""

from __future__ import annotations

import asyncio
from email.message import EmailMessage

import pytest
from dovecot import PASSWORD, Dovecot, dovecot, dovecot_server, free_port
from hub.contract import BadCredentials, RetryLater

from hub_email.imap import ImapServer, ImapSession, Security

__all__ = ["dovecot", "dovecot_server"]  # the fixtures, used by name
pytestmark = pytest.mark.slow  # starts Dovecot (once per test process)


def mail(subject: str, message_id: str, body: str = "Hello") -> bytes:
    """A small plain-text mail."""
    msg = EmailMessage()
    msg["From"] = "Customer <customer@example.org>"
    msg["To"] = "support@example.test"
    msg["Subject"] = subject
    msg["Message-ID"] = f"<{message_id}>"
    msg.set_content(body)
    return msg.as_bytes()


def server(
    dovecot: Dovecot, user: str, security: Security = "none", **changes: object
) -> ImapServer:
    port = dovecot.tls_port if security == "tls" else dovecot.port
    fields: dict[str, object] = {
        "host": "127.0.0.1",
        "port": port,
        "security": security,
        "username": user,
        "password": PASSWORD,
        **changes,
    }
    return ImapServer(**fields)  # type: ignore[arg-type]


@pytest.fixture
def user(dovecot: Dovecot) -> str:
    return dovecot.new_user()


@pytest.mark.parametrize("security", ["none", "starttls", "tls"])
async def test_each_security_mode_logs_in_and_selects(
    dovecot: Dovecot, user: str, security: Security, monkeypatch: pytest.MonkeyPatch
) -> None:
    if security != "none" and dovecot.certificate is None:
        pytest.skip("no openssl to make the test certificate")
    monkeypatch.setenv("SSL_CERT_FILE", str(dovecot.certificate))
    uid = dovecot.append(user, mail("Hi", "a1@example.org"))
    session = await ImapSession.open(server(dovecot, user, security))
    try:
        box = await session.select("INBOX")
        assert (box.exists, box.uidnext) == (1, uid + 1)
        assert box.uidvalidity == dovecot.uidvalidity(user)
        assert session.has_idle
    finally:
        await session.logout()


async def test_uids_after_leaves_out_the_highest_uid_that_n_star_always_returns(
    dovecot: Dovecot, user: str
) -> None:
    uids = dovecot.append_many(user, [mail(f"m{i}", f"m{i}@example.org") for i in range(3)])
    session = await ImapSession.open(server(dovecot, user))
    try:
        await session.select("INBOX")
        assert await session.uids_after(0) == uids
        assert await session.uids_after(uids[0]) == uids[1:]
        # UID SEARCH UID 4:* answers 3 (the highest): filtered out, nothing is new.
        assert await session.uids_after(uids[-1]) == []
    finally:
        await session.logout()


async def test_fetch_peeks_and_mark_seen_sets_the_flag(dovecot: Dovecot, user: str) -> None:
    raw = mail("Peek", "peek@example.org", "the body")
    first, second = dovecot.append_many(user, [raw, mail("Other", "other@example.org")])
    session = await ImapSession.open(server(dovecot, user))
    try:
        await session.select("INBOX")
        [fetched] = await session.fetch([first])
        assert fetched.uid == first
        assert fetched.raw.replace(b"\r\n", b"\n") == raw.replace(b"\r\n", b"\n")
        assert fetched.size == len(fetched.raw)
        assert fetched.internaldate
        [head] = await session.fetch_headers([second])
        assert b"Subject: Other" in head.raw and b"Hello" not in head.raw
        assert head.size > len(head.raw)
        assert "\\Seen" not in dovecot.flags(user, first)
        await session.mark_seen([first])
        assert "\\Seen" in dovecot.flags(user, first)
        assert "\\Seen" not in dovecot.flags(user, second)
    finally:
        await session.logout()


async def test_search_header_finds_a_mail_by_message_id_and_append_files_one(
    dovecot: Dovecot, user: str
) -> None:
    dovecot.create_folder(user, "Sent Items")
    session = await ImapSession.open(server(dovecot, user))
    try:
        await session.append("Sent Items", mail("Sent", "ours.1@example.test"))
        await session.select("Sent Items", readonly=True)
        assert await session.search_header("Message-ID", "ours.1@example.test") == [1]
        assert await session.search_header("Message-ID", "ours.2@example.test") == []
    finally:
        await session.logout()
    assert "\\Seen" in dovecot.flags(user, 1, "Sent Items")


async def test_a_folder_with_non_ascii_letters_is_named_in_modified_utf7(
    dovecot: Dovecot, user: str
) -> None:
    dovecot.create_folder(user, "Entw&APw-rfe &- Co")  # "Entwürfe & Co", as IMAP writes it
    dovecot.create_folder(user, "Kunden&-Post")  # "Kunden&Post"
    session = await ImapSession.open(server(dovecot, user))
    try:
        await session.append("Entwürfe & Co", mail("Umlaut", "umlaut@example.org"))
        assert (await session.select("Entwürfe & Co")).exists == 1
        assert (await session.select("Kunden&Post")).exists == 0
    finally:
        await session.logout()


async def test_idle_returns_as_soon_as_mail_arrives_and_false_after_its_time(
    dovecot: Dovecot, user: str
) -> None:
    session = await ImapSession.open(server(dovecot, user))
    try:
        await session.select("INBOX")
        assert await session.idle(0.3) is False  # the time ran out: no mail

        async def deliver_soon() -> None:
            await asyncio.sleep(0.2)
            await asyncio.to_thread(dovecot.append, user, mail("Push", "push@example.org"))

        delivery = asyncio.create_task(deliver_soon())
        assert await session.idle(10) is True  # woken by EXISTS (a timeout is False)
        await delivery
        # The session is usable after IDLE.
        assert (await session.select("INBOX")).exists == 1
    finally:
        await session.logout()


async def test_a_refused_login_is_bad_credentials_with_the_servers_words(
    dovecot: Dovecot, user: str
) -> None:
    with pytest.raises(BadCredentials) as caught:
        await ImapSession.open(server(dovecot, user, password="wrong"))
    text = str(caught.value)
    assert f"IMAP server 127.0.0.1:{dovecot.port}" in text
    assert "login refused" in text and "Authentication failed" in text


async def test_a_missing_folder_is_bad_credentials_naming_the_folder(
    dovecot: Dovecot, user: str
) -> None:
    session = await ImapSession.open(server(dovecot, user))
    try:
        with pytest.raises(BadCredentials, match=r"IMAP server .*the folder 'Support' "):
            await session.select("Support")
    finally:
        await session.logout()


async def test_an_unreachable_server_is_retry_later_naming_the_step(dovecot: Dovecot) -> None:
    closed = free_port()
    with pytest.raises(RetryLater, match=rf"IMAP server 127.0.0.1:{closed}: TCP connection failed"):
        await ImapSession.open(server(dovecot, "u", port=closed))
    with pytest.raises(RetryLater, match=r"no-such-host.invalid:143: DNS lookup failed"):
        await ImapSession.open(server(dovecot, "u", host="no-such-host.invalid", port=143))


async def test_tls_against_a_plain_port_or_an_untrusted_certificate_is_bad_credentials(
    dovecot: Dovecot, user: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if dovecot.certificate is None:
        pytest.skip("no openssl to make the test certificate")
    monkeypatch.setenv("SSL_CERT_FILE", str(dovecot.certificate))
    with pytest.raises(BadCredentials, match=r"TLS handshake failed"):
        await ImapSession.open(server(dovecot, user, "tls", port=dovecot.port), connect_seconds=3)
    monkeypatch.delenv("SSL_CERT_FILE")
    with pytest.raises(BadCredentials, match=r"TLS handshake failed \(CERTIFICATE_VERIFY_FAILED"):
        await ImapSession.open(server(dovecot, user, "tls"), connect_seconds=3)
    with pytest.raises(BadCredentials, match=r"TLS handshake failed \(CERTIFICATE_VERIFY_FAILED"):
        await ImapSession.open(server(dovecot, user, "starttls"), connect_seconds=3)


async def test_a_server_that_never_greets_is_retry_later(dovecot: Dovecot) -> None:
    if dovecot.tls_port is None:
        pytest.skip("no TLS port")
    # The TLS port waits for a ClientHello: a plain client hears nothing.
    with pytest.raises(RetryLater, match=r"no greeting within 0.5 s"):
        await ImapSession.open(server(dovecot, "u", port=dovecot.tls_port), connect_seconds=0.5)
