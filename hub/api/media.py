"""Signed media links: one attachment's bytes, without login, until the link expires.

Providers and bridged services fetch outbound attachments from these URLs (made by
``hub.media.links.signed_media_url``). The link is the only credential, so the
response is built to be harmless whatever the file holds: the stored type, ``nosniff``,
a sandboxing CSP, and ``inline`` only for passive image, audio and video types.
"""

from __future__ import annotations

from aiohttp import web

from hub import appkeys
from hub.api.file_responses import attachment_response
from hub.errors import HubError, NotFound
from hub.media.links import link_is_valid
from hub.media.store import shown_inline
from hub.store.models import Attachment

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
    secret = request.config_dict[appkeys.SECRET_KEY]
    # The signature is checked as if at the expiry time first: only a link the hub made
    # learns that it expired (so its holder asks for a new one); a forged one learns nothing.
    if not link_is_valid(secret, attachment_id, expires, signature, now=expires):
        raise _bad_link()
    if not link_is_valid(secret, attachment_id, expires, signature):
        raise HubError(410, "link_expired", "this media link has expired")
    async with request.config_dict[appkeys.SESSIONS]() as db:
        attachment = await db.get(Attachment, attachment_id)
    if attachment is None:
        raise NotFound("attachment")
    # The URL is a bearer credential: shared caches must not keep the file.
    return await attachment_response(
        request,
        attachment,
        inline=shown_inline(attachment.content_type),
        cache_control="private, max-age=300",
        extra_headers={"Referrer-Policy": "no-referrer"},
    )
