"""``connect``: log in to both servers of a mailbox as reading and sending will, and check
its folders, so an admin learns at once what is wrong and where.

The IMAP side connects, logs in and checks that the folder to read (and the Sent folder,
when one is set) exists; the SMTP side connects, says EHLO, upgrades with STARTTLS where
set and logs in when a username is given. Both run at once, with a short timeout, and a
failure names the server and the step (DNS, TCP, TLS, login, folder) in the server's own
words. When both fail, the message tells both. An unreachable server is ``RetryLater``
(it may be down for a moment); anything an admin must change is ``BadCredentials``.
"""

from __future__ import annotations

import asyncio
import dataclasses

from hub.contract import BadCredentials, RetryLater

from hub_email import imap_lite, smtp
from hub_email.config import EmailConfig

TIMEOUT_SECONDS = 10.0
"""Per step: an admin waits on the connect page, so shorter than when sending."""


async def check_imap(config: EmailConfig) -> None:
    """Log in over IMAP and check the folder to read and the Sent folder."""
    server = dataclasses.replace(imap_lite.ImapServer.of(config), timeout=TIMEOUT_SECONDS)
    async with imap_lite.session(server) as client:
        await imap_lite.require_folder(server, client, config.imap_folder)
        if config.sent_folder is not None:
            await imap_lite.require_folder(server, client, config.sent_folder)


async def check_smtp(config: EmailConfig) -> None:
    """Connect to the SMTP server and log in when a username is set."""
    server = dataclasses.replace(smtp.SmtpServer.of(config), timeout=TIMEOUT_SECONDS)
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
    message = "; and ".join(str(failure) for failure in failures)
    if any(isinstance(failure, BadCredentials) for failure in failures):
        raise BadCredentials(message)
    raise RetryLater(message)
