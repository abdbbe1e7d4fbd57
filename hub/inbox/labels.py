"""Labels: admins define them (a name, a colour of the palette, a description); agents
put them on conversations (``hub.inbox.triage``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from hub.auth import audit
from hub.auth.visibility import Viewer
from hub.errors import Forbidden, HubError, Invalid, NotFound
from hub.events.event import HubEvent
from hub.events.work import Work
from hub.inbox.lookups import remembered
from hub.store.models import ConversationLabel, Label
from hub.store.paging import like_pattern, name_page

NAME_MAX = 50
DESCRIPTION_MAX = 200
# A fixed palette, stored by key: the stylesheet gives each key a background and a text
# colour with at least 4.5:1 contrast, and no free CSS ever reaches a page (the CSP
# forbids inline styles anyway).
PALETTE: dict[str, str] = {
    "grey": "Grey",
    "red": "Red",
    "orange": "Orange",
    "yellow": "Yellow",
    "green": "Green",
    "teal": "Teal",
    "blue": "Blue",
    "indigo": "Indigo",
    "purple": "Purple",
    "pink": "Pink",
}
# More than a picker or a page of rows would sensibly show; the API pages past it.
ALL_LABELS_MAX = 500


@dataclass(frozen=True)
class LabelChanges:
    """A partial update of a label; ``None`` leaves a field as it is (an empty
    ``description`` clears it)."""

    name: str | None = None
    colour: str | None = None
    description: str | None = None


def require_admin(actor: Viewer) -> None:
    """403 unless ``actor`` is an owner or a manager: only they manage labels."""
    if not actor.is_admin:
        raise Forbidden("only owners and managers manage labels")


def check_name(name: str) -> str:
    """A label name as stored: trimmed, 1 to 50 characters; 422 naming ``name``."""
    value = " ".join(name.split())
    if not 1 <= len(value) <= NAME_MAX:
        raise Invalid("name", f"give 1 to {NAME_MAX} characters")
    return value


def check_colour(colour: str) -> str:
    """A palette key; 422 naming ``colour`` and the choices otherwise."""
    if colour not in PALETTE:
        raise Invalid("colour", f"must be one of {', '.join(PALETTE)}")
    return colour


def check_description(description: str | None) -> str | None:
    """A description as stored (None when empty); 422 when longer than 200 characters."""
    value = (description or "").strip()
    if len(value) > DESCRIPTION_MAX:
        raise Invalid("description", f"at most {DESCRIPTION_MAX} characters")
    return value or None


def _name_taken(name: str) -> HubError:
    return HubError(
        409,
        "label_name_taken",
        f"a label named {name!r} exists already",
        [{"field": "name", "message": "taken (whatever the capitals)"}],
    )


async def _check_name_free(db: AsyncSession, name: str, label_id: int | None) -> None:
    # Case-insensitive: "Billing" and "billing" side by side in a picker would confuse.
    query = select(Label.id).where(Label.name_key == name.lower())
    if label_id is not None:
        query = query.where(Label.id != label_id)
    if await db.scalar(query.limit(1)) is not None:
        raise _name_taken(name)


async def _flush(db: AsyncSession, name: str) -> None:
    # The check above can lose a race with a concurrent save; the unique key cannot.
    try:
        await db.flush()
    except IntegrityError:
        raise _name_taken(name) from None


def _facts(label: Label) -> dict[str, Any]:
    return audit.snapshot(label, ("name", "colour", "description"))


def _target(label: Label) -> tuple[str, int, str]:
    return "label", label.id, label.name


def _announce(work: Work, label_id: int, change: str) -> None:
    # Rows and pickers show label names and colours: open inboxes refresh them.
    work.emit(HubEvent("label.updated", {"label_id": label_id, "change": change}))


async def list_labels(
    db: AsyncSession, *, q: str | None, cursor: str | None, limit: int
) -> tuple[list[Label], str | None]:
    """One page of labels by name; ``q`` matches part of the name."""
    conditions: list[ColumnElement[bool]] = []
    if q and q.strip():
        conditions.append(Label.name_key.like(like_pattern(q.strip()), escape="\\"))
    key: ColumnElement[str] = Label.name_key.expression
    return await name_page(db, Label, key, Label.id, conditions, cursor, limit)


async def all_labels(db: AsyncSession) -> list[Label]:
    """Every label by name (up to ``ALL_LABELS_MAX``), for pickers and filters (read
    once per unit of work: a page asks more than once)."""

    async def load() -> list[Label]:
        query = select(Label).order_by(Label.name_key, Label.id).limit(ALL_LABELS_MAX)
        return list(await db.scalars(query))

    return await remembered(db, "all_labels", load)


async def usage(db: AsyncSession, label_ids: Sequence[int]) -> dict[int, int]:
    """How many conversations carry each label (0 for none)."""
    counts = dict.fromkeys(label_ids, 0)
    if label_ids:
        rows = await db.execute(
            select(ConversationLabel.label_id, func.count())
            .where(ConversationLabel.label_id.in_(label_ids))
            .group_by(ConversationLabel.label_id)
        )
        counts.update({label_id: int(n) for label_id, n in rows.all()})
    return counts


async def get_label(db: AsyncSession, label_id: int) -> Label:
    """A label; 404 when there is none."""
    label = await db.get(Label, label_id)
    if label is None:
        raise NotFound("label")
    return label


async def create_label(
    work: Work, actor: Viewer, *, name: str, colour: str, description: str | None = None
) -> Label:
    """Create a label (owners and managers); 409 when the name is taken."""
    require_admin(actor)
    name = check_name(name)
    label = Label(
        name=name,
        name_key=name.lower(),
        colour=check_colour(colour),
        description=check_description(description),
    )
    await _check_name_free(work.db, name, None)
    work.db.add(label)
    await _flush(work.db, name)
    await audit.record_diff(work.db, actor, _target(label), "created", {}, _facts(label))
    _announce(work, label.id, "created")
    return label


async def update_label(work: Work, actor: Viewer, label_id: int, changes: LabelChanges) -> Label:
    """Rename, recolour or describe a label (owners and managers). Conversations refer
    to the label's id, so they keep it through a rename."""
    require_admin(actor)
    label = await get_label(work.db, label_id)
    before = _facts(label)
    if changes.name is not None:
        name = check_name(changes.name)
        await _check_name_free(work.db, name, label.id)
        label.name, label.name_key = name, name.lower()
    if changes.colour is not None:
        label.colour = check_colour(changes.colour)
    if changes.description is not None:
        label.description = check_description(changes.description)
    await _flush(work.db, label.name)
    await audit.record_diff(work.db, actor, _target(label), "updated", before, _facts(label))
    _announce(work, label.id, "updated")
    return label


async def delete_label(work: Work, actor: Viewer, label_id: int) -> None:
    """Delete a label (owners and managers); it comes off every conversation."""
    require_admin(actor)
    label = await get_label(work.db, label_id)
    await audit.record_diff(work.db, actor, _target(label), "deleted", _facts(label), {})
    # Explicitly, not by the foreign key's cascade: SQLite enforces those only when asked.
    await work.db.execute(delete(ConversationLabel).where(ConversationLabel.label_id == label_id))
    await work.db.execute(delete(Label).where(Label.id == label_id))
    _announce(work, label_id, "deleted")


async def labels_of(db: AsyncSession, conversation_ids: Sequence[int]) -> dict[int, list[Label]]:
    """The labels of each conversation, by name (an empty list for none)."""
    found: dict[int, list[Label]] = {cid: [] for cid in conversation_ids}
    if conversation_ids:
        rows = await db.execute(
            select(ConversationLabel.conversation_id, Label)
            .join(Label, Label.id == ConversationLabel.label_id)
            .where(ConversationLabel.conversation_id.in_(conversation_ids))
            .order_by(Label.name_key, Label.id)
        )
        for conversation_id, label in rows.all():
            found[conversation_id].append(label)
    return found


async def check_label_ids(db: AsyncSession, label_ids: Sequence[int], field: str) -> None:
    """422 naming ``field`` and every id that is no label."""
    wanted = set(label_ids)
    found = set(await db.scalars(select(Label.id).where(Label.id.in_(wanted))))
    unknown = sorted(wanted - found)
    if unknown:
        raise Invalid(field, f"no label with id {', '.join(map(str, unknown))}")
