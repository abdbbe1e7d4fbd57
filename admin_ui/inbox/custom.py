"""Custom inboxes in the inbox page: the dialog that saves the current filters as one (or
edits one, for its creator), and the header of a custom inbox's list with what it shows.

Saving, changing and deleting go through the REST API (``custom_inboxes.js``); this
module only reads what the page shows.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from admin_ui.i18n import N_
from admin_ui.i18n import gettext as _
from admin_ui.inbox.state import ListState
from hub.auth.visibility import Viewer
from hub.inbox.custom_inboxes import SharedInbox, get_custom_inbox
from hub.inbox.filters import CustomInboxFilters
from hub.inbox.labels import all_labels
from hub.inbox.lookups import team_names
from hub.inbox.priority import LABELS as PRIORITY_NAMES
from hub.store.models import Channel, User

OPTIONS_SHOWN = 500


@dataclass(frozen=True)
class Option:
    """A channel, user or team to pick in the dialog."""

    id: int
    name: str


@dataclass(frozen=True)
class Options:
    """What the dialog's filters and sharing offer."""

    channels: list[Option]
    users: list[Option]
    teams: list[Option]
    labels: list[Option] = field(default_factory=list)

    def names(self, kind: str, ids: list[int]) -> list[str]:
        """The names of these ids (``#id`` for one no longer there)."""
        known = {o.id: o.name for o in getattr(self, kind)}
        return [known.get(i, f"#{i}") for i in ids]


@dataclass(frozen=True)
class InboxForm:
    """What the custom inbox dialog starts with: a new inbox from the current filters, or
    an existing one (``inbox_id``) to edit."""

    name: str
    filters: CustomInboxFilters
    share_user_ids: list[int] = field(default_factory=list)
    share_team_ids: list[int] = field(default_factory=list)
    inbox_id: int | None = None

    def filters_json(self) -> str:
        """The filters as JSON, so the script keeps the ones the dialog has no field for
        (contact conditions, dates) when it saves."""
        return json.dumps(self.filters.model_dump(mode="json"))


@dataclass(frozen=True)
class CustomView:
    """The custom inbox being listed, as its list header shows it."""

    inbox: SharedInbox
    editable: bool
    owner_name: str
    summary: list[str]
    form: InboxForm


async def form_options(db: AsyncSession, live: Sequence[Channel]) -> Options:
    """The ``live`` channels (not deleted, by name, as the page has read them), active
    users, teams and labels, by name."""
    users = await db.execute(
        select(User.id, User.name)
        .where(User.is_active.is_(True))
        .order_by(User.name)
        .limit(OPTIONS_SHOWN)
    )
    teams = list((await team_names(db)).items())[:OPTIONS_SHOWN]
    labels = (await all_labels(db))[:OPTIONS_SHOWN]
    return Options(
        [Option(c.id, c.name) for c in live[:OPTIONS_SHOWN]],
        [Option(i, n) for i, n in users.all()],
        [Option(i, n) for i, n in teams],
        [Option(label.id, label.name) for label in labels],
    )


# The statuses' names as the filter form shows them (marked for the catalog).
_STATUS_NAMES = {"open": N_("Open"), "snoozed": N_("Snoozed"), "closed": N_("Closed")}


def filters_from_state(
    state: ListState, viewer: Viewer, base: CustomInboxFilters | None = None
) -> CustomInboxFilters:
    """The filters of the list being looked at, to save as a custom inbox: its view (or
    the custom inbox's own filters), its status tab, the unanswered and label filters."""
    filters = (base or CustomInboxFilters()).model_copy(deep=True)
    view = state.view
    if view.kind == "mine":
        filters.assignee_ids = [viewer.id]
    elif view.kind == "unassigned":
        filters.include_unassigned = True
    elif view.kind == "team" and view.ref is not None:
        filters.team_ids = [view.ref]
    if state.status != "all":
        filters.statuses = [state.status]
    if state.unanswered:
        filters.unanswered = True
    if state.label is not None:
        filters.label_ids = [state.label]
    return filters


def describe(filters: CustomInboxFilters, options: Options) -> list[str]:
    """The filters in words, one line each, for those who may not edit them."""
    lines: list[str] = []

    def line(template: str, names: Sequence[object]) -> None:
        lines.append(_(template) % {"names": ", ".join(str(n) for n in names)})

    if filters.statuses:
        line(N_("Status: %(names)s"), [_(_STATUS_NAMES.get(s, s)) for s in filters.statuses])
    if filters.channel_ids:
        line(N_("Channels: %(names)s"), options.names("channels", filters.channel_ids))
    assignees = options.names("users", filters.assignee_ids)
    if filters.include_unassigned:
        assignees.append(_("nobody"))
    if assignees:
        line(N_("Assigned to: %(names)s"), assignees)
    if filters.team_ids:
        line(N_("Teams: %(names)s"), options.names("teams", filters.team_ids))
    if filters.unanswered is not None:
        lines.append(_("Unanswered only") if filters.unanswered else _("Answered only"))
    if filters.label_ids:
        line(N_("Any of the labels: %(names)s"), options.names("labels", filters.label_ids))
    if filters.priorities:
        line(N_("Priority: %(names)s"), [_(PRIORITY_NAMES[p]) for p in filters.priorities])
    for condition in filters.contact:
        # The field and operator are the API's words (as the admin's filter form names them).
        words = condition.op.replace("_", " ")
        value = f" “{condition.value}”" if condition.value else ""
        lines.append(
            _("Contact %(condition)s") % {"condition": f"{condition.field} {words}{value}"}
        )
    if filters.last_activity_from is not None:
        at = f"{filters.last_activity_from:%Y-%m-%d %H:%M}"
        lines.append(_("Last message from %(at)s UTC") % {"at": at})
    if filters.last_activity_to is not None:
        at = f"{filters.last_activity_to:%Y-%m-%d %H:%M}"
        lines.append(_("Last message until %(at)s UTC") % {"at": at})
    return lines or [_("Every conversation you may see")]


async def custom_view(
    db: AsyncSession, viewer: Viewer, state: ListState, options: Options | None
) -> CustomView | None:
    """The custom inbox the state lists (None for another view); 404 when the viewer
    does not have it. Its filters in words (``summary``) only with ``options``: the
    dialogs show them, not the list."""
    if state.view.kind != "custom" or state.view.ref is None:
        return None
    shared = await get_custom_inbox(db, viewer, state.view.ref)
    inbox = shared.inbox
    filters = CustomInboxFilters.model_validate(inbox.filters)
    owner = await db.scalar(select(User.name).where(User.id == inbox.owner_id))
    form = InboxForm(
        inbox.name, filters, shared.sharing.user_ids, shared.sharing.team_ids, inbox.id
    )
    return CustomView(
        shared,
        inbox.owner_id == viewer.id,
        owner or "someone",
        describe(filters, options) if options is not None else [],
        form,
    )


def new_form(state: ListState, viewer: Viewer, current: CustomView | None) -> InboxForm:
    """The dialog for a new custom inbox, filled with the current list's filters."""
    base = current.form.filters if current is not None else None
    return InboxForm("", filters_from_state(state, viewer, base))
