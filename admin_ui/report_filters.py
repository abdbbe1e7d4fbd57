"""The reports page's filters: agent, team, channel and label (``hub.inbox.reports.Filters``).

They travel in the page's query string under the API's own names (``agent_id``…), so a
filtered report can be linked, reloaded and downloaded as CSV with the same words. A
value that is not a number or names no row is reported beside its select, never
silently dropped: the reader would otherwise trust figures they did not ask for.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from multidict import MultiMapping
from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from admin_ui.i18n import N_
from admin_ui.i18n import gettext as _
from hub.auth.visibility import Viewer
from hub.inbox.lookups import team_names
from hub.inbox.reports import Filters
from hub.store.models import Channel, Label, User

# The query parameters, in the form's order, with what each select is called.
PARAMS: dict[str, str] = {
    "agent_id": N_("Agent"),
    "team_id": N_("Team"),
    "channel_id": N_("Channel"),
    "label_id": N_("Label"),
}
# The message for an id that names no row, one whole sentence per kind.
UNKNOWN: dict[str, str] = {
    "agent_id": N_("There is no agent #%(id)s."),
    "team_id": N_("There is no team #%(id)s."),
    "channel_id": N_("There is no channel #%(id)s."),
    "label_id": N_("There is no label #%(id)s."),
}


def chosen_filters(query: MultiMapping[str], viewer: Viewer) -> dict[str, str]:
    """The filter values of the query string as typed, empty ones left out. An agent
    has no agent filter: the report is forced to their own facts anyway."""
    return {
        name: value
        for name in PARAMS
        if (value := query.get(name, "").strip()) and (viewer.is_admin or name != "agent_id")
    }


async def _names(db: AsyncSession, query: Select[int, str]) -> dict[int, str]:
    return {key: name for key, name in (await db.execute(query)).all()}


async def filter_choices(db: AsyncSession, viewer: Viewer) -> dict[str, dict[int, str]]:
    """Each select's options (id → name, in name order): every user, team, channel
    (deleted ones too: their past still counts) and label. No agents for an agent."""
    choices: dict[str, dict[int, str]] = {}
    if viewer.is_admin:
        choices["agent_id"] = await _names(db, select(User.id, User.name).order_by(User.name))
    choices["team_id"] = await team_names(db)
    choices["channel_id"] = await _names(
        db, select(Channel.id, Channel.name).order_by(Channel.name, Channel.id)
    )
    choices["label_id"] = await _names(db, select(Label.id, Label.name).order_by(Label.name))
    return choices


@dataclass(frozen=True)
class FilterForm:
    """The chosen filters (as typed) checked against the workspace's rows: the ids that
    name a row, and a message for each value that does not."""

    chosen: Mapping[str, str]
    choices: Mapping[str, Mapping[int, str]]
    ids: dict[str, int]
    errors: dict[str, str]

    @classmethod
    def check(
        cls, chosen: Mapping[str, str], choices: Mapping[str, Mapping[int, str]]
    ) -> FilterForm:
        """Sort each chosen value into ``ids`` or ``errors``."""
        ids: dict[str, int] = {}
        errors: dict[str, str] = {}
        for name, value in chosen.items():
            if not value.isdecimal():
                errors[name] = _("“%(value)s” is not an id from the list.") % {"value": value}
            elif int(value) not in choices.get(name, {}):
                errors[name] = _(UNKNOWN[name]) % {"id": value}
            else:
                ids[name] = int(value)
        return cls(chosen, choices, ids, errors)

    @property
    def filters(self) -> Filters:
        """The ``Filters`` of the valid ids (meaningful when ``errors`` is empty)."""
        ids = self.ids
        return Filters(
            ids.get("agent_id"), ids.get("team_id"), ids.get("channel_id"), ids.get("label_id")
        )

    def selects(self) -> list[tuple[str, str, list[tuple[str, str]]]]:
        """Each select as (name, label, options): "Any" first, then the rows."""
        return [
            (
                name,
                _(label),
                [("", _("Any")), *((str(k), v) for k, v in self.choices[name].items())],
            )
            for name, label in PARAMS.items()
            if name in self.choices
        ]

    def active(self) -> list[tuple[str, str]]:
        """The valid filters as (what, name) in the form's order: the "Filtered:" line."""
        return [
            (_(label), self.choices[name][self.ids[name]])
            for name, label in PARAMS.items()
            if name in self.ids
        ]
