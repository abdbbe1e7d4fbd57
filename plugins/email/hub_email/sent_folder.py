"""The Sent folder: a copy of every reply for the mailbox's other readers, and the record
that makes a retried send safe.

The outbox may call ``send`` again for a message the SMTP server already accepted (the
hub stopped between the acceptance and the status write). Every attempt carries the same
Message-ID (``compose.message_id_for``), so before sending, ``already_sent`` looks for it
in the Sent folder; after sending, ``file_copy`` appends the mail there. Without a Sent
folder that window stays open: docs/channels/email.md says so.
"""

from __future__ import annotations

import logging

from hub.contract import BadCredentials, RetryLater

from hub_email import servers
from hub_email.config import EmailConfig
from hub_email.imap import ImapSession

log = logging.getLogger(__name__)


async def already_sent(config: EmailConfig, message_id: str) -> bool:
    """Whether the Sent folder holds the mail with ``message_id`` (no Sent folder: no).

    A Sent folder that cannot be checked is ``RetryLater`` (or ``BadCredentials``):
    sending without the check could send twice."""
    if config.sent_folder is None:
        return False
    session = await ImapSession.open(servers.imap_server(config))
    try:
        await session.select(config.sent_folder, readonly=True)
        return bool(await session.search_header("Message-ID", f"<{message_id}>"))
    finally:
        await session.logout()


async def file_copy(config: EmailConfig, message_id: str, content: bytes) -> bool:
    """Append the sent mail to the Sent folder (marked read); True when it is there.

    The mail is already on its way, so a failure here is logged, never raised: failing
    the message would make the outbox send it again."""
    if config.sent_folder is None:
        return False
    try:
        session = await ImapSession.open(servers.imap_server(config))
        try:
            await session.append(config.sent_folder, content)
        finally:
            await session.logout()
    except (RetryLater, BadCredentials) as err:
        log.warning("sent mail <%s> not filed in %r: %s", message_id, config.sent_folder, err)
        return False
    except Exception:  # whatever went wrong, the mail was sent: never fail it now
        log.exception("sent mail <%s> not filed in %r", message_id, config.sent_folder)
        return False
    return True
