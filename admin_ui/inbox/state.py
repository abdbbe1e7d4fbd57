"""Which list the agent is looking at: the view, the status tab, the sort, the
unanswered filter and the label filter, read from the page's query string and written
back into its links."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import get_args

from aiohttp import web

from admin_ui.i18n import N_
from admin_ui.i18n import gettext as _
from hub.auth.visibility import Viewer
from hub.errors import HubError
from hub.inbox.views import Sort, StatusTab, View

STATUS_TABS: tuple[tuple[StatusTab, str], ...] = (
    ("open", N_("Open")),
    ("closed", N_("Closed")),
    ("snoozed", N_("Snoozed")),
    ("all", N_("All")),
)
# The sorts' names follow the tab: "longest open", "longest closed"…
SORTS: tuple[tuple[Sort, str], ...] = (
    ("newest", N_("Newest")),
    ("oldest", N_("Oldest")),
    ("longest", "Longest {status}"),
    ("shortest", "Shortest {status}"),
    ("priority", N_("Priority")),
)
# Each tab's whole name for the two sorts that follow it: a language orders and inflects
# "longest" and the status its own way, so the words are not put together here.
_SORTS_BY_STATUS: dict[str, dict[str, str]] = {
    "Longest {status}": {
        "open": N_("Longest open"),
        "closed": N_("Longest closed"),
        "snoozed": N_("Longest snoozed"),
        "all": N_("Longest in status"),
    },
    "Shortest {status}": {
        "open": N_("Shortest open"),
        "closed": N_("Shortest closed"),
        "snoozed": N_("Shortest snoozed"),
        "all": N_("Shortest in status"),
    },
}

# hub.inbox.view_counts names the standard inboxes in English (the hub layer knows no
# language); the sidebar and the list's title show them through this table.
_VIEW_NAMES = {
    "all": N_("All"),
    "mine": N_("Mine"),
    "unassigned": N_("Unassigned"),
    "sla": N_("SLA at risk"),
    "blocked": N_("Blocked contacts"),
}


def view_count_name(view: str, name: str) -> str:
    """An inbox's name in the viewer's language: a standard one translated, a team or a
    custom inbox as its people named it."""
    return _(_VIEW_NAMES[view]) if view in _VIEW_NAMES else name


@dataclass(frozen=True)
class ListState:
    """The list's settings; ``query()`` is their query string, defaults left out."""

    view: View
    status: StatusTab = "open"
    sort: Sort = "newest"
    unanswered: bool = False
    label: int | None = None

    @classmethod
    def of(cls, request: web.Request, viewer: Viewer) -> ListState:
        """The state a page or fragment request asks for; 422 for a value that is none
        of the choices (the view's own checks, 403 and 404, come when it is listed)."""
        query = request.query
        view = View.parse(query.get("view") or default_view(viewer))
        status = query.get("status") or "open"
        sort = query.get("sort") or "newest"
        if status not in get_args(StatusTab):
            raise _bad("status", "must be open, closed, snoozed or all")
        if sort not in get_args(Sort):
            raise _bad("sort", "must be newest, oldest, longest, shortest or priority")
        unanswered = query.get("unanswered", "") not in ("", "0")
        label_text = query.get("label") or ""
        if label_text and not (label_text.isdigit() and len(label_text) < 19):
            raise _bad("label", "must be a label id")
        label = int(label_text) if label_text else None
        return cls(view, status, sort, unanswered, label)  # type: ignore[arg-type]

    def query(self, cursor: str | None = None, **changes: object) -> dict[str, str | None]:
        """The query string of this state (with ``changes``, and a page's ``cursor``),
        for ``url(…)``."""
        state = replace(self, **changes) if changes else self  # type: ignore[arg-type]
        return {
            "view": str(state.view),
            "status": None if state.status == "open" else state.status,
            "sort": None if state.sort == "newest" else state.sort,
            "unanswered": "1" if state.unanswered else None,
            "label": str(state.label) if state.label is not None else None,
            "cursor": cursor,
        }

    def sort_label(self, label: str) -> str:
        """A sort's name for the current tab ("Longest open"), in the viewer's language."""
        by_status = _SORTS_BY_STATUS.get(label)
        return _(by_status[self.status] if by_status else label)


def default_view(viewer: Viewer) -> str:
    """Where an agent lands: everything when they may see it, else their own."""
    return "all" if viewer.sees_everything else "mine"


def _bad(field: str, message: str) -> HubError:
    return HubError(
        422, "validation_error", f"{field}: {message}", [{"field": field, "message": message}]
    )
