"""Who may see a page: a logged-in user for every page, an owner or manager for admin pages.

A visitor who is not logged in is sent to the login page (and back afterwards); an agent
who reaches an admin page gets a 403 page. Writes are checked for the session's CSRF token
by ``require_user`` (the ``csrf_token`` field of every form). The admin sub-app checks all
of this once, in ``admin_guard``, before any of its handlers runs; a handler reads the
admin it let in with ``viewer_of``.
"""

from __future__ import annotations

from aiohttp import web
from aiohttp.typedefs import Handler

from admin_ui.urls import page_url
from hub.auth.identity import Identity, identify, require_user
from hub.auth.visibility import Viewer
from hub.errors import Forbidden

ADMIN_ROLES = ("owner", "manager")
VIEWER = web.RequestKey("viewer", Viewer)


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


def viewer_of(request: web.Request) -> Viewer:
    """The owner or manager ``admin_guard`` let in to this admin page."""
    return request[VIEWER]


def safe_next(target: str | None) -> str:
    """Where to go after logging in: a path on this site only, never another host."""
    if target and target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    return "/"
