"""Links between hub contacts and CRM records, and the cached values on them.

``link_contact`` finds the record by email, then by phone, and creates it when the
connection's rule says so; ``refresh_link`` reads the record again; ``apply_records``
stores what a pull or a webhook brought. Each talks to the CRM outside any transaction
and writes in a short one after.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.contract.crm import CrmType
from hub.contract.models import CrmRecord
from hub.crm.calls import CrmCallFailed
from hub.crm.env import CrmEnv
from hub.crm.mapping import hub_value, set_hub_value
from hub.crm.settings import CrmSettings
from hub.inbox.contacts import announce_contact
from hub.store.models import Contact, CrmConnection, CrmContactLink
from hub.store.types import utcnow

log = logging.getLogger(__name__)
LinkOutcome = Literal["linked", "created", "not_found", "taken", "gone"]


@dataclass(frozen=True)
class Linked:
    """What linking one contact did."""

    outcome: LinkOutcome
    link_id: int | None = None


async def find_or_create(
    env: CrmEnv,
    connection: CrmConnection,
    plugin: CrmType[Any],
    contact: Contact,
    settings: CrmSettings,
) -> tuple[CrmRecord | None, bool]:
    """The contact's CRM record by email, then phone, else a new one when the rule says;
    and whether it was created. Raises ``CrmCallFailed``."""
    record: CrmRecord | None = None
    if contact.email:
        email = contact.email
        record = await env.calls.run(connection.id, lambda: plugin.find_contact(email=email))
    if record is None and contact.phone:
        phone = contact.phone
        record = await env.calls.run(connection.id, lambda: plugin.find_contact(phone=phone))
    if record is not None or not settings.linking.create_when_missing:
        return record, False
    if not (contact.email or contact.phone):
        return None, False  # nothing to find it by again: do not create a stray record
    fields = new_record_fields(contact, settings)
    created = await env.calls.run(connection.id, lambda: plugin.create_contact(fields))
    return created, True


def new_record_fields(contact: Contact, settings: CrmSettings) -> dict[str, Any]:
    """A new record's fields: the pushed mappings' values (email and phone always)."""
    fields: dict[str, Any] = {"email": contact.email, "phone": contact.phone}
    for mapping in settings.mapping:
        if mapping.pushes:
            value = hub_value(contact, mapping.hub_field)
            if value not in (None, ""):
                fields[mapping.crm_field] = value
    return {key: value for key, value in fields.items() if value not in (None, "")}


async def link_contact(env: CrmEnv, connection_id: int, contact_id: int) -> Linked:
    """Link one contact per the connection's rule, caching the record's values.
    Raises ``CrmCallFailed`` (the caller records it)."""
    async with env.sessions() as db:
        connection = await db.get(CrmConnection, connection_id)
        contact = await db.get(Contact, contact_id)
        existing = await link_of(db, connection_id, contact_id)
    if connection is None or contact is None:
        return Linked("gone")
    if existing is not None:
        return Linked("linked", existing.id)
    settings = CrmSettings.of(connection)
    plugin = env.instances.for_connection(connection)
    record, created = await find_or_create(env, connection, plugin, contact, settings)
    if record is None:
        return Linked("not_found")
    owner_email = await env.owner_email(connection_id, plugin, record.owner_external_id)
    async with env.work() as w:
        taken = await w.db.scalar(
            select(CrmContactLink).where(
                CrmContactLink.connection_id == connection_id,
                CrmContactLink.external_id == record.external_id,
            )
        )
        if taken is not None:
            # Another hub contact has this record already (two contacts, one email).
            return Linked("linked" if taken.contact_id == contact_id else "taken", taken.id)
        link = CrmContactLink(
            connection_id=connection_id,
            contact_id=contact_id,
            external_id=record.external_id,
            cached={},
            conflicts={},
        )
        w.db.add(link)
        await store_record(w.db, link, record, owner_email, settings, replace=True)
        await w.db.flush()
        await announce_contact(w, contact_id, "crm")
    return Linked("created" if created else "linked", link.id)


async def link_of(db: AsyncSession, connection_id: int, contact_id: int) -> CrmContactLink | None:
    """The contact's link on the connection, if any."""
    result: CrmContactLink | None = await db.scalar(
        select(CrmContactLink).where(
            CrmContactLink.connection_id == connection_id,
            CrmContactLink.contact_id == contact_id,
        )
    )
    return result


async def store_record(
    db: AsyncSession,
    link: CrmContactLink,
    record: CrmRecord,
    owner_email: str | None,
    settings: CrmSettings,
    *,
    replace: bool,
) -> bool:
    """Cache ``record`` on ``link`` (all its fields when ``replace``, else merged: a
    webhook carries only the changed ones) and copy pulled mappings to the contact;
    whether the hub contact changed."""
    now = utcnow()
    cached = {} if replace else dict(link.cached or {})
    cached.update(record.fields)
    link.cached = cached
    link.fetched_at = now
    link.last_synced_at = now
    link.last_error = None
    if record.owner_external_id is not None or replace:
        link.owner_external_id = record.owner_external_id
        link.owner_email = owner_email
    pulled = [m for m in settings.mapping if m.pulls and m.crm_field in record.fields]
    if not pulled:
        return False
    contact = await db.get(Contact, link.contact_id)
    if contact is None:
        return False
    changed = False
    conflicts = dict(link.conflicts or {})
    for mapping in pulled:
        if set_hub_value(contact, mapping.hub_field, record.fields[mapping.crm_field]):
            changed = True
            conflicts.pop(mapping.crm_field, None)  # the CRM's value won: nothing to decide
    link.conflicts = conflicts
    return changed


async def refresh_link(env: CrmEnv, connection_id: int, contact_id: int) -> None:
    """Read the linked record again into the cache; a failure is kept as the link's
    ``last_error`` (the sidebar shows it with the cached values)."""
    async with env.sessions() as db:
        connection = await db.get(CrmConnection, connection_id)
        link = await link_of(db, connection_id, contact_id)
    if connection is None or link is None:
        return
    try:
        plugin = env.instances.for_connection(connection)
        external_id = link.external_id
        record = await env.calls.run(connection_id, lambda: plugin.read_fields(external_id))
        owner_email = await env.owner_email(connection_id, plugin, record.owner_external_id)
    except CrmCallFailed as err:
        await note_error(env, link.id, err.message)
        return
    except Exception as err:
        log.exception("CRM connection %s: refresh failed", connection_id)
        await note_error(env, link.id, f"refresh failed: {type(err).__name__}")
        return
    async with env.work() as w:
        fresh = await w.db.get(CrmContactLink, link.id)
        if fresh is None:
            return
        await store_record(
            w.db, fresh, record, owner_email, CrmSettings.of(connection), replace=True
        )
        await announce_contact(w, contact_id, "crm")


async def note_error(env: CrmEnv, link_id: int, message: str) -> None:
    """Keep ``message`` as the link's last error (cached values stay as they were)."""
    async with env.sessions() as db:
        link = await db.get(CrmContactLink, link_id)
        if link is not None:
            link.last_error = message
            await db.commit()


async def apply_records(env: CrmEnv, connection: CrmConnection, records: list[CrmRecord]) -> int:
    """Store records a pull or webhook brought on the links they belong to (records of
    unlinked contacts are ignored); how many links changed."""
    if not records:
        return 0
    settings = CrmSettings.of(connection)
    plugin = env.instances.for_connection(connection)
    owners = {
        r.owner_external_id: await env.owner_email(connection.id, plugin, r.owner_external_id)
        for r in records
        if r.owner_external_id
    }
    by_id = {r.external_id: r for r in records}
    async with env.work() as w:
        links = await w.db.scalars(
            select(CrmContactLink).where(
                CrmContactLink.connection_id == connection.id,
                CrmContactLink.external_id.in_(list(by_id)),
            )
        )
        count = 0
        for link in links:
            record = by_id[link.external_id]
            owner = owners.get(record.owner_external_id) if record.owner_external_id else None
            await store_record(w.db, link, record, owner, settings, replace=False)
            await announce_contact(w, link.contact_id, "crm")
            count += 1
    return count
