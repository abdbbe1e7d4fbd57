""" "Contains" on contacts' fields through the trigram indexes finds exactly what the
definition finds (``lower(field) LIKE '%text%'``, wildcards literal), on every engine.

Random contacts and random texts (substrings of stored values with their case changed,
short texts, wildcards, quotes, backslashes, non-ASCII letters) are compared between the
indexed path and the definition, for the custom inboxes' contact conditions and for the
contacts search; again after contacts were changed, added and deleted (the SQLite
index is kept in step by triggers); and through the fallback taken when a text matches
many contacts.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

import pytest
from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.inbox import contact_contains, filters
from hub.inbox.contact_contains import FIELDS, contains, matching_contact_ids
from hub.inbox.contacts import search_clause, search_definition
from hub.inbox.filters import ContactCondition, CustomInboxFilters, contact_condition
from hub.store.models import Contact, Conversation
from tests.factories import Factory
from tests.statements import recorded

Sessions = async_sessionmaker[AsyncSession]

# Letters that fold differently (or not at all) in SQLite and PostgreSQL, the LIKE
# wildcards and escape, the FTS5 quote, a space.
ALPHABET = "abcAB" + "éÉüÜßİıΣσ" + "%_\\\"' .@+" + "0123"


def _word(rnd: random.Random, low: int, high: int) -> str:
    return "".join(rnd.choice(ALPHABET) for _ in range(rnd.randint(low, high)))


def _contact_values(rnd: random.Random) -> dict[str, Any]:
    values: dict[str, Any] = {"name": _word(rnd, 0, 12)}
    for field in ("first_name", "last_name", "email"):
        values[field] = None if rnd.random() < 0.2 else _word(rnd, 0, 14)
    values["phone"] = None if rnd.random() < 0.2 else "+49" + str(rnd.randint(10**6, 10**10))
    return values


def _recased(rnd: random.Random, text: str) -> str:
    return "".join(c.upper() if rnd.random() < 0.5 else c.lower() for c in text)


def _texts(rnd: random.Random, stored: Sequence[str], count: int) -> list[str]:
    """Texts to look for: pieces of stored values (recased), short ones, random ones."""
    texts = []
    for _ in range(count):
        roll = rnd.random()
        if roll < 0.6 and stored:
            value = rnd.choice(stored)
            start = rnd.randint(0, max(0, len(value) - 1))
            piece = value[start : start + rnd.randint(1, 8)]
            texts.append(_recased(rnd, piece) if piece else "a")
        elif roll < 0.75:
            texts.append(_word(rnd, 1, 2))
        else:
            texts.append(_word(rnd, 3, 6))
    return texts


async def _seed_contacts(db: Sessions, rnd: random.Random, count: int) -> None:
    async with db() as session:
        await session.execute(insert(Contact), [_contact_values(rnd) for _ in range(count)])
        await session.commit()


async def _stored(db: Sessions, field: str) -> list[str]:
    async with db() as session:
        column = getattr(Contact, field)
        return [v for v in await session.scalars(select(column)) if v]


async def _ids(session: AsyncSession, condition: Any) -> set[int]:
    return set(await session.scalars(select(Contact.id).where(condition)))


async def _compare_fields(db: Sessions, rnd: random.Random, texts_per_field: int) -> int:
    """Indexed and defined matches agree for each field; returns how many matched."""
    matched = 0
    for field in FIELDS:
        texts = _texts(rnd, await _stored(db, field), texts_per_field)
        async with db() as session:
            for text in texts:
                expected = await _ids(session, contains(getattr(Contact, field), text))
                found = await matching_contact_ids(session, field, text, 10**6)
                if found is None:  # too short for trigrams: the definition is used
                    assert not contact_contains.indexable(text), text
                    continue
                assert set(found) == expected, (field, text)
                matched += bool(expected)
    return matched


async def _compare_search(db: Sessions, rnd: random.Random, count: int) -> int:
    stored = await _stored(db, "name") + await _stored(db, "email")
    phones = [p.removeprefix("+49") for p in await _stored(db, "phone")]
    texts = _texts(rnd, stored, count) + [f"0{p[: rnd.randint(1, 8)]}" for p in phones[:20]]
    matched = 0
    async with db() as session:
        for text in texts:
            expected = await _ids(session, search_definition(text))
            assert await _ids(session, await search_clause(session, text)) == expected, text
            matched += bool(expected)
    return matched


async def test_indexed_contains_finds_what_the_definition_finds(db: Sessions) -> None:
    rnd = random.Random(18)
    await _seed_contacts(db, rnd, 250)
    # Enough of the texts match something for the comparison to mean anything.
    assert await _compare_fields(db, rnd, 60) > 25
    assert await _compare_search(db, rnd, 80) > 15


async def test_the_index_follows_contacts_changed_added_and_deleted(db: Sessions) -> None:
    rnd = random.Random(4)
    await _seed_contacts(db, rnd, 150)
    await _compare_fields(db, rnd, 10)  # read through the index once before changing
    async with db() as session:
        ids = sorted(await session.scalars(select(Contact.id)))
        for contact_id in rnd.sample(ids, 40):
            changes = {k: v for k, v in _contact_values(rnd).items() if rnd.random() < 0.6}
            if changes:
                await session.execute(
                    update(Contact).where(Contact.id == contact_id).values(**changes)
                )
        await session.execute(delete(Contact).where(Contact.id.in_(rnd.sample(ids, 30))))
        await session.commit()
    await _seed_contacts(db, rnd, 40)
    assert await _compare_fields(db, rnd, 40) > 15
    assert await _compare_search(db, rnd, 40) > 5


async def test_a_deleted_contact_is_no_longer_found(db: Sessions) -> None:
    async with db() as session:
        await session.execute(insert(Contact), [{"name": "Zelda Quux", "email": "zq@x.io"}])
        await session.commit()
        assert await matching_contact_ids(session, "name", "lda qu", 10) != []
        await session.execute(update(Contact).values(name="Zora Quux"))
        assert await matching_contact_ids(session, "name", "lda qu", 10) == []
        assert await matching_contact_ids(session, "name", "ORA QU", 10) != []
        await session.execute(delete(Contact))
        await session.commit()
        assert await matching_contact_ids(session, "name", "ora qu", 10) == []


async def _conversation_ids(session: AsyncSession, condition: Any) -> set[int]:
    return set(await session.scalars(select(Conversation.id).where(condition)))


@pytest.mark.parametrize("resolved_at_most", [filters.MAX_RESOLVED_CONTACTS, 2])
async def test_custom_inbox_contact_conditions_keep_their_conversations(
    db: Sessions, factory: Factory, monkeypatch: pytest.MonkeyPatch, resolved_at_most: int
) -> None:
    # With a low limit most texts match too many contacts and take the fallback.
    monkeypatch.setattr(filters, "MAX_RESOLVED_CONTACTS", resolved_at_most)
    rnd = random.Random(resolved_at_most)
    await _seed_contacts(db, rnd, 120)
    channel = await factory.channel()
    async with db() as session:
        contact_ids = list(await session.scalars(select(Contact.id)))
    for contact_id in rnd.sample(contact_ids, 90):
        contact = await _contact(db, contact_id)
        for _ in range(rnd.randint(1, 2)):
            await factory.conversation(channel, contact, minutes=rnd.randint(0, 999))
    matched = 0
    for field in FIELDS:
        for text in _texts(rnd, await _stored(db, field), 25):
            condition = ContactCondition(field=field, op="contains", value=text)
            async with db() as session:
                clause = await filters.filters_clause(
                    session, CustomInboxFilters(contact=[condition])
                )
                expected = await _conversation_ids(session, contact_condition(condition))
                assert await _conversation_ids(session, clause) == expected, (field, text)
                matched += bool(expected)
    assert matched > 20


async def _contact(db: Sessions, contact_id: int) -> Contact:
    async with db() as session:
        contact = await session.get(Contact, contact_id)
        assert contact is not None
        return contact


def test_the_indexed_fields_are_the_migrations() -> None:
    from importlib import import_module

    migration = import_module("hub.store.migrations.versions.0025_contact_trigrams")
    assert migration.FIELDS == FIELDS


def test_fts_phrases_are_quoted_and_long_texts_probe_a_few_trigrams() -> None:
    assert contact_contains._phrase('a"b') == '"a""b"'
    assert contact_contains.trigrams("abcd") == ["abc", "bcd"]
    assert len(contact_contains.trigrams("x" * 3 + "abcdefghijklmnopqrstuvwxyz")) == (
        contact_contains.MAX_PROBES
    )
    assert not contact_contains.indexable("ab")
    assert not contact_contains.indexable("a\x00b")


async def test_a_texts_rare_trigrams_are_counted_once_and_then_remembered(db: Sessions) -> None:
    contact_contains.forget_rare_trigrams()
    async with db() as session:
        await session.execute(
            insert(Contact),
            [{"name": f"C{i}", "email": f"c{i}@example{i % 7}.com"} for i in range(60)],
        )
        await session.commit()
    engine = db.kw["bind"]
    async with db() as session:
        with recorded(engine) as first:
            ids = await matching_contact_ids(session, "email", "@Example3.", 100)
        with recorded(engine) as second:
            again = await matching_contact_ids(session, "email", "@example3.", 100)
    assert ids is not None and len(ids) == 9
    assert again is not None and set(again) == set(ids)
    # The count, then the lookup; the second time the lookup alone.
    assert (len(first), len(second)) == (2, 1)


async def test_a_stale_rare_trigram_changes_the_time_not_the_answer(
    db: Sessions, factory: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Trigrams remembered as rare that have since become common still find exactly
    the definition's contacts, and the custom inbox's list its conversations."""
    contact_contains.forget_rare_trigrams()
    monkeypatch.setattr(contact_contains, "RARE", 15)
    channel = await factory.channel()
    async with db() as session:
        await session.execute(
            insert(Contact),
            [{"name": f"Ann {i}", "email": f"ann{i}@zq{i % 3}.io"} for i in range(30)],
        )
        await session.commit()
        # "@zq" is in 30 rows, "zq1" and "q1." in 10: these two are remembered as rare.
        assert len(await matching_contact_ids(session, "email", "@zq1.", 100) or []) == 10
        await session.execute(
            insert(Contact), [{"name": "Bo", "email": f"bo{i}@zq1.io"} for i in range(20)]
        )
        await session.execute(update(Contact).where(Contact.name == "Ann 1").values(email="x@y"))
        await session.commit()
        for contact_id in list(await session.scalars(select(Contact.id)))[::4]:
            await factory.conversation(channel, await _contact(db, contact_id))
    condition = ContactCondition(field="email", op="contains", value="@ZQ1.")
    async with db() as session:
        expected = await _ids(session, contains(Contact.email, "@zq1."))
        found = await matching_contact_ids(session, "email", "@ZQ1.", 100)
        assert found is not None and set(found) == expected and len(expected) == 29
        clause = await filters.filters_clause(session, CustomInboxFilters(contact=[condition]))
        listed = await _conversation_ids(session, clause)
        assert listed and listed == await _conversation_ids(session, contact_condition(condition))


@pytest.mark.parametrize(
    "text", ["@zq1.", "Zq1", "q1", "%", "_q", "1.i", 'a"b', "ö@", "\\", "zq1.io"]
)
async def test_custom_inbox_email_contains_lists_the_definitions_conversations(
    db: Sessions, factory: Factory, text: str
) -> None:
    """Case, texts shorter than a trigram, wildcards, quotes, non-ASCII: the list's
    conversations, through whichever path the text takes, are the definition's."""
    contact_contains.forget_rare_trigrams()
    channel = await factory.channel()
    emails = [
        "a@zq1.io",
        "B@ZQ1.IO",
        "c%d@zq2.io",
        "e_f@zq1.io",
        'g"h@zq3.io',
        "Ö@zq1.io",
        "i\\j@x",
    ]
    for i, email in enumerate(emails):
        async with db() as session:
            contact = Contact(name=f"P{i}", email=email)
            session.add(contact)
            await session.commit()
        await factory.conversation(channel, contact, minutes=i)
    condition = ContactCondition(field="email", op="contains", value=text)
    async with db() as session:
        clause = await filters.filters_clause(session, CustomInboxFilters(contact=[condition]))
        expected = await _conversation_ids(session, contact_condition(condition))
        assert await _conversation_ids(session, clause) == expected
