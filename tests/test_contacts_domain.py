"""Contacts without HTTP: normalization, names, custom fields, search, merge, block."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.auth.visibility import Viewer
from hub.errors import HubError
from hub.events.work import Work
from hub.inbox import contact_merge, contacts
from hub.inbox.contact_fields import ContactChanges, normalize_email, normalize_phone
from hub.store.models import (
    Contact,
    ContactIdentity,
    Conversation,
    ConversationEvent,
    CrmConnection,
    CrmContactLink,
    User,
)
from tests.factories import Factory

Sessions = async_sessionmaker[AsyncSession]
MakeUser = Callable[..., Awaitable[User]]


def viewer(user: User) -> Viewer:
    """A viewer without teams (``Viewer.of`` needs the user's teams loaded)."""
    return Viewer(user.id, user.role, user.visibility, frozenset())


def field_of(err: pytest.ExceptionInfo[HubError]) -> str:
    return str(err.value.details[0]["field"])


@pytest.mark.parametrize(
    ("raw", "region", "e164"),
    [
        ("+49 151 23456789", None, "+4915123456789"),
        ("+4915123456789", None, "+4915123456789"),
        ("+1 (415) 555-2671", None, "+14155552671"),
        ("+44 20 7946 0958", None, "+442079460958"),
        ("0151 23456789", "DE", "+4915123456789"),
        ("(415) 555-2671", "us", "+14155552671"),
        ("+33 6 12 34 56 78", "DE", "+33612345678"),
    ],
)
def test_phone_numbers_are_stored_in_e164(raw: str, region: str | None, e164: str) -> None:
    assert normalize_phone(raw, region) == e164


@pytest.mark.parametrize(
    ("raw", "region", "field", "says"),
    [
        ("0151 23456789", None, "phone", "default_region"),
        ("+49 1", None, "phone", "too short"),
        ("+999 1234567", None, "phone", "country code"),
        ("+1 555 0000000", None, "phone", "not a valid"),
        ("call me", "DE", "phone", "not a phone number"),
        ("0151 23456789", "XX", "default_region", "region code"),
    ],
)
def test_bad_phone_numbers_are_refused_naming_the_field(
    raw: str, region: str | None, field: str, says: str
) -> None:
    with pytest.raises(HubError) as err:
        normalize_phone(raw, region)
    assert err.value.status == 422
    assert field_of(err) == field
    assert says in err.value.message


def test_emails_are_validated_and_lowercased() -> None:
    assert normalize_email(" Dana.Scully@FBI.gov ") == "dana.scully@fbi.gov"
    for bad in ("dana", "dana@", "dana@localhost", "a b@example.com"):
        with pytest.raises(HubError) as err:
            normalize_email(bad)
        assert field_of(err) == "email"


async def test_the_name_follows_first_and_last_name_until_one_is_chosen(db: Sessions) -> None:
    async with db() as session:
        work = Work(session)
        owner = Viewer(1, "owner", "all", frozenset())
        made = await contacts.create_contact(
            work, ContactChanges(first_name="Dana", last_name="Scully")
        )
        assert made.name == "Dana Scully"
        changes = ContactChanges.model_validate({"last_name": "Mulder"})
        assert (await contacts.update_contact(work, owner, made.id, changes)).name == "Dana Mulder"
        chosen = ContactChanges.model_validate({"name": "Agent Scully"})
        await contacts.update_contact(work, owner, made.id, chosen)
        renamed = ContactChanges.model_validate({"first_name": "D."})
        assert (await contacts.update_contact(work, owner, made.id, renamed)).name == "Agent Scully"
        cleared = ContactChanges.model_validate({"name": None})
        assert (await contacts.update_contact(work, owner, made.id, cleared)).name == "D. Mulder"

        by_email = await contacts.create_contact(work, ContactChanges(email="X@Example.com"))
        assert (by_email.name, by_email.email) == ("x@example.com", "x@example.com")
        with pytest.raises(HubError) as err:
            await contacts.create_contact(work, ContactChanges(name="  "))
        assert field_of(err) == "name"


async def test_custom_fields_are_merged_and_null_removes_a_key(db: Sessions) -> None:
    async with db() as session:
        work = Work(session)
        owner = Viewer(1, "owner", "all", frozenset())
        made = await contacts.create_contact(
            work, ContactChanges(name="A", fields={"plan": "pro", "seats": 3})
        )
        patch = ContactChanges.model_validate({"fields": {"seats": None, "vip": True}})
        updated = await contacts.update_contact(work, owner, made.id, patch)
        assert updated.fields == {"plan": "pro", "vip": True}
        wipe = ContactChanges.model_validate({"fields": None})
        assert (await contacts.update_contact(work, owner, made.id, wipe)).fields == {}


async def test_search_escapes_like_wildcards_and_matches_phone_digits(
    db: Sessions, factory: Factory
) -> None:
    await factory.contact("Dana", phone="+4915123456789")
    await factory.contact("100% Juice", email="juice@example.com")
    await factory.contact("Fox_Mulder")
    owner = Viewer(1, "owner", "all", frozenset())

    async def names(q: str) -> list[str]:
        async with db() as session:
            rows, _ = await contacts.list_contacts(session, owner, q=q)
        return [c.name for c in rows]

    assert await names("%") == ["100% Juice"]
    assert await names("_") == ["Fox_Mulder"]
    assert await names("+49 151 2345") == ["Dana"]
    assert await names("(0151) 234-56") == ["Dana"]
    assert await names("JUICE@") == ["100% Juice"]
    assert await names("4915 Dana") == []


async def test_merge_moves_everything_and_fills_only_empty_fields(
    db: Sessions, factory: Factory, make_user: MakeUser
) -> None:
    owner = await make_user("owner@example.com", role="owner")
    as_owner = viewer(owner)
    channel = await factory.channel()
    keep = await factory.contact(
        "Dana Scully", email="dana@example.com", fields={"plan": "pro"}, blocked=True
    )
    other = await factory.contact(
        "D. S.", phone="+4915123456789", email="other@example.com", fields={"plan": "x", "v": 1}
    )
    conversation = await factory.conversation(channel, other)
    crm_a = CrmConnection(type="hubspot", name="A", config_encrypted="-")
    crm_b = CrmConnection(type="salesforce", name="B", config_encrypted="-")
    await factory.add(crm_a, crm_b)
    await factory.add(
        ContactIdentity(contact_id=keep.id, channel_id=channel.id, external_id="k"),
        ContactIdentity(contact_id=other.id, channel_id=channel.id, external_id="o"),
        CrmContactLink(connection_id=crm_a.id, contact_id=keep.id, external_id="a-keep"),
        CrmContactLink(connection_id=crm_a.id, contact_id=other.id, external_id="a-other"),
        CrmContactLink(connection_id=crm_b.id, contact_id=other.id, external_id="b-other"),
    )

    async with db() as session:
        work = Work(session)
        kept = await contact_merge.merge(work, as_owner, keep.id, other.id)
        await session.commit()
    assert (kept.name, kept.email, kept.phone) == (
        "Dana Scully",
        "dana@example.com",
        "+4915123456789",
    )
    assert kept.fields == {"plan": "pro", "v": 1}
    # The moved conversation's lists and counts change, and its contact panel shows the
    # merged contact.
    assert [e.type for e in work.events] == [
        "conversation.updated",
        "counts.changed",
        "contact.updated",
    ]

    async with db() as session:
        assert await session.get(Contact, other.id) is None
        identities = await session.scalars(
            select(ContactIdentity.external_id).where(ContactIdentity.contact_id == keep.id)
        )
        assert sorted(identities) == ["k", "o"]
        links = await session.execute(
            select(CrmContactLink.connection_id, CrmContactLink.external_id).where(
                CrmContactLink.contact_id == keep.id
            )
        )
        assert sorted(links.all()) == sorted([(crm_a.id, "a-keep"), (crm_b.id, "b-other")])
        moved = await session.get(Conversation, conversation.id)
        assert moved is not None
        assert (moved.contact_id, moved.contact_blocked) == (keep.id, True)
        event = await session.scalar(
            select(ConversationEvent).where(ConversationEvent.conversation_id == conversation.id)
        )
        assert event is not None
        assert (event.kind, event.actor_id, event.data) == (
            "merged",
            owner.id,
            {"merged_contact_id": other.id},
        )


async def test_merge_takes_the_others_chosen_name_over_a_name_made_from_an_email(
    db: Sessions, factory: Factory
) -> None:
    keep = await factory.contact("dana@example.com", email="dana@example.com")
    other = await factory.contact("Dana", email="dana@example.com", first_name=None)
    owner = Viewer(1, "owner", "all", frozenset())
    async with db() as session:
        kept = await contact_merge.merge(Work(session), owner, keep.id, other.id)
    assert kept.name == "Dana"


async def test_merge_suggestions_pair_contacts_sharing_an_email_or_phone(
    db: Sessions, factory: Factory
) -> None:
    a = await factory.contact("A", email="same@example.com", phone="+4915123456789")
    b = await factory.contact("B", email="same@example.com", phone="+4915123456789")
    c = await factory.contact("C", phone="+4915123456789", blocked=True)
    await factory.contact("D", email="alone@example.com")
    owner = Viewer(1, "owner", "all", frozenset())

    pairs: list[tuple[int, int, tuple[str, ...]]] = []
    cursor = None
    async with db() as session:
        while True:
            page, cursor = await contact_merge.merge_suggestions(
                session, owner, cursor=cursor, limit=2
            )
            pairs += [(s.contact.id, s.other.id, s.reasons) for s in page]
            if cursor is None:
                break
    assert pairs == [
        (b.id, c.id, ("phone",)),
        (a.id, c.id, ("phone",)),
        (a.id, b.id, ("email", "phone")),
    ]


async def test_a_contacts_duplicates_are_its_merge_suggestions(
    db: Sessions, factory: Factory
) -> None:
    a = await factory.contact("A", email="same@example.com", phone="+4915123456789")
    b = await factory.contact("B", email="same@example.com")
    c = await factory.contact("C", phone="+4915123456789", blocked=True)
    lonely = await factory.contact("D", email="alone@example.com")
    owner = Viewer(1, "owner", "all", frozenset())

    def pairs(found: list[contact_merge.MergeSuggestion]) -> list[tuple[int, int, tuple[str, ...]]]:
        return [(s.contact.id, s.other.id, s.reasons) for s in found]

    async with db() as session:
        for contact in (a, b, c, lonely):
            suggested, _ = await contact_merge.merge_suggestions(
                session, owner, contact_id=contact.id, limit=10
            )
            found = await contact_merge.duplicates_of(session, owner, contact, 10)
            assert pairs(found) == pairs(suggested), contact.name
        assert pairs(await contact_merge.duplicates_of(session, owner, a, 10)) == [
            (a.id, c.id, ("phone",)),
            (a.id, b.id, ("email",)),
        ]


async def test_block_marks_conversations_and_announces_them_to_who_saw_them(
    db: Sessions, factory: Factory, make_user: MakeUser
) -> None:
    owner = await make_user("owner@example.com", role="owner")
    agent = await make_user("agent@example.com", visibility="assigned")
    contact = await factory.contact()
    conversation = await factory.conversation(
        await factory.channel(), contact, assignee_id=agent.id
    )
    async with db() as session:
        work = Work(session)
        blocked = await contacts.set_blocked(work, viewer(owner), contact.id, True)
        await session.commit()
    assert blocked.blocked and blocked.blocked_at is not None
    updated = next(e for e in work.events if e.type == "conversation.updated")
    assert updated.data["event"] == "blocked"
    assert updated.scope is not None and updated.scope.contact_blocked
    # The assigned agent can no longer see it, but must be told so it leaves their list.
    assert updated.visible_to(viewer(agent))
    async with db() as session:
        stored = await session.get(Conversation, conversation.id)
        assert stored is not None and stored.contact_blocked


async def test_a_restricted_agent_sees_a_contact_only_through_a_visible_conversation(
    db: Sessions, factory: Factory, make_user: MakeUser
) -> None:
    agent = await make_user("agent@example.com", visibility="assigned")
    channel = await factory.channel()
    seen = await factory.contact("Seen")
    await factory.conversation(channel, seen, assignee_id=agent.id)
    await factory.conversation(channel, seen)
    unseen = await factory.contact("Unseen")
    await factory.conversation(channel, unseen)
    await factory.contact("Lonely")
    async with db() as session:
        rows, _ = await contacts.list_contacts(session, viewer(agent))
        assert [c.name for c in rows] == ["Seen"]
        with pytest.raises(HubError) as err:
            await contacts.get_contact(session, viewer(agent), unseen.id)
        assert err.value.status == 404


def test_changes_refuse_what_the_database_could_not_store() -> None:
    bad: list[dict[str, Any]] = [
        {"name": "a\x00b"},
        {"fields": {"a": float("nan")}},
        {"fields": {"a": {"nested": 1}}},
        {"fields": {"not a key": 1}},
        {"name": "x" * 301},
    ]
    for data in bad:
        with pytest.raises(ValueError, match="validation error"):
            ContactChanges.model_validate(data)


async def test_deleting_a_contact_takes_its_conversations_and_tells_who_saw_them(
    db: Sessions, factory: Factory, make_user: MakeUser
) -> None:
    owner = await make_user("owner@example.com", role="owner")
    agent = await make_user("agent@example.com", visibility="assigned")
    contact = await factory.contact()
    conversation = await factory.conversation(
        await factory.channel(), contact, assignee_id=agent.id
    )
    await factory.message(conversation)
    async with db() as session:
        work = Work(session)
        await contacts.delete_contact(work, viewer(owner), contact.id)
        await session.commit()
    deleted = next(e for e in work.events if e.type == "conversation.deleted")
    assert deleted.data == {"conversation_id": conversation.id}
    assert deleted.visible_to(viewer(agent))
    async with db() as session:
        assert await session.get(Conversation, conversation.id) is None
        assert await session.get(Contact, contact.id) is None
