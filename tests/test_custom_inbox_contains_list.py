"""A custom inbox with a "contains" on the contact lists, page by page and in every
sort, exactly the conversations the definition gives, in the definition's order.

Through each path a text can take: the trigram candidates inside the statement
(SQLite), the contacts resolved to ids and their conversations sorted (PostgreSQL), a
text too short for trigrams, and the plain test when the contacts are too many.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import get_args

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.auth.visibility import Viewer
from hub.inbox import contact_contains, filters
from hub.inbox.filters import ContactCondition, CustomInboxFilters, contact_condition
from hub.inbox.views import Sort, View, list_conversations
from hub.store.models import Contact, Conversation, CustomInbox, User
from tests.factories import Factory

Sessions = async_sessionmaker[AsyncSession]

EMAILS = [
    "ann@zq1.io",
    "BOB@ZQ1.IO",
    "cy@zq2.io",
    "d%e@zq1.io",
    "f_g@zq3.io",
    "Öz@zq1.io",
    "hi@other.net",
    "öz@low.io",
]


async def _arrange(db: Sessions, factory: Factory, user: User, text: str) -> int:
    channel = await factory.channel()
    for i, email in enumerate(EMAILS):
        contact = await factory.contact(f"P{i}", email=email, blocked=i == 2)
        for k in range(3):
            status = ("open", "closed", "snoozed")[(i + k) % 3]
            # Ties in time (i + k repeats) so the id breaks them, as the cursor must.
            await factory.conversation(channel, contact, minutes=(i + k) % 5, status=status)
    condition = {"field": "email", "op": "contains", "value": text}
    async with db() as session:
        inbox = CustomInbox(owner_id=user.id, name="zq", filters={"contact": [condition]})
        session.add(inbox)
        await session.commit()
        return inbox.id


async def _expected(db: Sessions, text: str, status: str, sort: Sort) -> list[int]:
    condition = contact_condition(ContactCondition(field="email", op="contains", value=text))
    async with db() as session:
        query = select(Conversation).where(condition, Conversation.contact_blocked.is_not(True))
        rows = list(await session.scalars(query))
    rows = [r for r in rows if status == "all" or r.status == status]
    if sort == "priority":
        rows.sort(key=lambda r: (r.priority, r.last_message_at, r.id), reverse=True)
    else:
        column = "last_message_at" if sort in ("newest", "oldest") else "status_changed_at"
        descending = sort in ("newest", "shortest")
        rows.sort(key=lambda r: (getattr(r, column), r.id), reverse=descending)
    return [r.id for r in rows]


async def _listed(db: Sessions, viewer: Viewer, view: View, status: str, sort: Sort) -> list[int]:
    ids: list[int] = []
    cursor = None
    while True:
        async with db() as session:
            rows, cursor = await list_conversations(
                session, viewer, view=view, status=status, sort=sort, cursor=cursor, limit=2
            )
        ids += [row.conversation.id for row in rows]
        if cursor is None:
            return ids


@pytest.mark.parametrize("path", ["index", "ids", "plain"])
@pytest.mark.parametrize("text", ["@ZQ1.", "zq", "%e", "_", "öz@", "nowhere"])
async def test_a_contains_inbox_lists_the_definitions_conversations_in_order(
    db: Sessions,
    factory: Factory,
    make_user: Callable[..., Awaitable[User]],
    monkeypatch: pytest.MonkeyPatch,
    text: str,
    path: str,
) -> None:
    if path == "ids":  # the rare trigrams' subquery not taken: the contacts' ids bound
        monkeypatch.setattr(filters, "RARE", filters.MAX_RESOLVED_CONTACTS + 1)
    if path == "plain":  # too many contacts to resolve: each conversation tested
        monkeypatch.setattr(filters, "MAX_RESOLVED_CONTACTS", 1)
    contact_contains.forget_rare_trigrams()
    user = await make_user(role="manager")
    inbox_id = await _arrange(db, factory, user, text)
    viewer = Viewer(user.id, user.role, user.visibility, frozenset())
    view = View("custom", inbox_id)
    checked = 0
    for status in ("open", "all"):
        for sort in get_args(Sort):
            expected = await _expected(db, text, status, sort)
            assert await _listed(db, viewer, view, status, sort) == expected, (status, sort)
            checked += len(expected)
    assert checked > 0 or text == "nowhere"


async def test_only_a_few_resolved_contacts_sort_their_conversations(db: Sessions) -> None:
    """The sorted read is taken for a few contacts found through the index, which only
    PostgreSQL does; texts the index cannot serve keep the view's walk."""
    async with db() as session:
        session.add(Contact(name="Zed", email="zed@zq9.io"))
        await session.commit()
        postgresql = session.get_bind().dialect.name == "postgresql"

        async def few(text: str) -> bool:
            condition = ContactCondition(field="email", op="contains", value=text)
            found = await filters.inbox_clause(session, CustomInboxFilters(contact=[condition]))
            return found.few

        assert await few("@zq9.") is postgresql
        assert await few("zq") is False  # too short for a trigram
        assert await few("nothing at all") is postgresql  # rare trigrams: few matches
