"""Who may see a page: a logged-in user for every page, an owner or manager for admin pages.

A visitor who is not logged in is sent to the login page (and back afterwards); an agent
who reaches an admin page gets a 403 page. Writes are checked for the session's CSRF token
by ``require_user`` (the ``csrf_token`` field of every form).
"""

from __future__ import annotations

from urllib.parse import quote

from aiohttp import web

from hub.auth.identity import Identity, identify, require_user
from hub.auth.visibility import Viewer
from hub.errors import Forbidden

ADMIN_ROLES = ("owner", "manager")


def login_url(request: web.Request) -> str:
    """The login page, returning to this page (a GET's URL) afterwards."""
    back = request.path_qs if request.method == "GET" else request.path
    return "/login" if back == "/" else f"/login?next={quote(back, safe='')}"


async def page_identity(request: web.Request) -> Identity:
    """The logged-in user of a UI page; a redirect to the login page otherwise."""
    identity = await identify(request)
    if identity is None or identity.session is None:
        raise web.HTTPSeeOther(login_url(request))
    await require_user(request)  # the CSRF check of writes
    return identity


async def admin_viewer(request: web.Request) -> Viewer:
    """The logged-in owner or manager; a 403 page for agents."""
    identity = await page_identity(request)
    if identity.user.role not in ADMIN_ROLES:
        raise Forbidden("this page is for owners and managers")
    return Viewer.of(identity.user)


def safe_next(target: str | None) -> str:
    """Where to go after logging in: a path on this site only, never another host."""
    if target and target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    return "/"
