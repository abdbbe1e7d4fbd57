"""What handlers need from a request: the caller as a viewer, a unit of work, path ids."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager

from aiohttp import web

from hub import appkeys
from hub.auth.identity import require_user
from hub.auth.visibility import Viewer
from hub.errors import Forbidden, NotFound
from hub.events.access import access_changed
from hub.events.work import Work, unit_of_work


async def current_viewer(request: web.Request) -> Viewer:
    """The authenticated caller (401 otherwise), as visibility sees them."""
    return Viewer.of(await require_user(request))


async def current_admin(request: web.Request) -> Viewer:
    """The caller if an owner or manager; 403 otherwise."""
    viewer = await current_viewer(request)
    if not viewer.is_admin:
        raise Forbidden("this needs the role owner or manager")
    return viewer


def work(request: web.Request) -> AbstractAsyncContextManager[Work]:
    """A unit of work: one transaction; its realtime events and observer notices go out
    after commit."""
    app = request.config_dict
    return unit_of_work(app[appkeys.SESSIONS], app[appkeys.BUS], app[appkeys.OBSERVERS])


async def announce_access_changed(request: web.Request, user_id: int) -> None:
    """Tell every hub process that ``user_id``'s sessions or tokens changed (call after
    the commit), so their open websockets re-check them and close at once."""
    await request.config_dict[appkeys.BUS].publish(access_changed(user_id))


def path_id(request: web.Request, name: str, what: str) -> int:
    """An integer id from the path; 404 (not 400) for anything else, like a missing one."""
    raw = request.match_info[name]
    if not raw.isdigit() or len(raw) > 18:
        raise NotFound(what)
    return int(raw)
