"""What the inbound log and dead-letter pages share: their filter forms read from the query
string (validated by the REST API's own query models), the channel choices, and links
that keep the filters."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from admin_ui.access import safe_next
from admin_ui.i18n import gettext as _
from admin_ui.paging import list_url
from admin_ui.wording import human
from hub.api.bodies import validation_details
from hub.channels.channel_queries import list_channels
from hub.events.work import Work
from hub.store.models import Channel

M = TypeVar("M", bound=BaseModel)
# Enough for any real workspace; the select would be unusable long before this.
MAX_CHANNEL_PAGES = 10


@dataclass
class Filters:
    """A list page's filters as typed (``values``) and, when valid, as parsed (``query``)."""

    values: dict[str, str]
    query: Any = None
    errors: dict[str, str] = field(default_factory=dict)

    def url(self, path: str, **extra: str | None) -> str:
        """``path`` with these filters (and ``extra`` parameters) in the query string."""
        return list_url(path, {**self.values, **extra})


def read_filters(source: Mapping[str, Any], model: type[M], names: tuple[str, ...]) -> Filters:
    """The filters ``names`` from a query string or form, validated as ``model``.

    Empty fields (a select's "All" option, a cleared date) mean "no filter". A bad value
    leaves ``query`` unset and names the field in ``errors``, so the page can say so
    beside it.
    """
    values = {name: str(source.get(name, "")).strip() for name in names}
    given = {name: value for name, value in values.items() if value}
    try:
        query = model.model_validate(given)
    except ValidationError as err:
        errors: dict[str, str] = {}
        for detail in validation_details(err, human):
            errors.setdefault(detail["field"].split(".")[0], detail["message"])
        return Filters(values, None, errors)
    return Filters(values, query)


async def channel_names(work: Work) -> dict[int, Channel]:
    """Every channel by id, deleted ones too (old log entries and deliveries name them)."""
    channels: dict[int, Channel] = {}
    cursor: str | None = None
    for _page in range(MAX_CHANNEL_PAGES):
        rows, cursor = await list_channels(
            work.db,
            sort="name",
            type_=None,
            enabled=None,
            include_deleted=True,
            cursor=cursor,
            limit=100,
        )
        channels.update((row.id, row) for row in rows)
        if cursor is None:
            break
    return channels


def channel_label(channel: Channel | None, channel_id: int | None) -> str:
    """How a list names a channel: its name, marked when deleted or disabled."""
    if channel is None:
        if channel_id is None:
            return _("(deleted channel)")
        return _("channel #%(id)d") % {"id": channel_id}
    if channel.deleted_at is not None:
        return _("%(name)s (deleted)") % {"name": channel.name}
    if not channel.enabled:
        return _("%(name)s (disabled)") % {"name": channel.name}
    return channel.name


def channel_options(channels: dict[int, Channel]) -> list[tuple[str, str]]:
    """The channel select's options: "All channels", then each channel by name."""
    return [("", _("All channels"))] + [
        (str(channel_id), channel_label(channel, channel_id))
        for channel_id, channel in channels.items()
    ]


def back_to(form_value: object, area: str) -> str:
    """Where a form goes back to: the list page it came from (with its filters), never
    another site or area."""
    target = safe_next(form_value if isinstance(form_value, str) else None)
    return target if target.startswith(area) else area
