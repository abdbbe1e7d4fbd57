"""Give a contact an identity on a channel they have not written on, so an agent can
write to them first there. Which addresses a channel accepts is its plugin's business
(``ChannelType.address_of``)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from hub.auth.visibility import Viewer
from hub.errors import HubError, Invalid
from hub.events.work import Work
from hub.inbox.channel_plugins import ChannelPlugins, ChannelUnavailable
from hub.inbox.contacts import IdentityRow, announce_contact, contact_filter, get_contact
from hub.store.models import Channel, Contact, ContactIdentity


@dataclass(frozen=True)
class AddedIdentity:
    """The contact's identity on the channel, and whether this call created it."""

    row: IdentityRow
    created: bool


async def add_identity(
    work: Work,
    viewer: Viewer,
    contact_id: int,
    channel_id: int,
    address: str,
    channels: ChannelPlugins,
) -> AddedIdentity:
    """Record that a visible contact (404 otherwise) is ``address`` on a channel.

    Refused: a missing or deleted channel, or one whose plugin cannot be built (422
    ``channel_id``); an address the channel does not accept or a channel that cannot
    write first (422 ``address``, the plugin's words); an address that is another
    contact's on this channel (409 ``identity_taken``, with that contact's id when the
    caller may see it). The contact's own identity again is no change.
    """
    contact = await get_contact(work.db, viewer, contact_id)
    channel = await work.db.get(Channel, channel_id)
    if channel is None or channel.deleted_at is not None:
        raise Invalid("channel_id", "no channel with this id")
    try:
        plugin = channels.for_channel(channel)
    except ChannelUnavailable as err:
        raise Invalid("channel_id", f"the channel cannot be used: {err.reason}") from err
    try:
        external_id = plugin.address_of(address)
    except ValueError as err:
        raise Invalid("address", str(err)) from err
    existing = await work.db.scalar(
        select(ContactIdentity).where(
            ContactIdentity.channel_id == channel.id, ContactIdentity.external_id == external_id
        )
    )
    if existing is not None and existing.contact_id != contact.id:
        visible = await work.db.scalar(
            select(Contact.id).where(Contact.id == existing.contact_id, contact_filter(viewer))
        )
        raise HubError(
            409,
            "identity_taken",
            f"this address belongs to another contact on {channel.name}"
            + (f" (contact {visible})" if visible is not None else ""),
            {"contact_id": visible},
        )
    created = existing is None
    if existing is None:
        existing = ContactIdentity(
            contact_id=contact.id, channel_id=channel.id, external_id=external_id, profile={}
        )
        work.db.add(existing)
        try:
            await work.db.flush()
        except IntegrityError:
            # The check above can lose a race with the same address saved at once (by
            # another agent, or arriving from the contact); the unique index cannot.
            raise HubError(
                409,
                "identity_taken",
                f"this address was just given to a contact on {channel.name}",
                {"contact_id": None},
            ) from None
        await announce_contact(work, contact.id, "identity_added", channel_id=channel.id)
    return AddedIdentity(IdentityRow(existing, channel.type, channel.name), created)
