"""Errors on UI pages are pages too: a 403 or 404 a person can read, never JSON.

The admin sub-app answers every error with ``page_errors``. The root app's routes (the
public pages, but also ``/ws`` and static files) and unknown paths get ``browser_errors``:
a page when a browser asks for one, else the JSON error of the root's ``json_errors``,
which wraps it. The API, webhooks and media sub-apps never come here: they answer their
own errors as JSON.
"""

from __future__ import annotations

import contextlib
import logging

from aiohttp import web
from aiohttp.typedefs import Handler

from admin_ui.access import login_url
from admin_ui.i18n import N_
from admin_ui.i18n import gettext as _
from admin_ui.rendering import render
from hub.auth.identity import identify
from hub.errors import HubError
from hub.logs import request_id

log = logging.getLogger(__name__)
# Marked here, translated when a page is rendered (the request's language).
TITLES = {
    400: N_("That request was not understood"),
    403: N_("You cannot open this page"),
    404: N_("Page not found"),
    405: N_("That action is not possible here"),
    409: N_("That conflicts with the current state"),
    413: N_("That is too large"),
    422: N_("Some input needs fixing"),
    429: N_("Too many attempts"),
}


def wants_page(request: web.Request) -> bool:
    """A browser asking for a page (not a script, a file or a websocket)."""
    return "text/html" in request.headers.get("Accept", "")


@web.middleware
async def browser_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """The root app's errors: the error page for a browser; the rest to the JSON one."""
    if not wants_page(request):
        return await handler(request)
    return await page_errors(request, handler)


@web.middleware
async def page_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Render every error as the error page (redirects pass through)."""
    try:
        return await handler(request)
    except HubError as err:
        if err.status == 401:
            return web.Response(status=303, headers={"Location": login_url(request)})
        return await _error_page(request, err.status, err.message)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        return await _error_page(request, exc.status, exc.reason)
    except Exception:
        log.exception("unhandled error in %s %s", request.method, request.path)
        message = _("Something went wrong on our side. Quote request id %(id)s.") % {
            "id": request_id.get()
        }
        return await _error_page(request, 500, message)


async def _error_page(request: web.Request, status: int, message: str) -> web.Response:
    # The page's header shows who is logged in; a bad bearer token shows it as anonymous.
    with contextlib.suppress(HubError):
        await identify(request)
    title = _(TITLES[status]) if status in TITLES else _("Something went wrong")
    return await render(request, "error.html", {"title": title, "message": message}, status)
