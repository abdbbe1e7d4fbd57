"""Answering with a stored attachment's bytes: the one way the API download, signed media
links and the inbox's file route send a file."""

from __future__ import annotations

import logging

from aiohttp import web

from hub import appkeys
from hub.errors import NotFound
from hub.media.store import content_disposition, media_store_of
from hub.store.models import Attachment

log = logging.getLogger(__name__)


async def attachment_response(
    request: web.Request,
    attachment: Attachment,
    *,
    inline: bool,
    cache_control: str,
    extra_headers: dict[str, str] | None = None,
) -> web.Response:
    """The attachment's bytes (inline or as a download), never sniffed or run whatever
    they are (an SVG or HTML upload); 404 when the file is missing from the store."""
    store = media_store_of(request.config_dict, request.config_dict[appkeys.SETTINGS])
    try:
        data = await store.read(attachment.sha256)
    except FileNotFoundError:
        log.error(
            "attachment %s: file %s missing from the media store", attachment.id, attachment.sha256
        )
        raise NotFound("attachment") from None
    return web.Response(
        body=data,
        content_type=attachment.content_type,
        headers={
            "Content-Disposition": content_disposition(attachment.filename, inline=inline),
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'; sandbox",
            "Cache-Control": cache_control,
            **(extra_headers or {}),
        },
    )
