"""What a batch of inbound events will look up, loaded up front in a few statements.

Taking one message asks the database four questions (is it a re-delivery? who is the
sender? which conversation? which contact?), each a statement, and on SQLite each
statement is a round trip to the driver's thread. The group committer runs many
requests in one transaction, so ``prefetch`` asks those questions once for the whole
batch (``WHERE … IN (…)``) and leaves the answers on the batch's session, where
``hub.inbox.intake`` consults them before querying.

The answers describe the database when the batch began. A job that writes one of the
keys (stores a message, creates an identity or a conversation) makes ``forget`` it, so
later jobs of the batch ask the database again and see that write: an answer is used
only while it cannot be stale. The loaded rows are also held here, because a session
holds unmodified objects only weakly and would otherwise load them again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from hub.contract.models import InboundEvent, InboundMessage, WebhookRequest
from hub.inbox.storable import key
from hub.store.models import Channel, Contact, ContactIdentity, Conversation, Message

INFO_KEY = "intake_batch"
# Live conversations are the ones a message can join without a new one being opened.
LIVE = ("open", "snoozed")

Key = tuple[int, str]  # (channel id, provider id as stored)


@dataclass(frozen=True)
class Delivery:
    """One verified webhook request as the group committer's hint: its channel, its
    normalized events and the raw request (for the set-based intake's log row); or one
    chunk of a big request."""

    channel_id: int
    events: Sequence[InboundEvent]
    request: WebhookRequest
    # A big request is stored in chunks, each its own Delivery: only the last writes the
    # request's log row, with every event of the request (``logged_events``).
    logged: bool = True
    logged_events: Sequence[InboundEvent] | None = None


@dataclass
class BatchIndex:
    """The prefetched answers of one batch; ``None`` from a lookup means "ask"."""

    message_ids: dict[Key, int | None] = field(default_factory=dict)
    identities: dict[Key, ContactIdentity | None] = field(default_factory=dict)
    # (channel id, contact id) → the contact's latest and live conversations there.
    conversations: dict[tuple[int, int], list[Conversation]] = field(default_factory=dict)
    # The batch's channels and the known senders' contacts, as loaded, by id.
    channels: dict[int, Channel] = field(default_factory=dict)
    contacts: dict[int, Contact] = field(default_factory=dict)
    rows: list[Any] = field(default_factory=list)

    @staticmethod
    def of(db: AsyncSession) -> BatchIndex | None:
        """The index of the batch ``db`` runs, if one was prefetched."""
        index: BatchIndex | None = db.info.get(INFO_KEY)
        return index

    def message(self, key: Key) -> tuple[bool, int | None]:
        """(known, message id): known with None means no such message existed."""
        if key in self.message_ids:
            return True, self.message_ids[key]
        return False, None

    def identity(self, key: Key) -> tuple[bool, ContactIdentity | None]:
        """(known, identity): known with None means the sender was never seen."""
        if key in self.identities:
            return True, self.identities[key]
        return False, None

    def live_and_latest(
        self, channel_id: int, contact_id: int
    ) -> tuple[bool, Conversation | None, Conversation | None]:
        """(known, latest conversation, latest live one) of a contact on a channel, read
        from the rows' current state, so a conversation reopened earlier in the batch
        counts as live."""
        found = self.conversations.get((channel_id, contact_id))
        if found is None:
            return False, None, None
        latest = max(found, key=lambda c: c.id, default=None)
        live = max((c for c in found if c.status in LIVE), key=lambda c: c.id, default=None)
        return True, latest, live

    def forget_message(self, key: Key) -> None:
        """A message with ``key`` was written: ask the database from now on."""
        self.message_ids.pop(key, None)

    def forget_identity(self, key: Key) -> None:
        """An identity with ``key`` was written: ask the database from now on."""
        self.identities.pop(key, None)

    def new_contact(self, channel_id: int, contact_id: int) -> None:
        """A contact was just created: it has no conversation yet."""
        self.conversations[(channel_id, contact_id)] = []

    def forget_conversations(self, channel_id: int, contact_id: int) -> None:
        """A conversation of the contact was created: ask the database from now on."""
        self.conversations.pop((channel_id, contact_id), None)


async def prefetch(db: AsyncSession, hints: Sequence[Delivery]) -> None:
    """Load what the batch's messages will look up; ``hints`` are the batch's requests.

    Costs a handful of statements for the whole batch, however large.
    """
    index = BatchIndex()
    db.info[INFO_KEY] = index
    channel_ids = sorted({hint.channel_id for hint in hints})
    if not channel_ids:
        return
    channels = list(await db.scalars(select(Channel).where(Channel.id.in_(channel_ids))))
    index.channels = {channel.id: channel for channel in channels}
    index.rows.extend(channels)
    message_keys: set[Key] = set()
    sender_keys: set[Key] = set()
    for hint in hints:
        for event in hint.events:
            if isinstance(event, InboundMessage):
                message_keys.add((hint.channel_id, key(event.external_id)))
                sender_keys.add((hint.channel_id, key(event.sender_id)))
    if not message_keys:
        return
    index.message_ids = dict.fromkeys(message_keys)
    found = await db.execute(
        select(Message.channel_id, Message.external_id, Message.id).where(
            tuple_(Message.channel_id, Message.external_id).in_(sorted(message_keys))
        )
    )
    for channel_id, external_id, message_id in found:
        if external_id is not None:  # always, as it matched; narrows the type
            index.message_ids[(channel_id, external_id)] = message_id
    index.identities = dict.fromkeys(sender_keys)
    # Each identity with its contact, in one statement.
    pairs = (
        await db.execute(
            select(ContactIdentity, Contact)
            .join(Contact, Contact.id == ContactIdentity.contact_id)
            .where(
                tuple_(ContactIdentity.channel_id, ContactIdentity.external_id).in_(
                    sorted(sender_keys)
                )
            )
        )
    ).all()
    identities = [identity for identity, _ in pairs]
    for identity in identities:
        index.identities[(identity.channel_id, identity.external_id)] = identity
    index.rows.extend(identities)
    contacts = list({contact.id: contact for _, contact in pairs}.values())
    if not contacts:
        return
    index.contacts = {contact.id: contact for contact in contacts}
    index.rows.extend(contacts)
    # Merged contacts' conversations hang off the contact that absorbed them: those
    # messages take the ordinary path.
    owners = [c.id for c in contacts if c.merged_into_id is None]
    latest = (
        select(func.max(Conversation.id))
        .where(
            Conversation.channel_id.in_(channel_ids),
            Conversation.contact_id.in_(owners),
            Conversation.merged_into_id.is_(None),  # history: its thread goes on in the target
        )
        .group_by(Conversation.channel_id, Conversation.contact_id)
    )
    rows = await db.scalars(
        select(Conversation).where(
            Conversation.channel_id.in_(channel_ids),
            Conversation.contact_id.in_(owners),
            Conversation.merged_into_id.is_(None),
            Conversation.status.in_(LIVE) | Conversation.id.in_(latest),
        )
    )
    for channel_id in channel_ids:
        for owner in owners:
            index.conversations[(channel_id, owner)] = []
    for conversation in rows:
        index.conversations[(conversation.channel_id, conversation.contact_id)].append(conversation)
        index.rows.append(conversation)
