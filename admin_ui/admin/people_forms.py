"""Form plumbing shared by the users, teams, snippets and settings pages.

A form post is read into plain values, validated with the REST API's pydantic body and
handed to the same service the API calls; a ``HubError`` becomes messages beside the
fields (``errors``) or one message above the form (``message``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from aiohttp import web
from multidict import MultiDictProxy
from sqlalchemy.ext.asyncio import AsyncSession

from admin_ui.i18n import N_
from admin_ui.i18n import gettext as _
from admin_ui.wording import human_text, sentence
from hub.errors import HubError
from hub.people import directory
from hub.store.models import Team, User

# How many rows a picker (teams on the user form, users on the team form) shows at most;
# a workspace with more teams than this needs a searchable picker, not a checkbox list.
PICKER_LIMIT = 500
PAGE_SIZE = 25

ROLE_OPTIONS: list[tuple[str, str, str]] = [
    ("agent", N_("Agent"), N_("Works conversations in the inbox; cannot open the admin pages.")),
    (
        "manager",
        N_("Manager"),
        N_(
            "Everything an agent does, plus the admin pages: channels, users, teams, "
            "snippets and settings. Cannot create or change owners."
        ),
    ),
    (
        "owner",
        N_("Owner"),
        N_(
            "Everything a manager does, and may create and change owners. "
            "Only an owner can make someone an owner."
        ),
    ),
]

VISIBILITY_OPTIONS: list[tuple[str, str, str]] = [
    ("all", N_("All conversations"), N_("Sees every conversation in the workspace.")),
    (
        "team",
        N_("Their teams' conversations"),
        N_("Sees conversations of the teams they belong to, and those assigned to them."),
    ),
    (
        "assigned",
        N_("Only assigned to them"),
        N_("Sees only the conversations assigned to them."),
    ),
]
VISIBILITY_NOTE = N_(
    "Applies to agents: owners and managers always see every conversation. Restricted "
    "agents never see conversations of blocked contacts."
)


def translated(options: list[tuple[str, str, str]]) -> list[tuple[str, str, str]]:
    """The choices of a radio group in the request's language (the tables are only marked)."""
    return [(value, _(label), _(help_text)) for value, label, help_text in options]


@dataclass
class FormState:
    """What a form page needs to show after a failed post: the typed values and why."""

    values: dict[str, object] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    message: str | None = None


def text(form: MultiDictProxy[str | bytes | bytearray | web.FileField], name: str) -> str:
    """A text field of a posted form ("" when missing; a file upload is not text)."""
    value = form.get(name, "")
    return value if isinstance(value, str) else ""


def id_list(
    form: MultiDictProxy[str | bytes | bytearray | web.FileField], name: str
) -> list[int | str]:
    """Every value of a repeated field (checkboxes): numbers as ids, anything else kept as
    posted so that validation names it (the API's ids are strict integers)."""
    values = [value for value in form.getall(name, []) if isinstance(value, str)]
    return [int(value) if value.isdigit() and len(value) < 19 else value for value in values]


def field_name(path: str) -> str:
    """The form field an error path points at: ``team_ids.0`` is the ``team_ids`` field."""
    return path.split(".", 1)[0]


def failed(
    err: HubError,
    values: dict[str, object],
    fields: Iterable[str],
    by_code: dict[str, str] | None = None,
) -> FormState:
    """The form state for a service or validation error.

    Errors naming one of ``fields`` go beside it; so does an error whose code
    ``by_code`` maps to a field (``email_taken`` → ``email``); the rest go above the
    form. A conflict (409, e.g. a taken name) keeps its full message, which says what
    clashed. Every message reads as a sentence (``admin_ui.wording``).
    """
    known = set(fields)
    errors: dict[str, str] = {}
    if by_code and err.code in by_code:
        errors[by_code[err.code]] = sentence(err.message)
    for detail in err.details if isinstance(err.details, list) else []:
        name = field_name(str(detail.get("field", "")))
        if name in known and name not in errors:
            text = err.message if err.status == 409 else str(detail.get("message", ""))
            errors[name] = human_text(text)
    message = None if errors else sentence(err.message)
    return FormState(values, errors, message)


async def all_teams(db: AsyncSession) -> list[Team]:
    """Every team by name (up to ``PICKER_LIMIT``), for a checkbox list."""
    teams, _ = await directory.list_teams(db, cursor=None, limit=PICKER_LIMIT)
    return teams


async def active_users(db: AsyncSession) -> list[User]:
    """Every active user by name (up to ``PICKER_LIMIT``), for a checkbox list."""
    users, _ = await directory.list_users(db, q=None, active=True, cursor=None, limit=PICKER_LIMIT)
    return users
