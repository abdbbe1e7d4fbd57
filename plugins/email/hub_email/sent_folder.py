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

from hub_email import imap_lite
from hub_email.config import EmailConfig

log = logging.getLogger(__name__)


async def already_sent(config: EmailConfig, message_id: str) -> bool:
    """Whether the Sent folder holds the mail with ``message_id`` (no Sent folder: no).

    A Sent folder that cannot be checked is ``RetryLater`` (or ``BadCredentials``):
    sending without the check could send twice."""
    if config.sent_folder is None:
        return False
    server = imap_lite.ImapServer.of(config)
    async with imap_lite.session(server) as client:
        return await imap_lite.has_message_id(server, client, config.sent_folder, message_id)


async def file_copy(config: EmailConfig, message_id: str, content: bytes) -> bool:
    """Append the sent mail to the Sent folder; True when it is there.

    The mail is already on its way, so a failure here is logged, never raised: failing
    the message would make the outbox send it again."""
    if config.sent_folder is None:
        return False
    server = imap_lite.ImapServer.of(config)
    try:
        async with imap_lite.session(server) as client:
            await imap_lite.append(server, client, config.sent_folder, content)
    except (RetryLater, BadCredentials) as err:
        log.warning("sent mail <%s> not filed in %r: %s", message_id, config.sent_folder, err)
        return False
    except Exception:  # whatever went wrong, the mail was sent: never fail it now
        log.exception("sent mail <%s> not filed in %r", message_id, config.sent_folder)
        return False
    return True
