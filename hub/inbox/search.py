"""Search across contacts, messages and comments, only in what the caller may see.

Messages and comments are found by full text: SQLite's FTS5 tables (``messages_fts``,
``comments_fts``, kept by triggers) or PostgreSQL's ``to_tsvector('simple', …)``
expressions, matched exactly as their GIN indexes are written so the indexes are used.
Contacts are found as the contacts list finds them (``hub.inbox.contacts``): a
case-insensitive substring of a name or the email, or the digits of a phone number.

Results come in groups — contacts, then messages, then comments — each newest first
(by id, which follows creation order). A cursor is the group and id of the last row of
a page, so paging through a mixed result never repeats or skips a row.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    column,
    func,
    literal_column,
    select,
    table,
)
from sqlalchemy.ext.asyncio import AsyncSession

from hub.auth.visibility import Viewer, conversation_filter
from hub.errors import Invalid, NotFound
from hub.inbox.contacts import contact_filter, search_clause
from hub.store.models import Comment, Contact, Conversation, Message
from hub.store.paging import bad_cursor, pack, unpack

SearchType = Literal["contact", "message", "comment"]
TYPE_ORDER: tuple[SearchType, ...] = ("contact", "message", "comment")
# The API names the groups in the plural (``types=contacts,messages``).
TYPE_NAMES: dict[str, SearchType] = {
    "contacts": "contact",
    "messages": "message",
    "comments": "comment",
}
MAX_QUERY_LENGTH = 200
SNIPPET_WIDTH = 160
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class SearchHit:
    """One result: a contact, a message or a comment, with text around the match."""

    type: SearchType
    id: int
    conversation_id: int | None
    contact_id: int
    snippet: str
    at: datetime


@dataclass(frozen=True)
class SearchText:
    """A cleaned query: the text as typed, and its terms that hold a letter or digit."""

    text: str
    terms: tuple[str, ...]

    @classmethod
    def parse(cls, raw: str) -> SearchText:
        """Clean a query; 422 naming ``q`` when it is empty or too long."""
        # Control characters (NUL above all: PostgreSQL refuses it in text) act as spaces.
        text = " ".join(_CONTROL.sub(" ", raw).split())
        if not text:
            raise Invalid("q", "type something to search for")
        if len(text) > MAX_QUERY_LENGTH:
            raise Invalid("q", f"at most {MAX_QUERY_LENGTH} characters")
        # A term of punctuation or emoji only has no token to match; dropping it keeps
        # "Müller ?" meaning "Müller" instead of matching nothing.
        terms = tuple(t for t in text.split(" ") if any(ch.isalnum() for ch in t))
        return cls(text, terms)


def parse_types(text: str | None, *, in_conversation: bool) -> tuple[SearchType, ...]:
    """The groups to search, in result order; 422 naming ``types`` for an unknown one.

    Within one conversation only messages and comments are searched: contacts do not
    belong to a conversation.
    """
    if text is None:
        return ("message", "comment") if in_conversation else TYPE_ORDER
    names = {name.strip() for name in text.split(",")}
    unknown = sorted(name for name in names if name not in TYPE_NAMES)
    if unknown or not names:
        raise Invalid(
            "types", f"unknown type {', '.join(unknown)!r}; use contacts, messages, comments"
        )
    wanted = {TYPE_NAMES[name] for name in names}
    if in_conversation and "contact" in wanted:
        raise Invalid("types", "contacts cannot be searched within one conversation")
    return tuple(t for t in TYPE_ORDER if t in wanted)


# --- cursors -------------------------------------------------------------------------


def encode_search_cursor(kind: SearchType, row_id: int) -> str:
    """An opaque cursor: the group and id of the last row of a page."""
    return pack(kind, row_id)


def decode_search_cursor(cursor: str, types: Sequence[SearchType]) -> tuple[SearchType, int]:
    """Where a cursor points; 422 naming ``cursor`` when this search did not make it."""
    kind, row_id = unpack(cursor, str, int)
    if kind not in types or row_id == 0:
        raise bad_cursor("not a cursor of this search")
    return kind, row_id


# --- snippets ------------------------------------------------------------------------


def _fold(text: str) -> tuple[str, list[int]]:
    """``text`` casefolded without diacritics, and each folded character's source index."""
    folded: list[str] = []
    origin: list[int] = []
    for index, char in enumerate(text):
        plain = "".join(
            c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c)
        )
        for c in plain.casefold():
            folded.append(c)
            origin.append(index)
    return "".join(folded), origin


def make_snippet(text: str, terms: Sequence[str], width: int = SNIPPET_WIDTH) -> str:
    """Plain text around the first match of any term (the start when none is found).

    Matching ignores case and diacritics, as the SQLite tokenizer does, so the snippet of
    "Müller" found by "muller" still centres on the name.
    """
    flat = " ".join(text.split())
    if len(flat) <= width:
        return flat
    folded, origin = _fold(flat)
    starts = []
    for term in terms:
        for word in re.findall(r"\w+", _fold(term)[0]):
            found = re.search(rf"(?<!\w){re.escape(word)}", folded)
            if found:
                starts.append(origin[found.start()])
    at = min(starts, default=0)
    # Show some words before the match, then cut both ends at a space.
    begin = max(0, min(at - width // 4, len(flat) - width))
    end = begin + width
    if begin > 0:
        space = flat.find(" ", begin, at + 1)
        begin = space + 1 if space != -1 else begin
    if end < len(flat):
        space = flat.rfind(" ", begin, end)
        end = space if space > at else end
    return ("…" if begin > 0 else "") + flat[begin:end] + ("…" if end < len(flat) else "")


# --- the groups ----------------------------------------------------------------------


def _fts5_query(terms: Sequence[str]) -> str:
    """An FTS5 query that cannot be a syntax error: every term a quoted string (quotes
    doubled), so ``OR``, ``NEAR(``, ``-`` or ``*`` typed by a user are just words; the
    last term matches as a prefix, for search as you type."""
    quoted = ['"' + term.replace('"', '""') + '"' for term in terms]
    return " ".join(quoted) + "*"


def _pg_tsquery(terms: Sequence[str]) -> ColumnElement[Any]:
    """A tsquery ANDing every term, the last one also as a prefix.

    ``plainto_tsquery`` never fails on syntax. The prefix needs ``to_tsquery``, so the
    last term goes in as one quoted lexeme with quotes and backslashes escaped (a lone
    backslash would otherwise escape the closing quote); the parser then splits it into
    words as it splits the text. The exact ``plainto_tsquery`` of the last term is ORed
    in because a prefix of a term the parser keeps whole (an email address) is split.
    """
    config: ColumnElement[Any] = literal_column("'simple'::regconfig")
    *head, last = terms
    lexeme = "'" + last.replace("\\", "\\\\").replace("'", "''") + "':*"
    query = func.plainto_tsquery(config, last).op("||")(func.to_tsquery(config, lexeme))
    if head:
        query = func.plainto_tsquery(config, " ".join(head)).op("&&")(query)
    return query


@dataclass(frozen=True)
class _TextGroup:
    """A full-text-searched table: its model, text column and search structures."""

    kind: SearchType
    model: type[Message] | type[Comment]
    text_column: str
    fts_table: str
    # Written exactly as the GIN index of migration 0002, so PostgreSQL uses it.
    tsvector: str


_MESSAGES = _TextGroup(
    "message", Message, "text", "messages_fts", "to_tsvector('simple', coalesce(messages.text, ''))"
)
_COMMENTS = _TextGroup(
    "comment", Comment, "body", "comments_fts", "to_tsvector('simple', comments.body)"
)


def _text_select(
    group: _TextGroup, dialect: str, terms: Sequence[str], after: int | None
) -> Select[Any]:
    model = group.model
    text = getattr(model, group.text_column)
    query = select(model.id, model.conversation_id, Conversation.contact_id, text, model.created_at)
    if dialect == "sqlite":
        fts = table(group.fts_table, column("rowid", Integer))
        key: ColumnElement[int] = fts.c.rowid
        # FTS5 walks its matches by rowid, newest first, and the joins follow each one.
        query = (
            query.select_from(fts)
            .join(model, model.id == fts.c.rowid)
            .where(literal_column(group.fts_table).op("MATCH")(_fts5_query(terms)))
        )
    else:
        key = model.id.expression
        query = query.where(literal_column(group.tsvector).op("@@")(_pg_tsquery(terms)))
    query = query.join(Conversation, Conversation.id == model.conversation_id)
    if after is not None:
        query = query.where(key < after)
    if dialect == "sqlite":
        return query.order_by(key.desc())
    # Ordered by the bare id, PostgreSQL may walk the primary key backwards and test every
    # row until the page is full: 10 s over a million messages for a word found nowhere.
    # "id + 0" hides that index, so the GIN index finds the matches and they are sorted:
    # the cost follows the number of matches, never the size of the table.
    return query.order_by((key + 0).desc())


async def _contact_select(
    db: AsyncSession, viewer: Viewer, text: str, after: int | None
) -> Select[Any]:
    # The same match and visibility as the contacts list, so both find the same people.
    query = select(Contact).where(await search_clause(db, text), contact_filter(viewer))
    if after is not None:
        query = query.where(Contact.id < after)
    if db.get_bind().dialect.name == "sqlite":
        return query.order_by(Contact.id.desc())
    # As for messages: ordered by the bare id, PostgreSQL walks the primary key backwards
    # testing every contact (75-110 ms over 80,000 for one that matches 11); "id + 0"
    # hides that index, so the trigram indexes find the matches, which are then sorted.
    return query.order_by((Contact.id + 0).desc())


def _contact_snippet(contact: Contact) -> str:
    parts = (contact.name, contact.email, contact.phone)
    return " · ".join(p for p in parts if p)


async def _fetch(
    db: AsyncSession,
    viewer: Viewer,
    kind: SearchType,
    query: SearchText,
    conversation_id: int | None,
    after: int | None,
    limit: int,
) -> list[SearchHit]:
    if kind == "contact":
        statement = await _contact_select(db, viewer, query.text, after)
        contacts = await db.scalars(statement.limit(limit))
        return [
            SearchHit("contact", c.id, None, c.id, _contact_snippet(c), c.created_at)
            for c in contacts
        ]
    if not query.terms:
        return []
    group = _MESSAGES if kind == "message" else _COMMENTS
    statement = _text_select(group, db.get_bind().dialect.name, query.terms, after)
    statement = statement.where(conversation_filter(viewer))
    if conversation_id is not None:
        statement = statement.where(group.model.conversation_id == conversation_id)
    rows = await db.execute(statement.limit(limit))
    return [
        SearchHit(kind, row_id, conv_id, contact_id, make_snippet(text or "", query.terms), at)
        for row_id, conv_id, contact_id, text, at in rows.all()
    ]


async def search(
    db: AsyncSession,
    viewer: Viewer,
    q: str,
    *,
    types: str | None = None,
    conversation_id: int | None = None,
    cursor: str | None = None,
    limit: int = 25,
) -> tuple[list[SearchHit], str | None]:
    """One page of results for ``q`` and the cursor of the next page (or None).

    ``types`` is a comma-separated subset of ``contacts,messages,comments``;
    ``conversation_id`` searches one conversation's messages and comments (404 when the
    viewer may not see it).
    """
    query = SearchText.parse(q)
    kinds = parse_types(types, in_conversation=conversation_id is not None)
    start, after = (kinds[0], None) if not cursor else decode_search_cursor(cursor, kinds)
    if conversation_id is not None:
        visible = await db.scalar(
            select(Conversation.id).where(
                Conversation.id == conversation_id, conversation_filter(viewer)
            )
        )
        if visible is None:
            raise NotFound("conversation")

    hits: list[SearchHit] = []
    for kind in kinds[kinds.index(start) :]:
        # One row more than the page holds tells whether another page follows; once the
        # page is full, a one-row probe of the next group tells the same.
        wanted = limit - len(hits)
        found = await _fetch(db, viewer, kind, query, conversation_id, after, wanted + 1)
        after = None
        hits.extend(found[:wanted])
        if len(found) > wanted:
            last = hits[-1]
            return hits, encode_search_cursor(last.type, last.id)
    return hits, None
