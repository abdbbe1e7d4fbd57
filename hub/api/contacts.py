"""Contacts: list and search, create, read, update, delete, identities, block, merge."""

from __future__ import annotations

from aiohttp import web

from hub import appkeys
from hub.api.bodies import read_json, read_query
from hub.api.context import current_viewer, path_id, work
from hub.api.responses import json_items, json_model
from hub.api.routing import ApiRoutes, Page
from hub.api.schemas.contacts import (
    ContactBody,
    ContactOut,
    ContactQuery,
    IdentityBody,
    IdentityOut,
    MergeBody,
    MergeSuggestionOut,
    MergeSuggestionQuery,
)
from hub.inbox import contact_identities, contact_merge, contacts

api = ApiRoutes("contacts")
ITEM = "/api/v1/contacts/{contact_id}"


def _contact_id(request: web.Request) -> int:
    return path_id(request, "contact_id", "contact")


@api.get("/api/v1/contacts", query=ContactQuery, response=Page[ContactOut])
async def list_(request: web.Request) -> web.Response:
    """List or search the contacts the caller may see, one page at a time.

    ``q`` matches part of the name, first or last name, or email, case-insensitively; a
    ``q`` that looks like a phone number matches the digits of the phone.
    """
    viewer = await current_viewer(request)
    query = read_query(request, ContactQuery)
    async with work(request) as w:
        rows, next_cursor = await contacts.list_contacts(
            w.db,
            viewer,
            q=query.q,
            sort=query.sort,
            blocked=query.blocked,
            cursor=query.cursor,
            limit=query.limit,
        )
    return json_items([ContactOut.of(c) for c in rows], next_cursor)


@api.post("/api/v1/contacts", body=ContactBody, response=ContactOut, status=201)
async def create(request: web.Request) -> web.Response:
    """Create a contact; the phone is stored in E.164 and the email lowercased."""
    await current_viewer(request)
    body = await read_json(request, ContactBody)
    async with work(request) as w:
        contact = await contacts.create_contact(w, body, body.default_region)
    return json_model(ContactOut.of(contact), status=201)


# Declared before ITEM: aiohttp tries routes in order, and this path would fit ITEM too.
@api.get(
    "/api/v1/contacts/merge-suggestions",
    query=MergeSuggestionQuery,
    response=Page[MergeSuggestionOut],
)
async def merge_suggestions(request: web.Request) -> web.Response:
    """Pairs of contacts sharing an email or phone, the newer duplicate first
    (``contact_id``: only the pairs with that contact)."""
    viewer = await current_viewer(request)
    query = read_query(request, MergeSuggestionQuery)
    async with work(request) as w:
        rows, next_cursor = await contact_merge.merge_suggestions(
            w.db, viewer, contact_id=query.contact_id, cursor=query.cursor, limit=query.limit
        )
    return json_items([MergeSuggestionOut.of(s) for s in rows], next_cursor)


@api.get(ITEM, response=ContactOut)
async def get(request: web.Request) -> web.Response:
    """One contact (404 when it does not exist or is hidden from the caller)."""
    viewer = await current_viewer(request)
    contact_id = _contact_id(request)
    async with work(request) as w:
        contact = await contacts.get_contact(w.db, viewer, contact_id)
    return json_model(ContactOut.of(contact))


@api.patch(ITEM, body=ContactBody, response=ContactOut)
async def update(request: web.Request) -> web.Response:
    """Change the fields given; ``null`` clears one. Custom ``fields`` are merged."""
    viewer = await current_viewer(request)
    contact_id = _contact_id(request)
    body = await read_json(request, ContactBody)
    async with work(request) as w:
        contact = await contacts.update_contact(w, viewer, contact_id, body, body.default_region)
    return json_model(ContactOut.of(contact))


@api.delete(ITEM, status=204, errors=(403,))
async def delete(request: web.Request) -> web.Response:
    """Delete a contact with its conversations (owners, managers, unrestricted agents)."""
    viewer = await current_viewer(request)
    contact_id = _contact_id(request)
    async with work(request) as w:
        await contacts.delete_contact(w, viewer, contact_id)
    return web.Response(status=204)


@api.get(f"{ITEM}/identities", response=Page[IdentityOut])
async def identities(request: web.Request) -> web.Response:
    """Who the contact is on each channel (all of them; a contact has few)."""
    viewer = await current_viewer(request)
    contact_id = _contact_id(request)
    async with work(request) as w:
        rows = await contacts.list_identities(w.db, viewer, contact_id)
    return json_items([IdentityOut.of(row) for row in rows])


@api.post(f"{ITEM}/identities", body=IdentityBody, response=IdentityOut, status=201, errors=(409,))
async def add_identity(request: web.Request) -> web.Response:
    """Reach the contact on a channel they have not written on: ``address`` is read by
    the channel's plugin (WhatsApp: a phone number). 201 with the new identity, 200 when
    the contact has it already; 422 ``address`` when the channel does not accept it or
    cannot write first; 409 ``identity_taken`` when it is another contact's."""
    viewer = await current_viewer(request)
    contact_id = _contact_id(request)
    body = await read_json(request, IdentityBody)
    channels = request.config_dict[appkeys.CHANNELS]
    async with work(request) as w:
        added = await contact_identities.add_identity(
            w, viewer, contact_id, body.channel_id, body.address, channels
        )
    return json_model(IdentityOut.of(added.row), status=201 if added.created else 200)


async def _block(request: web.Request, blocked: bool) -> web.Response:
    viewer = await current_viewer(request)
    contact_id = _contact_id(request)
    async with work(request) as w:
        contact = await contacts.set_blocked(w, viewer, contact_id, blocked)
    return json_model(ContactOut.of(contact))


@api.post(f"{ITEM}/block", response=ContactOut, errors=(403, 409))
async def block(request: web.Request) -> web.Response:
    """Block: the contact's conversations show only in the Blocked-contacts inbox."""
    return await _block(request, True)


@api.post(f"{ITEM}/unblock", response=ContactOut, errors=(403, 409))
async def unblock(request: web.Request) -> web.Response:
    """Unblock: the contact's conversations return to the other inboxes."""
    return await _block(request, False)


@api.post(f"{ITEM}/merge", body=MergeBody, response=ContactOut, errors=(403,))
async def merge(request: web.Request) -> web.Response:
    """Fold ``other_id`` into this contact, which is kept; the other is deleted."""
    viewer = await current_viewer(request)
    contact_id = _contact_id(request)
    body = await read_json(request, MergeBody)
    async with work(request) as w:
        contact = await contact_merge.merge(w, viewer, contact_id, body.other_id)
    return json_model(ContactOut.of(contact))
