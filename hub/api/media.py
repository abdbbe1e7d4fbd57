"""Signed media links: one attachment's bytes, without login, until the link expires.

Providers and bridged services fetch outbound attachments from these URLs (made by
``hub.media.links.signed_media_url``). The link is the only credential, so the
response is built to be harmless whatever the file holds: the stored type, ``nosniff``,
a sandboxing CSP, and ``inline`` only for passive image, audio and video types.
"""

from __future__ import annotations

import logging

from aiohttp import web

from hub import appkeys
from hub.errors import HubError, NotFound
from hub.media.links import link_is_valid
from hub.media.store import content_disposition, media_store_of, shown_inline
from hub.store.models import Attachment

log = logging.getLogger(__name__)
routes = web.RouteTableDef()
# Ids and unix times fit in 18 digits; longer input is not a link of ours.
_MAX_DIGITS = 18


def _bad_link() -> HubError:
    return HubError(403, "invalid_link", "this media link is not valid")


def _number(raw: str) -> int:
    if not raw.isdigit() or len(raw) > _MAX_DIGITS:
        raise _bad_link()
    return int(raw)


@routes.get("/media/{attachment_id}/{expires}/{signature}/{filename}")
async def signed_media(request: web.Request) -> web.Response:
    """The attachment's bytes for a valid link; 403 for a forged or malformed one, 410
    for a genuine one past its expiry, 404 when its attachment is gone."""
    attachment_id = _number(request.match_info["attachment_id"])
    expires = _number(request.match_info["expires"])
    signature = request.match_info["signature"]
    secret = request.app[appkeys.SECRET_KEY]
    # The signature is checked as if at the expiry time first: only a link the hub made
    # learns that it expired (so its holder asks for a new one); a forged one learns nothing.
    if not link_is_valid(secret, attachment_id, expires, signature, now=expires):
        raise _bad_link()
    if not link_is_valid(secret, attachment_id, expires, signature):
        raise HubError(410, "link_expired", "this media link has expired")
    async with request.app[appkeys.SESSIONS]() as db:
        attachment = await db.get(Attachment, attachment_id)
    if attachment is None:
        raise NotFound("attachment")
    settings = request.app[appkeys.SETTINGS]
    try:
        data = await media_store_of(request.app, settings).read(attachment.sha256)
    except FileNotFoundError:
        log.error(
            "attachment %s: file %s missing from the media store", attachment.id, attachment.sha256
        )
        raise NotFound("attachment") from None
    inline = shown_inline(attachment.content_type)
    return web.Response(
        body=data,
        content_type=attachment.content_type,
        headers={
            "Content-Disposition": content_disposition(attachment.filename, inline=inline),
            "X-Content-Type-Options": "nosniff",
            # Whatever the bytes are (an SVG or HTML upload), they never run here.
            "Content-Security-Policy": "sandbox; default-src 'none'",
            "Referrer-Policy": "no-referrer",
            # The URL is a bearer credential: shared caches must not keep the file.
            "Cache-Control": "private, max-age=300",
        },
    )
