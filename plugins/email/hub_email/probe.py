"""``connect``: log in to both servers of a mailbox as reading and sending will, and check
its folders, so an admin learns at once what is wrong and where.

The IMAP side connects, logs in and opens (read-only) the folder to read and the Sent
folder when one is set; the SMTP side connects, says EHLO, upgrades with STARTTLS where
set and logs in when a username is given. Both run at once, each step under a short
timeout, and a failure names the server and the step (DNS, TCP, TLS, login, folder) in
the server's own words; when both fail, the message tells both. An unreachable server is
``RetryLater`` (it may be down for a moment); what an admin must change is
``BadCredentials``.
"""

from __future__ import annotations

import asyncio
import dataclasses

from hub.contract import BadCredentials, RetryLater

from hub_email import servers, smtp
from hub_email.config import EmailConfig
from hub_email.imap import ImapSession

TIMEOUT_SECONDS = 10.0
"""Per step: an admin waits on the connect page, so shorter than when sending."""


async def check_imap(config: EmailConfig) -> None:
    """Log in over IMAP and open the folder to read and the Sent folder."""
    session = await ImapSession.open(servers.imap_server(config), connect_seconds=TIMEOUT_SECONDS)
    try:
        await session.select(config.imap_folder, readonly=True)
        if config.sent_folder is not None:
            await session.select(config.sent_folder, readonly=True)
    finally:
        await session.logout()


async def check_smtp(config: EmailConfig) -> None:
    """Connect to the SMTP server and log in when a username is set."""
    server = dataclasses.replace(servers.smtp_server(config), timeout=TIMEOUT_SECONDS)
    await smtp.check_login(server)


async def check(config: EmailConfig) -> None:
    """Check both servers; raise what an admin can act on, naming each that failed."""
    results = await asyncio.gather(check_imap(config), check_smtp(config), return_exceptions=True)
    failures = [result for result in results if isinstance(result, BaseException)]
    unexpected = [f for f in failures if not isinstance(f, BadCredentials | RetryLater)]
    if unexpected:
        raise unexpected[0]
    if not failures:
        return
    message = "; ".join(str(failure) for failure in failures)
    if any(isinstance(failure, BadCredentials) for failure in failures):
        raise BadCredentials(message)
    raise RetryLater(message)
