"""The files of messages and comments, for the inbox page: images, audio and video shown
in place when their type is safe to, everything else as a download.

The same visibility rule as ``GET /api/v1/attachments/{id}`` (``get_visible_attachment``):
a file of a hidden conversation is a 404. A page route rather than the API's because an
``<img>`` or ``<audio>`` sends the session cookie but no CSRF or bearer token, and its
answer must be inline for the types a browser may play.
"""

from __future__ import annotations

from aiohttp import web

from admin_ui.access import viewer_of
from hub.api.context import path_id, work
from hub.api.file_responses import attachment_response
from hub.inbox.timeline import get_visible_attachment
from hub.media.store import shown_inline

routes = web.RouteTableDef()


@routes.get("/inbox/files/{attachment_id}", name="inbox.file")
async def file(request: web.Request) -> web.StreamResponse:
    """An attachment's bytes: inline for passive image, audio and video types (never
    SVG), as a download otherwise or with ``?download=1``."""
    viewer = viewer_of(request)
    attachment_id = path_id(request, "attachment_id", "attachment")
    async with work(request) as w:
        attachment = await get_visible_attachment(w, viewer, attachment_id)
    inline = shown_inline(attachment.content_type) and "download" not in request.query
    # Access can be lost later: shared caches must not keep a copy.
    return await attachment_response(
        request, attachment, inline=inline, cache_control="private, no-cache"
    )
