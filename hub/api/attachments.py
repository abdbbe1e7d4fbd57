"""Attachments: upload a file to attach later, fetch one's bytes."""

from __future__ import annotations

from aiohttp import BodyPartReader, web
from aiohttp.http_exceptions import HttpProcessingError

from hub import appkeys
from hub.api.context import current_viewer, path_id, work
from hub.api.file_responses import attachment_response
from hub.api.responses import json_model
from hub.api.routing import ApiRoutes
from hub.api.schemas.messages import AttachmentOut
from hub.auth.identity import multipart_of
from hub.errors import HubError, Invalid
from hub.inbox.timeline import get_visible_attachment, record_upload
from hub.media.store import (
    MediaLimits,
    MediaStore,
    media_store_of,
    safe_filename,
)

api = ApiRoutes("attachments")
CHUNK = 64 * 1024


def media_store(request: web.Request) -> MediaStore:
    """The hub's media store (``MEDIA_STORE``; by default a folder in its data folder)."""
    return media_store_of(request.config_dict, request.config_dict[appkeys.SETTINGS])


async def _read_part(part: BodyPartReader, limits: MediaLimits) -> bytes:
    # Streamed in chunks and checked as it comes: aiohttp's body limit
    # (HUB_MAX_BODY_BYTES) applies only to whole-body reads, and a file may be larger.
    data = bytearray()
    while chunk := await part.read_chunk(CHUNK):
        data.extend(chunk)
        if len(data) > limits.max_file_bytes:
            raise limits.too_large()
    return bytes(data)


async def _file_from_stream(request: web.Request, limits: MediaLimits) -> tuple[str, bytes]:
    reader = await multipart_of(request)
    found: tuple[str, bytes] | None = None
    while (part := await reader.next()) is not None:
        if not isinstance(part, BodyPartReader) or part.name != "file":
            continue  # e.g. a csrf_token field; nested multiparts are not files
        if found is not None:
            raise Invalid("file", "send one file per upload")
        filename = safe_filename(part.filename)
        limits.content_type_of(filename)  # refuse a wrong type before reading it
        found = (filename, await _read_part(part, limits))
    if found is None:
        raise Invalid("file", "send the file in a multipart field named 'file'")
    return found


async def receive_file(request: web.Request, limits: MediaLimits) -> tuple[str, bytes]:
    """The one file of a ``multipart/form-data`` request (field ``file``) and its safe
    name, within ``limits``: 415 for another body or type, 413 too large, 400 for a
    broken body, 422 naming ``file`` when it is missing or empty."""
    if request.content_type != "multipart/form-data":
        raise HubError(415, "unsupported_media_type", "send the file as multipart/form-data")
    try:
        filename, data = await _file_from_stream(request, limits)
    except (ValueError, KeyError, HttpProcessingError) as err:
        # aiohttp's multipart parser raises these on broken input (KeyError: no boundary).
        raise HubError(
            400, "malformed_multipart", f"the multipart body is malformed: {err!s}"
        ) from None
    if not data:
        raise Invalid("file", "the file is empty")
    return filename, data


@api.post("/api/v1/attachments", response=AttachmentOut, status=201, errors=(400, 413, 415, 422))
async def upload(request: web.Request) -> web.Response:
    """Upload one file (``multipart/form-data``, field ``file``) to attach to a message
    or a comment.

    Until attached, only the uploader can fetch or attach it. Limits: 20 MB (413),
    allowed types by extension (415), a filename (422).
    """
    viewer = await current_viewer(request)
    limits = MediaLimits()
    filename, data = await receive_file(request, limits)
    sha256 = await media_store(request).put(data)
    async with work(request) as w:
        attachment = await record_upload(
            w,
            viewer,
            sha256=sha256,
            filename=filename,
            content_type=limits.content_type_of(filename),
            size=len(data),
        )
    return json_model(AttachmentOut.of(attachment), status=201)


@api.get("/api/v1/attachments/{attachment_id}")
async def download(request: web.Request) -> web.Response:
    """The file's bytes, as a download.

    Visible to whoever may see the conversation of its message or comment, or, while it
    is attached to nothing, to its uploader; 404 for anyone else.
    """
    viewer = await current_viewer(request)
    attachment_id = path_id(request, "attachment_id", "attachment")
    async with work(request) as w:
        attachment = await get_visible_attachment(w, viewer, attachment_id)
    # Access can be lost later: shared caches must not keep a copy.
    return await attachment_response(
        request, attachment, inline=False, cache_control="private, no-cache"
    )
