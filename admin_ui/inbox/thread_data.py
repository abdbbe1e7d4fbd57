"""What the conversation pane shows, loaded: the conversation with its contact, channel
and assignee, and pages of its timeline with everything the items refer to (the people
and teams named, the messages quoted, the reactions to each message).

Reading only, through the same visibility rule as the API (``get_visible`` and
``conversation_timeline``): a hidden conversation is a 404 here as there.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from admin_ui.inbox.email_subject import normalize_subject
from admin_ui.inbox.message_view import (
    FileView,
    MessageView,
    file_kind,
    map_link,
    message_view,
    reaction_of,
)
from hub.auth.visibility import Viewer
from hub.errors import Invalid, NotFound
from hub.events.work import Work
from hub.inbox.conversations import get_visible
from hub.inbox.csat import survey_of
from hub.inbox.labels import labels_of
from hub.inbox.lookups import team_names
from hub.inbox.priority import Priority, name_of
from hub.inbox.timeline import TimelineEntry, TimelinePage, conversation_timeline
from hub.inbox.workspace import load_workspace_settings
from hub.store.models import (
    Attachment,
    Channel,
    Contact,
    Conversation,
    CsatSurvey,
    Label,
    Message,
    Team,
    User,
)

TIMELINE_PAGE = 50
# How many pages back a link to an item may reach (the items between are shown too).
ITEM_PAGES = 20
ITEM_KINDS = ("message", "comment", "event")
EMAIL_TYPES = frozenset({"email"})


@dataclass(frozen=True)
class Pane:
    """An open conversation with what its header and composer need."""

    conversation: Conversation
    contact: Contact
    channel: Channel
    assignee_name: str | None
    team_name: str | None = None
    closing_notes: str = "optional"
    may_block: bool = False
    labels: tuple[Label, ...] = ()
    csat: CsatSurvey | None = None
    """The conversation's CSAT survey, if it was surveyed (its rating once answered)."""

    @property
    def priority(self) -> Priority:
        """The conversation's priority by name."""
        return name_of(self.conversation.priority)


@dataclass(frozen=True)
class Reaction:
    """An emoji someone put on a message."""

    emoji: str
    by_contact: bool


@dataclass(frozen=True)
class Timeline:
    """A page of timeline items (oldest first, as shown) and the cursor of the page of
    older ones (None at the start of the conversation)."""

    entries: list[TimelineEntry]
    attachments: dict[tuple[str, int], list[Attachment]]
    users: dict[int, str]
    older_cursor: str | None
    teams: dict[int, str] = field(default_factory=dict)
    quotes: dict[int, Message] = field(default_factory=dict)
    reactions: dict[int, list[Reaction]] = field(default_factory=dict)
    email: bool = False
    # The messages whose subject is shown: an email's only where it changes.
    subjects: frozenset[int] = frozenset()

    def files_of(self, entry: TimelineEntry) -> list[Attachment]:
        """The attachments of a message or comment."""
        return self.attachments.get((entry.kind, entry.row.id), [])

    def file_views(self, entry: TimelineEntry) -> list[FileView]:
        """The attachments of a message or comment, each with how it plays."""
        return [FileView(a, file_kind(a.content_type)) for a in self.files_of(entry)]

    def map_link(self, part: dict[str, Any]) -> str | None:
        """A map link to a location part."""
        return map_link(part)

    def shows_subject(self, entry: TimelineEntry) -> bool:
        """Whether the message's subject is shown above it."""
        return entry.row.id in self.subjects

    def view(self, entry: TimelineEntry) -> MessageView:
        """How a message shows."""
        assert isinstance(entry.row, Message)
        return message_view(entry.row, self.files_of(entry), email=self.email)

    def without_older(self) -> Timeline:
        """The same page without the "earlier messages" link."""
        return Timeline(
            self.entries,
            self.attachments,
            self.users,
            None,
            self.teams,
            self.quotes,
            self.reactions,
            self.email,
            self.subjects,
        )


async def load_pane(w: Work, viewer: Viewer, conversation_id: int) -> Pane:
    """The conversation if the viewer may see it (404 otherwise), with its contact and
    channel."""
    conversation = await get_visible(w, viewer, conversation_id)
    contact = await w.db.get(Contact, conversation.contact_id)
    channel = await w.db.get(Channel, conversation.channel_id)
    if contact is None or channel is None:  # deleted meanwhile: the cascade follows
        raise NotFound("conversation")
    assignee = (
        await w.db.scalar(select(User.name).where(User.id == conversation.assignee_id))
        if conversation.assignee_id
        else None
    )
    team = (await team_names(w.db)).get(conversation.team_id) if conversation.team_id else None
    settings = await load_workspace_settings(w.db)
    return Pane(
        conversation,
        contact,
        channel,
        assignee,
        team,
        settings.closing_notes,
        # Blocking is for those who see every contact (hub.inbox.contacts.set_blocked).
        viewer.sees_everything,
        tuple((await labels_of(w.db, [conversation.id]))[conversation.id]),
        await survey_of(w.db, conversation.id),
    )


def parse_item(raw: str | None) -> tuple[str, int] | None:
    """``message:12`` → ("message", 12); None for none; 422 naming ``item`` for junk."""
    if not raw:
        return None
    kind, _, number = raw.partition(":")
    if kind not in ITEM_KINDS or not number.isdigit() or len(number) > 18:
        raise Invalid("item", "expected message:<id>, comment:<id> or event:<id>")
    return kind, int(number)


async def load_timeline(
    w: Work,
    viewer: Viewer,
    conversation_id: int,
    before: str | None = None,
    *,
    reaching: tuple[str, int] | None = None,
) -> Timeline:
    """The newest page of the timeline, or the page before ``before``, oldest first.

    With ``reaching`` (a linked item), older pages too, until the item is among them (at
    most ``ITEM_PAGES``), so the page can scroll to it.
    """
    page: TimelinePage = await conversation_timeline(
        w, viewer, conversation_id, cursor=before, limit=TIMELINE_PAGE, order="desc"
    )
    entries, attachments, cursor = list(page.entries), dict(page.attachments), page.next_cursor
    pages = 1
    while reaching and cursor and pages < ITEM_PAGES and not _holds(entries, reaching):
        page = await conversation_timeline(
            w, viewer, conversation_id, cursor=cursor, limit=TIMELINE_PAGE, order="desc"
        )
        entries += page.entries
        attachments.update(page.attachments)
        cursor, pages = page.next_cursor, pages + 1
    entries.reverse()
    return await _complete(w, conversation_id, entries, attachments, cursor)


def _holds(entries: list[TimelineEntry], item: tuple[str, int]) -> bool:
    return any((e.kind, e.row.id) == item for e in entries)


async def _complete(
    w: Work,
    conversation_id: int,
    entries: list[TimelineEntry],
    attachments: dict[tuple[str, int], list[Attachment]],
    cursor: str | None,
) -> Timeline:
    messages = [e.row for e in entries if isinstance(e.row, Message)]
    quotes = await _quotes(w, conversation_id, messages)
    reactions = await _reactions(w, conversation_id, [m.id for m in messages])
    user_ids, team_ids = _named(entries)
    # By id: the caller loaded both (load_pane, the timeline's visibility check), so
    # these cost no query.
    conversation = await w.db.get(Conversation, conversation_id)
    channel = await w.db.get(Channel, conversation.channel_id) if conversation else None
    channel_type = channel.type if channel is not None else None
    email = channel_type in EMAIL_TYPES
    return Timeline(
        entries,
        attachments,
        await _names(w, User, user_ids),
        cursor,
        await _names(w, Team, team_ids),
        quotes,
        reactions,
        email,
        _shown_subjects(messages, email=email),
    )


def _shown_subjects(messages: list[Message], *, email: bool) -> frozenset[int]:
    """The messages whose subject is shown: every one that has a subject, except, in
    email, those whose subject only repeats the previous one's ("Re: …" of the same)."""
    if not email:
        return frozenset(m.id for m in messages if m.subject)
    shown: set[int] = set()
    previous: str | None = None
    for m in messages:
        if not m.subject:
            continue
        current = normalize_subject(m.subject)
        if current != previous:
            shown.add(m.id)
        previous = current
    return frozenset(shown)


def _named(entries: list[TimelineEntry]) -> tuple[set[int], set[int]]:
    """The users and teams the items name: authors, actors, assignees."""
    users: set[int] = set()
    teams: set[int] = set()
    for e in entries:
        for attribute in ("sender_user_id", "author_id", "actor_id"):
            value = getattr(e.row, attribute, None)
            if isinstance(value, int):
                users.add(value)
        data: dict[str, Any] = getattr(e.row, "data", None) or {}
        if isinstance(data.get("user_id"), int):
            users.add(data["user_id"])
        if isinstance(data.get("team_id"), int):
            teams.add(data["team_id"])
    return users, teams


async def _names(w: Work, model: type[User] | type[Team], ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = await w.db.execute(select(model.id, model.name).where(model.id.in_(ids)))
    return {row_id: name for row_id, name in rows.all()}


async def _quotes(w: Work, conversation_id: int, messages: list[Message]) -> dict[int, Message]:
    """The messages the page's replies quote, by id (of this conversation only)."""
    shown = {m.id: m for m in messages}
    wanted = {
        m.reply_to_id for m in messages if m.reply_to_id is not None and reaction_of(m) is None
    }
    found = {i: shown[i] for i in wanted if i in shown}
    missing = wanted - set(found)
    if missing:
        rows = await w.db.scalars(
            select(Message).where(
                Message.id.in_(missing), Message.conversation_id == conversation_id
            )
        )
        found.update({m.id: m for m in rows})
    return found


async def _reactions(
    w: Work, conversation_id: int, message_ids: list[int]
) -> dict[int, list[Reaction]]:
    """The reactions standing on each of these messages: each side's latest reaction to
    a message counts, and an empty one takes the side's reaction back."""
    if not message_ids:
        return {}
    rows = await w.db.scalars(
        select(Message)
        .where(Message.conversation_id == conversation_id, Message.reply_to_id.in_(message_ids))
        .order_by(Message.created_at, Message.id)
    )
    latest: dict[tuple[int, str], str] = {}
    for row in rows:
        part = reaction_of(row)
        if part is not None and row.reply_to_id is not None:
            latest[(row.reply_to_id, row.direction)] = str(part.get("emoji") or "")
    found: dict[int, list[Reaction]] = {}
    for (target, direction), emoji in latest.items():
        if emoji:
            found.setdefault(target, []).append(Reaction(emoji, direction == "in"))
    return found
