"""Links between hub contacts and CRM records, and the cached values on them.

``link_contact`` finds the record by email, then by phone, and creates it when the
connection's rule says so; ``refresh_link`` reads the record again; ``apply_records``
stores what a pull or a webhook brought. Each talks to the CRM outside any transaction
and writes in a short one after.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
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
    *,
    email_searched: bool = False,
) -> tuple[CrmRecord | None, bool]:
    """The contact's CRM record by email, then phone, else a new one when the rule says;
    and whether it was created. ``email_searched``: a batch lookup already found no
    record by email. Raises ``CrmCallFailed``."""
    record: CrmRecord | None = None
    if contact.email and not email_searched:
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


@dataclass(frozen=True)
class BatchLinked:
    """What linking a batch of contacts did, by outcome."""

    counts: dict[str, int]


async def link_batch(
    env: CrmEnv,
    connection_id: int,
    contact_ids: list[int],
    concurrency: int = 4,
    *,
    record_progress: Callable[[AsyncSession, dict[str, int]], Awaitable[None]] | None = None,
) -> BatchLinked:
    """Link a batch of contacts (the bulk first link): one ``find_many`` for their
    emails, then a phone lookup (or a creation, per the rule) for each contact not found
    that way, then one transaction for every link. Raises ``CrmCallFailed`` when the
    batch lookup fails (the batch is retried as a whole); a contact whose own lookup
    fails counts as ``failed``. ``record_progress`` runs in the links' transaction, so
    a bulk job's progress and its links are committed together."""
    counts = {"linked": 0, "created": 0, "not_found": 0, "failed": 0}
    async with env.sessions() as db:
        connection = await db.get(CrmConnection, connection_id)
        if connection is None:
            return BatchLinked(counts)
        linked_ids = set(
            await db.scalars(
                select(CrmContactLink.contact_id).where(
                    CrmContactLink.connection_id == connection_id,
                    CrmContactLink.contact_id.in_(contact_ids),
                )
            )
        )
        contacts = [
            c
            for c in await db.scalars(select(Contact).where(Contact.id.in_(contact_ids)))
            if c.id not in linked_ids
        ]
    counts["not_found"] += len(contact_ids) - len(contacts) - len(linked_ids)
    counts["linked"] += len(linked_ids)
    settings = CrmSettings.of(connection)
    plugin = env.instances.for_connection(connection)
    emails = sorted({c.email.lower() for c in contacts if c.email})
    by_email: dict[str, CrmRecord] = {}
    if emails:
        by_email = await env.calls.run(connection_id, lambda: plugin.find_many(emails))
    found: dict[int, tuple[CrmRecord, bool]] = {}
    rest: list[Contact] = []
    for contact in contacts:
        record = by_email.get(contact.email.lower()) if contact.email else None
        if record is not None:
            found[contact.id] = (record, False)
        else:
            rest.append(contact)
    gate = asyncio.Semaphore(concurrency)

    async def one(contact: Contact) -> None:
        async with gate:
            try:
                record, created = await find_or_create(
                    env, connection, plugin, contact, settings, email_searched=True
                )
            except CrmCallFailed as err:
                if err.kind == "credentials":
                    raise
                counts["failed"] += 1
                return
        if record is None:
            counts["not_found"] += 1
        else:
            found[contact.id] = (record, created)

    await asyncio.gather(*(one(c) for c in rest))
    owners: dict[str, str | None] = {}
    for record, _ in found.values():
        owner = record.owner_external_id
        if owner and owner not in owners:
            owners[owner] = await env.owner_email(connection_id, plugin, owner)
    async with env.sessions() as db:
        taken = set(
            await db.scalars(
                select(CrmContactLink.external_id).where(
                    CrmContactLink.connection_id == connection_id,
                    CrmContactLink.external_id.in_([r.external_id for r, _ in found.values()]),
                )
            )
        )
        for contact_id, (record, created) in found.items():
            if record.external_id in taken:
                counts["not_found"] += 1  # another hub contact has this record
                continue
            taken.add(record.external_id)
            link = CrmContactLink(
                connection_id=connection_id,
                contact_id=contact_id,
                external_id=record.external_id,
                cached={},
                conflicts={},
            )
            db.add(link)
            owner_email = owners.get(record.owner_external_id or "")
            await store_record(db, link, record, owner_email, settings, replace=True)
            counts["created" if created else "linked"] += 1
        if record_progress is not None:
            await record_progress(db, counts)
        await db.commit()
    return BatchLinked(counts)
