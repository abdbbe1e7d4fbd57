"""An email alone, for the sandboxed frame the timeline opens when the agent asks for
its remote images (``Show remote images``).

Remote images are held back in the timeline for privacy: loading one tells the sender
(or a newsletter's tracker) that the mail was opened, when, and from where
(``email_html``). Asked for, they load here, in a document of its own with its own CSP:
images from anywhere over HTTPS (and the hub's own files, for inline ones), a
stylesheet of ours, and nothing else: no script, no form, no plugin, framed only by the
hub's own pages. The frame's ``sandbox`` (without ``allow-scripts``) and the CSP's
``sandbox`` say it twice, so even a sanitizer bug could not run a script here.

The same visibility rule as the message itself (``get_message``): a message of a hidden
conversation is a 404, exactly as a missing one.
"""

from __future__ import annotations

from aiohttp import web

from admin_ui.access import viewer_of
from admin_ui.inbox.email_html import email_body
from admin_ui.inbox.message_view import html_of, inline_images
from admin_ui.rendering import render_fragment
from hub.api.context import path_id, work
from hub.inbox.messages import get_message

routes = web.RouteTableDef()

FRAME_CSP = (
    "default-src 'none'; img-src 'self' https: data:; style-src 'self'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'self'; "
    "sandbox allow-same-origin allow-popups allow-popups-to-escape-sandbox"
)


@routes.get("/inbox/messages/{message_id}/email", name="inbox.email")
async def email_frame(request: web.Request) -> web.StreamResponse:
    """The message's email as a page of its own, sanitized; ``?images=1`` loads its
    remote images (over HTTPS only)."""
    viewer = viewer_of(request)
    message_id = path_id(request, "message_id", "message")
    async with work(request) as w:
        row = await get_message(w, viewer, message_id)
    remote = request.query.get("images") == "1"
    html = html_of(row.message)
    body = None
    if html is not None:
        body = email_body(html, inline_images(row.message, row.attachments, remote=remote))
    response = await render_fragment(
        request, "inbox/email_frame.html", {"message": row.message, "body": body}
    )
    response.headers["Content-Security-Policy"] = FRAME_CSP
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response
