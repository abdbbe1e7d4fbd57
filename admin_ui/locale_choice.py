"""Which language and time zone a page is rendered in.

The language: the user's profile (``users.language``), else the browser's
``Accept-Language`` (Babel's ``negotiate_locale`` over the languages the UI speaks), else
English. The time zone: the user's profile (``users.time_zone``), else the workspace's
business hours' zone, else UTC.

The ``request_locale`` middleware sets the browser's choice before any handler runs, so a
login page or a flash message of a visitor is translated too; once a page knows who is
logged in (``admin_ui.access.page_identity``) the user's own choice replaces it, and the
rendering path sets the full choice, time zone included, for the template.
"""

from __future__ import annotations

from functools import lru_cache

from aiohttp import web
from aiohttp.typedefs import Handler
from babel import negotiate_locale

from admin_ui.catalogs import ui_locale
from admin_ui.i18n import SOURCE_LANGUAGE, UiLocale, activate, deactivate
from hub import appkeys
from hub.auth.identity import IDENTITY
from hub.inbox.user_locale import DEFAULT_TIME_ZONE, LANGUAGES, workspace_time_zone
from hub.store.models import User

_CHOSEN = web.RequestKey("ui_locale", UiLocale)
# Past this many languages an Accept-Language header is a prank, not a preference.
_MAX_ACCEPTED = 20


@lru_cache(maxsize=256)
def browser_language(accept_language: str) -> str:
    """The UI language that best fits an ``Accept-Language`` header; English when none
    does. ``de-AT;q=0.9, en;q=0.5`` gives ``de``."""
    preferred: list[tuple[float, int, str]] = []
    for position, part in enumerate(accept_language.split(",")[:_MAX_ACCEPTED]):
        tag, _, params = part.strip().partition(";")
        weight = 1.0
        params = params.strip()
        if params.startswith("q="):
            try:
                weight = float(params[2:])
            except ValueError:
                continue
        if tag and tag != "*" and weight > 0:
            # Highest weight first; among equals, the header's order.
            preferred.append((-weight, position, tag.strip().replace("-", "_")))
    ranked = [tag for _, _, tag in sorted(preferred)]
    return negotiate_locale(ranked, list(LANGUAGES)) or SOURCE_LANGUAGE


def language_of(request: web.Request, user: User | None) -> str:
    """The language for this request: the user's profile, else the browser's."""
    if user is not None and user.language in LANGUAGES:
        return user.language
    return browser_language(request.headers.get("Accept-Language", ""))


def use_user_locale(request: web.Request, user: User) -> None:
    """Switch the request to ``user``'s language (their zone when they chose one), once
    the page knows who is logged in, for what the handler words before rendering."""
    activate(ui_locale(language_of(request, user), user.time_zone or DEFAULT_TIME_ZONE))


async def page_locale(request: web.Request) -> UiLocale:
    """The full choice for rendering this request's page; for a logged-in user without a
    zone of their own, the workspace's is read once and kept for the rest of the request."""
    identity = request.get(IDENTITY)
    if identity is None:
        return ui_locale(language_of(request, None), DEFAULT_TIME_ZONE)
    chosen = request.get(_CHOSEN)
    if chosen is None:
        zone = identity.user.time_zone or await _workspace_zone(request)
        chosen = ui_locale(language_of(request, identity.user), zone)
        request[_CHOSEN] = chosen
    return chosen


async def _workspace_zone(request: web.Request) -> str:
    async with request.config_dict[appkeys.SESSIONS]() as db:
        return await workspace_time_zone(db)


@web.middleware
async def request_locale(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Translate this request into the browser's language (until the logged-in user's
    own choice replaces it), and restore the previous locale afterwards."""
    browser = browser_language(request.headers.get("Accept-Language", ""))
    token = activate(ui_locale(browser, DEFAULT_TIME_ZONE))
    try:
        return await handler(request)
    finally:
        deactivate(token)
