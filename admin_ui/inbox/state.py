"""Which list the agent is looking at: the view, the status tab, the sort, the
unanswered filter and the label filter, read from the page's query string and written
back into its links."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import get_args

from aiohttp import web

from hub.auth.visibility import Viewer
from hub.errors import HubError
from hub.inbox.views import Sort, StatusTab, View

STATUS_TABS: tuple[tuple[StatusTab, str], ...] = (
    ("open", "Open"),
    ("closed", "Closed"),
    ("snoozed", "Snoozed"),
    ("all", "All"),
)
# The sorts' names follow the tab: "longest open", "longest closed"…
SORTS: tuple[tuple[Sort, str], ...] = (
    ("newest", "Newest"),
    ("oldest", "Oldest"),
    ("longest", "Longest {status}"),
    ("shortest", "Shortest {status}"),
    ("priority", "Priority"),
)


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
        """A sort's name for the current tab ("Longest open")."""
        status = "in status" if self.status == "all" else self.status
        return label.format(status=status)


def default_view(viewer: Viewer) -> str:
    """Where an agent lands: everything when they may see it, else their own."""
    return "all" if viewer.sees_everything else "mine"


def _bad(field: str, message: str) -> HubError:
    return HubError(
        422, "validation_error", f"{field}: {message}", [{"field": field, "message": message}]
    )
