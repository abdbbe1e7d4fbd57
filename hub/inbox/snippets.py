"""Snippets: canned replies with a ``/shortcut`` and ``$variables`` rendered server-side.

A ``$`` followed by a letter starts a variable: dotted names such as ``$contact.name``;
an unknown one is refused (422 naming it) when the snippet is saved and when it is
rendered. ``$$`` is a literal ``$``; a ``$`` before anything else (``$5``) is kept as is.

A variable may give a fallback right after a ``|``: a word (``$contact.first_name|there``,
words joined by ``-`` or ``'`` included) or text in double quotes
(``$contact.first_name|"valued customer"``). A variable without a value (none, or only
spaces) renders its fallback; without one, rendering is refused (422 ``missing_value``
naming every such variable) rather than sending "Hi , …" to a customer.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, delete, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from hub.auth import audit
from hub.auth.visibility import ConversationScope, Viewer, can_see
from hub.errors import Forbidden, HubError, Invalid, NotFound
from hub.store.models import Channel, Contact, Conversation, Snippet, User
from hub.store.paging import like_pattern, name_key, name_page

SHORTCUT = re.compile(r"^[a-z0-9_-]{1,50}$")
# Groups: 1 the variable's name, 2 a quoted fallback, 3 a one-word fallback. ``$$``
# matches with no name, so it never takes a fallback.
_TOKEN = re.compile(
    r"\$(?:\$|([A-Za-z][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)"
    r"""(?:\|(?:"([^"\n]+)"|(\w+(?:['\u2019-]\w+)*)))?)"""
)

VARIABLES: dict[str, str] = {
    "contact.name": "The contact's full name",
    "contact.first_name": "The contact's first name",
    "contact.last_name": "The contact's last name",
    "contact.email": "The contact's email address",
    "contact.phone": "The contact's phone number (E.164)",
    "agent.name": "The name of the agent using the snippet",
    "agent.first_name": "The first word of the agent's name",
    "agent.email": "The agent's email address",
    "conversation.id": "The conversation's id",
    "channel.name": "The name of the conversation's channel",
}


def variables_in(body: str) -> list[str]:
    """The variable names a body uses, in order of first use (``$$`` is not one)."""
    seen: dict[str, None] = {}
    for match in _TOKEN.finditer(body):
        if match.group(1) is not None:
            seen.setdefault(match.group(1))
    return list(seen)


def check_variables(body: str, field: str = "body") -> None:
    """422 naming ``field`` and the first unknown variable in ``body``."""
    unknown = [name for name in variables_in(body) if name not in VARIABLES]
    if unknown:
        names = ", ".join(f"${name}" for name in unknown)
        raise Invalid(field, f"unknown variable {names} (write $$ for a literal $)")


def render(body: str, values: Mapping[str, str | None]) -> str:
    """Replace every variable in ``body`` by its value, or by its fallback when it has
    none; 422 ``missing_value`` naming the variables with neither."""
    check_variables(body)
    missing: dict[str, None] = {}

    def substitute(match: re.Match[str]) -> str:
        name, quoted, word = match.groups()
        if name is None:
            return "$"
        value = values.get(name)
        if value and value.strip():
            return value
        fallback = quoted or word
        if fallback is None:
            missing.setdefault(f"${name}")
            return ""
        return fallback

    text = _TOKEN.sub(substitute, body)
    if missing:
        names = ", ".join(missing)
        example = f"{next(iter(missing))}|there"
        message = f"no value for {names} in this conversation (give a fallback: {example})"
        raise HubError(422, "missing_value", message, [{"field": "body", "message": message}])
    return text


def normalize_shortcut(shortcut: str) -> str:
    """A shortcut as stored: without the leading slash; 422 naming ``shortcut`` if bad."""
    value = shortcut.strip().removeprefix("/")
    if not SHORTCUT.match(value):
        raise Invalid("shortcut", "use 1 to 50 of a-z, 0-9, _ and -, after an optional /")
    return value


# --- storage -------------------------------------------------------------------------


@dataclass(frozen=True)
class SnippetChanges:
    """A partial update of a snippet; ``None`` leaves a field as it is."""

    name: str | None = None
    shortcut: str | None = None
    body: str | None = None


def require_admin(actor: Viewer) -> None:
    """403 unless ``actor`` is an owner or a manager: only they manage snippets."""
    if not actor.is_admin:
        raise Forbidden("only owners and managers manage snippets")


def _shortcut_taken(shortcut: str) -> HubError:
    return HubError(
        409,
        "shortcut_taken",
        f"another snippet uses /{shortcut}",
        [{"field": "shortcut", "message": "taken"}],
    )


async def _check_shortcut_free(db: AsyncSession, shortcut: str, snippet_id: int | None) -> None:
    query = select(Snippet.id).where(Snippet.shortcut == shortcut)
    if snippet_id is not None:
        query = query.where(Snippet.id != snippet_id)
    if await db.scalar(query.limit(1)) is not None:
        raise _shortcut_taken(shortcut)


async def _flush(db: AsyncSession, shortcut: str) -> None:
    # The check above can lose a race with a concurrent save; the unique index cannot.
    try:
        await db.flush()
    except IntegrityError:
        raise _shortcut_taken(shortcut) from None


async def list_snippets(
    db: AsyncSession, *, q: str | None, cursor: str | None, limit: int
) -> tuple[list[Snippet], str | None]:
    """One page of snippets by name; ``q`` matches a name containing it or a shortcut
    starting with it (with or without the ``/``)."""
    conditions: list[ColumnElement[bool]] = []
    if q and q.strip():
        prefix = q.strip().removeprefix("/").lower()
        escaped = prefix.replace("\\", "\\\\").replace("%", r"\%").replace("_", r"\_")
        conditions.append(
            or_(
                func.lower(Snippet.name).like(like_pattern(q.strip()), escape="\\"),
                Snippet.shortcut.like(f"{escaped}%", escape="\\"),
            )
        )
    return await name_page(
        db, Snippet, name_key(Snippet.name), Snippet.id, conditions, cursor, limit
    )


async def get_snippet(db: AsyncSession, snippet_id: int) -> Snippet:
    """A snippet; 404 when there is none."""
    snippet = await db.get(Snippet, snippet_id)
    if snippet is None:
        raise NotFound("snippet")
    return snippet


async def create_snippet(
    db: AsyncSession, actor: Viewer, *, name: str, shortcut: str, body: str
) -> Snippet:
    """Create a snippet (owners and managers); 409 when the shortcut is taken."""
    require_admin(actor)
    shortcut = normalize_shortcut(shortcut)
    check_variables(body)
    await _check_shortcut_free(db, shortcut, None)
    snippet = Snippet(name=name, shortcut=shortcut, body=body, created_by=actor.id)
    db.add(snippet)
    await _flush(db, shortcut)
    await _record(db, actor, snippet, "created", {})
    return snippet


async def update_snippet(
    db: AsyncSession, actor: Viewer, snippet_id: int, changes: SnippetChanges
) -> Snippet:
    """Change a snippet (owners and managers)."""
    require_admin(actor)
    snippet = await get_snippet(db, snippet_id)
    before = audit.row_facts(snippet)
    if changes.shortcut is not None:
        shortcut = normalize_shortcut(changes.shortcut)
        await _check_shortcut_free(db, shortcut, snippet.id)
        snippet.shortcut = shortcut
    if changes.body is not None:
        check_variables(changes.body)
        snippet.body = changes.body
    if changes.name is not None:
        snippet.name = changes.name
    await _flush(db, snippet.shortcut)
    await _record(db, actor, snippet, "updated", before)
    return snippet


async def delete_snippet(db: AsyncSession, actor: Viewer, snippet_id: int) -> None:
    """Delete a snippet (owners and managers)."""
    require_admin(actor)
    snippet = await get_snippet(db, snippet_id)
    await _record(db, actor, snippet, "deleted", audit.row_facts(snippet), gone=True)
    await db.execute(delete(Snippet).where(Snippet.id == snippet_id))


async def _record(
    db: AsyncSession,
    actor: Viewer,
    snippet: Snippet,
    verb: str,
    before: dict[str, Any],
    *,
    gone: bool = False,
) -> None:
    after = {} if gone else audit.row_facts(snippet)
    target = ("snippet", snippet.id, snippet.name)
    await audit.record_diff(db, actor, target, verb, before, after)


# --- rendering -----------------------------------------------------------------------


def _first_word(name: str | None) -> str:
    return (name or "").split(maxsplit=1)[0] if (name or "").strip() else ""


async def variable_values(
    db: AsyncSession, viewer: Viewer, conversation_id: int
) -> dict[str, str | None]:
    """What each variable becomes in one conversation, with the caller as the agent
    (None where there is no value); 404 when the conversation is hidden. The composer
    inserts these for ``$``, and snippets are rendered with them."""
    # By id, judged by the rule's Python twin: in a pane the conversation, its contact
    # and channel are already loaded, so these cost no query.
    conversation = await db.get(Conversation, conversation_id)
    if conversation is None or not can_see(viewer, ConversationScope.of(conversation)):
        raise NotFound("conversation")
    contact = await db.get(Contact, conversation.contact_id)
    channel = await db.get(Channel, conversation.channel_id)
    if contact is None or channel is None:  # deleted meanwhile: the cascade follows
        raise NotFound("conversation")
    # The columns only: loading the user would also load their teams.
    agent = (
        await db.execute(select(User.name, User.email).where(User.id == viewer.id))
    ).one_or_none()
    return {
        "contact.name": contact.name,
        "contact.first_name": contact.first_name,
        "contact.last_name": contact.last_name,
        "contact.email": contact.email,
        "contact.phone": contact.phone,
        "agent.name": agent.name if agent else None,
        "agent.first_name": _first_word(agent.name if agent else None),
        "agent.email": agent.email if agent else None,
        "conversation.id": str(conversation.id),
        "channel.name": channel.name,
    }


async def render_snippet(
    db: AsyncSession, viewer: Viewer, snippet_id: int, conversation_id: int
) -> str:
    """A snippet's text for one conversation, with the caller as the agent.

    The conversation must be visible to the caller (404 otherwise, like a missing one);
    a variable with neither a value nor a fallback is refused (422, see ``render``).
    """
    snippet = await get_snippet(db, snippet_id)
    return render(snippet.body, await variable_values(db, viewer, conversation_id))
