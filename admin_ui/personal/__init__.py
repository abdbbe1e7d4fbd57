"""Personal pages (``/me/...``): your profile, password, API tokens and macros, open to
every role.

They are outside the admin section on purpose: agents reach them too.
"""

from __future__ import annotations

from aiohttp import web

from admin_ui.personal import macros, password, profile, schedule, tokens

AREAS = (profile, schedule, password, tokens, macros)


def add_personal_routes(router: web.UrlDispatcher) -> None:
    """Add every personal page (and the old ``/admin/tokens`` addresses, redirecting)."""
    for area in AREAS:
        router.add_routes(area.routes)
