"""Who may see a page: a logged-in user for every page, an owner or manager for admin pages.

A visitor who is not logged in is sent to the login page (and back afterwards); an agent
who reaches an admin page gets a 403 page. Writes are checked for the session's CSRF token
by ``require_user`` (the ``csrf_token`` field of every form). The admin sub-app checks all
of this once, in ``admin_guard``, before any of its handlers runs; a handler reads the
admin it let in with ``viewer_of``.
"""

from __future__ import annotations

from urllib.parse import unquote

from aiohttp import web
from aiohttp.typedefs import Handler

from admin_ui.locale_choice import use_user_locale
from admin_ui.urls import page_url
from hub.auth.identity import Identity, identify, require_user
from hub.auth.visibility import Viewer
from hub.errors import Forbidden

ADMIN_ROLES = ("owner", "manager")
VIEWER = web.RequestKey("viewer", Viewer)
# Besides the C0 controls: what the WHATWG URL parser also rewrites or strips.
_SPECIAL_TO_BROWSERS = frozenset("\\ \x7f")
# What that parser strips at the ends of a URL, and drops anywhere in it.
_STRIPPED_AT_ENDS = "".join(map(chr, range(0x21)))
_DROPPED_INSIDE = str.maketrans("", "", "\t\n\r")


def login_url(request: web.Request) -> str:
    """The login page, returning to this page (a GET's URL) afterwards."""
    back = request.path_qs if request.method == "GET" else request.path
    return page_url(request, "login", None if back == "/" else {"next": back})


async def page_identity(request: web.Request) -> Identity:
    """The logged-in user of a UI page; a redirect to the login page otherwise."""
    identity = await identify(request)
    if identity is None or identity.session is None:
        raise web.HTTPSeeOther(login_url(request))
    await require_user(request)  # the CSRF check of writes
    # What the handler words from here on (a flash message) is in the user's language.
    use_user_locale(request, identity.user)
    return identity


@web.middleware
async def admin_guard(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Let only a logged-in owner or manager through (with the CSRF token on writes); a
    visitor is sent to log in, an agent gets a 403 page. Unknown admin paths too: they
    say nothing about which admin pages exist."""
    identity = await page_identity(request)
    if identity.user.role not in ADMIN_ROLES:
        raise Forbidden("this page is for owners and managers")
    request[VIEWER] = Viewer.of(identity.user)
    return await handler(request)


@web.middleware
async def member_guard(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Let any logged-in user through (with the CSRF token on writes); a visitor is sent
    to log in. What each user then sees is the visibility rule's business."""
    identity = await page_identity(request)
    request[VIEWER] = Viewer.of(identity.user)
    return await handler(request)


def viewer_of(request: web.Request) -> Viewer:
    """The user ``admin_guard`` or ``member_guard`` let in to this page."""
    return request[VIEWER]


def safe_next(target: str | None) -> str:
    """Where to go after logging in: a path on this site only, never another host; ``/``
    for anything else.

    The browser, not this function, reads the ``Location`` header, and it follows the
    WHATWG URL rules: it strips control characters and spaces at the ends, drops every
    tab and newline inside, and takes a backslash for a slash; ``/<tab>/evil.example``
    so becomes ``//evil.example``, another host. Rather than imitate those rules, a
    target with any character they treat specially is refused, so what is checked is
    what the browser follows: a path that starts with exactly one slash. The same holds
    once percent-decoded (``/%2F/evil.example``): the browser keeps ``%2F`` as it is,
    but a proxy or server that decodes paths before redirecting would not.
    """
    if not target or any(char in _SPECIAL_TO_BROWSERS or char < " " for char in target):
        return "/"
    decoded = unquote(target).strip(_STRIPPED_AT_ENDS)
    decoded = decoded.translate(_DROPPED_INSIDE).replace("\\", "/")
    if not target.startswith("/") or decoded.startswith("//"):
        return "/"
    return target
