"""Personal pages (``/me/...``): your profile, password and API tokens, open to every role.

They are outside the admin section on purpose: agents reach them too.
"""

from __future__ import annotations

from aiohttp import web

from admin_ui.personal import password, profile, tokens

AREAS = (profile, password, tokens)


def add_personal_routes(router: web.UrlDispatcher) -> None:
    """Add every personal page (and the old ``/admin/tokens`` addresses, redirecting)."""
    for area in AREAS:
        router.add_routes(area.routes)
