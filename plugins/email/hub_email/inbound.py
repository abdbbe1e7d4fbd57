"""Reading the mailbox: ``poll`` (new mail → events, with the cursor) and ``fetch_media``.

Each poll is one IMAP session, logged out at its end: the core builds and drops channel
objects (an edited channel is a new one) without telling them, so a session kept
between polls could outlive its object; a login per poll of up to ``IDLE_SECONDS`` is
cheap. Each poll:

1. SELECTs the folder. A UIDVALIDITY other than the cursor's voids every stored UID
   (RFC 9051 2.3.1.1): the folder is read again from UID 1, and the core's dedupe by
   external id (the Message-ID) keeps what it already has; new mail still arrives.
2. After a parser fix (``parse.PARSER_VERSION`` newer than the cursor's), fetches the
   mail the old parser failed on again and hands it over with ``edited=True``, so the
   core replaces the placeholder (raw file) message with the parsed one.
3. Fetches the UIDs above the cursor's, at most ``BATCH`` mails and about
   ``BATCH_BYTES`` per poll (the cursor advances per batch; the core loops at once
   while a poll brings something). Mail over the channel's size limit is fetched as
   its header only. Each mail is parsed; one the parser fails on is kept whole as a
   file (``parse.unparsed_message``), reported in ``problems`` and put on the retry list.
4. With nothing new, waits in IDLE for up to ``idle_seconds`` and reads what came. A
   server without IDLE is checked every ``poll_seconds`` while nothing comes: a poll
   before that waits like an IDLE would, without a connection, and returns nothing.

Always ``BODY.PEEK``: the mailbox's \\Seen flags change only when ``mark_seen`` is on.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from hub.contract import (
    InboundEvent,
    InboundMessage,
    MediaPart,
    PermanentFailure,
    PollResult,
    StickerPart,
)

from hub_email import parse, servers
from hub_email.config import EmailConfig
from hub_email.cursor import Cursor, load
from hub_email.imap import ImapSession, Mailbox
from hub_email.imap_wire import FetchedMail

log = logging.getLogger(__name__)
clock = time.monotonic  # the pacing's clock (tests move it)

BATCH = 50
BATCH_BYTES = 50_000_000
IDLE_SECONDS = 25.0
"""How long one poll waits in IDLE: below the 29 minutes of RFC 2177 and the few
minutes after which NAT boxes drop a silent connection, and short enough that the core
notices a disabled channel soon."""


def our_addresses(config: EmailConfig) -> frozenset[str]:
    """The mailbox's own addresses (mail from them is ours: a Sent copy, a loop)."""
    found = {str(config.from_address).lower()}
    if "@" in config.imap_username:
        found.add(config.imap_username.lower())
    return frozenset(found)


@dataclass(frozen=True)
class _Batch:
    """What one fetch of new mail gave."""

    events: list[InboundEvent]
    problems: list[str]
    failed: list[int]
    fetched: list[int]


class Inbox:
    """The reading side of one channel: what a poll and a file fetch do."""

    def __init__(self, config: EmailConfig, *, idle_seconds: float = IDLE_SECONDS) -> None:
        self.config = config
        self.server = servers.imap_server(config)
        self.idle_seconds = idle_seconds
        self._ours = our_addresses(config)
        # Pacing for servers without IDLE: whether the last session had IDLE, and when a
        # check last found nothing new (None while mail keeps coming).
        self._has_idle = True
        self._quiet_since: float | None = None

    # --- poll -------------------------------------------------------------------------

    async def poll(self, cursor_text: str | None) -> PollResult:
        """New events since ``cursor_text`` and the cursor after them (see the module)."""
        if not await self._due():
            return PollResult(events=[], cursor=cursor_text)
        session = await ImapSession.open(self.server)
        try:
            result = await self._poll(session, cursor_text)
        except BaseException:
            # Whatever broke (the server, a cancellation mid-IDLE): just hang up.
            session.close()
            raise
        self._has_idle = session.has_idle
        quiet = not result.events and result.cursor == cursor_text
        self._quiet_since = clock() if quiet else None
        await session.logout()
        return result

    async def _due(self) -> bool:
        """Whether to check the server now. With IDLE, or while mail keeps coming,
        always. A server without IDLE is checked every ``poll_seconds`` while it has
        nothing new: the poll waits (at most ``idle_seconds``, like an IDLE) and says
        "not yet" while the time has not come, so the core's quick re-polls never turn
        into a login a second."""
        if self._has_idle or self._quiet_since is None:
            return True
        wait = self._quiet_since + self.config.poll_seconds - clock()
        if wait <= 0:
            return True
        await asyncio.sleep(min(wait, self.idle_seconds))
        return clock() >= self._quiet_since + self.config.poll_seconds

    async def _poll(self, session: ImapSession, cursor_text: str | None) -> PollResult:
        folder = self.config.imap_folder
        mailbox = await session.select(folder)
        cursor = load(cursor_text, parser=parse.PARSER_VERSION)
        if cursor.uidvalidity != mailbox.uidvalidity:
            if cursor.uidvalidity is not None:
                log.warning(
                    "%s: the UIDVALIDITY of %r changed from %s to %s: reading the folder "
                    "again (mail already imported is recognized by its Message-ID)",
                    self.server,
                    folder,
                    cursor.uidvalidity,
                    mailbox.uidvalidity,
                )
            # The old UIDs (and the retry list with them) mean nothing any more.
            cursor = Cursor(uidvalidity=mailbox.uidvalidity, parser=parse.PARSER_VERSION)
        if cursor.parser != parse.PARSER_VERSION:
            return await self._reprocess(session, mailbox, cursor)
        result = await self._new_mail(session, mailbox, cursor)
        if result is None and await session.idle(self.idle_seconds):
            mailbox = await session.select(folder)  # IDLE saw mail: UIDNEXT moved
            if mailbox.uidvalidity == cursor.uidvalidity:
                result = await self._new_mail(session, mailbox, cursor)
        if result is not None:
            return result
        text = cursor.dump()
        # An unchanged cursor comes back as the very text it came as: the core then
        # knows nothing happened and writes nothing.
        return PollResult(events=[], cursor=cursor_text if _same(cursor_text, text) else text)

    async def _new_mail(
        self, session: ImapSession, mailbox: Mailbox, cursor: Cursor
    ) -> PollResult | None:
        """Fetch and parse the next batch above the cursor; None when there is none."""
        if mailbox.uidnext and mailbox.uidnext <= cursor.uid + 1:
            return None  # SELECT's UIDNEXT already says nothing is new: no SEARCH
        uids = await session.uids_after(cursor.uid)
        if not uids:
            return None
        sizes = await session.sizes(uids[:BATCH])
        batch = _take(uids[:BATCH], sizes)
        got = await self._fetch_and_parse(session, mailbox, batch, sizes)
        if self.config.mark_seen and got.fetched:
            await session.mark_seen(got.fetched)
        # The cursor passes UIDs expunged between the SEARCH and the FETCH as well.
        after = Cursor(
            uidvalidity=mailbox.uidvalidity,
            uid=max(batch),
            retry=tuple(sorted({*cursor.retry, *got.failed})),
            parser=cursor.parser,
        )
        return PollResult(events=got.events, cursor=after.dump(), problems=tuple(got.problems))

    async def _reprocess(
        self, session: ImapSession, mailbox: Mailbox, cursor: Cursor
    ) -> PollResult:
        """Parse the mail the older parser failed on again (a batch at a time, all in
        this poll: such mail is rare) and move the cursor to the running parser."""
        events: list[InboundEvent] = []
        problems: list[str] = []
        failed: list[int] = []
        for start in range(0, len(cursor.retry), BATCH):
            batch = cursor.retry[start : start + BATCH]
            sizes = await session.sizes(batch)
            present = [uid for uid in batch if uid in sizes]  # deleted meanwhile: let go
            got = await self._fetch_and_parse(session, mailbox, present, sizes, placeholders=False)
            # Edits of the placeholder messages the core stored for these mails.
            events += [
                event.model_copy(update={"edited": True})
                if isinstance(event, InboundMessage)
                else event
                for event in got.events
            ]
            problems += got.problems
            failed += got.failed
        log.info(
            "%s: parser %s -> %s: %d mail(s) to parse again, %d still failing",
            self.server,
            cursor.parser,
            parse.PARSER_VERSION,
            len(cursor.retry),
            len(failed),
        )
        after = Cursor(
            uidvalidity=cursor.uidvalidity,
            uid=cursor.uid,
            retry=tuple(sorted(failed)),
            parser=parse.PARSER_VERSION,
        )
        return PollResult(events=events, cursor=after.dump(), problems=tuple(problems))

    async def _fetch_and_parse(
        self,
        session: ImapSession,
        mailbox: Mailbox,
        uids: Sequence[int],
        sizes: dict[int, int],
        *,
        placeholders: bool = True,
    ) -> _Batch:
        """Fetch ``uids`` (oversize mail as its header) and parse each. A mail the parser
        fails on becomes a placeholder event (unless ``placeholders`` is off: it has one
        already), a problem line and an entry of ``failed``."""
        limit = self.config.max_message_mb * 1_000_000
        whole = [uid for uid in uids if sizes.get(uid, 0) <= limit]
        oversize = [uid for uid in uids if sizes.get(uid, 0) > limit]
        mails = [*await session.fetch(whole), *await session.fetch_headers(oversize)]
        mails.sort(key=lambda mail: mail.uid)
        events: list[InboundEvent] = []
        problems: list[str] = []
        failed: list[int] = []
        for mail in mails:
            if mail.uid in oversize:
                events.append(self._headers_only(mail, mailbox, limit))
                continue
            try:
                events.extend(
                    parse.parse_mail(
                        mail.raw,
                        uidvalidity=mailbox.uidvalidity,
                        uid=mail.uid,
                        mailbox_addresses=self._ours,
                        subject_thread_hours=self.config.subject_thread_hours or None,
                        received_at=_internaldate(mail.internaldate),
                    )
                )
            except Exception as err:  # any parser bug: keep the mail whole, never drop it
                log.exception("%s: mail UID %s could not be parsed", self.server, mail.uid)
                placeholder = parse.unparsed_message(
                    mail.raw,
                    uidvalidity=mailbox.uidvalidity,
                    uid=mail.uid,
                    error=f"{type(err).__name__}: {err}",
                )
                if placeholders:
                    events.append(placeholder)
                failed.append(mail.uid)
                problems.append(
                    f"mail UID {mail.uid} ({placeholder.external_id}) in {mailbox.name!r} "
                    f"could not be read ({type(err).__name__}: {err}); it is kept as a file "
                    "and read again after a parser update"
                )
        return _Batch(events, problems, failed, [mail.uid for mail in mails])

    def _headers_only(self, mail: FetchedMail, mailbox: Mailbox, limit: int) -> InboundMessage:
        return parse.parse_headers_only(
            mail.raw,
            size=mail.size,
            limit=limit,
            uidvalidity=mailbox.uidvalidity,
            uid=mail.uid,
            mailbox_addresses=self._ours,
            subject_thread_hours=self.config.subject_thread_hours or None,
            received_at=_internaldate(mail.internaldate),
        )

    # --- media ------------------------------------------------------------------------

    async def fetch_media(self, part: MediaPart | StickerPart) -> bytes:
        """The bytes of one file of a mail: fetched again by UID on a short session of
        its own (the poll's may be in IDLE) and cut out with ``parse.extract_part``."""
        reference = part.provider_media_id or ""
        try:
            validity_text, uid_text, section = reference.split(":", 2)
            uidvalidity, uid = int(validity_text), int(uid_text)
        except ValueError:
            raise PermanentFailure(
                "bad_media_id", f"not a file of this mailbox: {reference!r}"
            ) from None
        session = await ImapSession.open(self.server)
        try:
            mailbox = await session.select(self.config.imap_folder, readonly=True)
            if mailbox.uidvalidity != uidvalidity:
                raise PermanentFailure(
                    "mailbox_rebuilt",
                    f"the mailbox was rebuilt (UIDVALIDITY {uidvalidity} is now "
                    f"{mailbox.uidvalidity}): the mail of this file is no longer found by "
                    "its number",
                )
            mails = await session.fetch([uid])
        finally:
            await session.logout()
        if not mails:
            raise PermanentFailure("mail_gone", f"the mail (UID {uid}) is no longer in the mailbox")
        try:
            return parse.extract_part(mails[0].raw, section)
        except (KeyError, ValueError, IndexError) as err:
            raise PermanentFailure(
                "no_such_part", f"the mail (UID {uid}) has no part {section!r}: {err}"
            ) from None


def _take(uids: Sequence[int], sizes: dict[int, int]) -> list[int]:
    """The leading UIDs whose mail fits ``BATCH_BYTES`` together (at least one)."""
    taken: list[int] = []
    total = 0
    for uid in uids:
        total += sizes.get(uid, 0)
        if taken and total > BATCH_BYTES:
            break
        taken.append(uid)
    return taken


def _internaldate(text: str | None) -> datetime | None:
    """INTERNALDATE (``"03-Dec-2026 14:56:06 +0000"``): when the server received the mail."""
    if text is None:
        return None
    try:
        return datetime.strptime(text.strip(), "%d-%b-%Y %H:%M:%S %z")
    except ValueError:
        return None


def _same(stored: str | None, text: str) -> bool:
    """Whether ``stored`` is that cursor already (same fields, whatever the spacing)."""
    if stored is None:
        return False
    return load(stored, parser=-1) == load(text, parser=-1)
