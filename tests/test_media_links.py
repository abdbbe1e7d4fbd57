"""Signed media links: one attachment's bytes without login, only while the link is
genuine and unexpired, served so that no file can run in a browser."""

from __future__ import annotations

import time
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from hub import appkeys
from hub.media.links import signed_media_url
from hub.media.store import FileMediaStore
from hub.settings import Settings
from hub.store.models import Attachment, Message
from tests.factories import Factory

Client = TestClient[Any, Any]
PNG = b"\x89PNG\r\n\x1a\n" + b"png body" * 10


async def stored(
    client: Client,
    factory: Factory,
    settings: Settings,
    data: bytes = PNG,
    filename: str = "photo.png",
    content_type: str = "image/png",
) -> Attachment:
    """An outbound message's attachment, its bytes in the media store."""
    sha256 = await FileMediaStore.in_data_dir(settings.data_dir).put(data)
    conversation = await factory.conversation(await factory.channel())
    message = Message(
        conversation_id=conversation.id,
        channel_id=conversation.channel_id,
        direction="out",
        status="pending",
        parts=[],
    )
    await factory.add(message)
    attachment = Attachment(
        message_id=message.id,
        sha256=sha256,
        filename=filename,
        content_type=content_type,
        size=len(data),
    )
    await factory.add(attachment)
    return attachment


def link(client: Client, settings: Settings, attachment: Attachment, **kwargs: Any) -> str:
    """The path of a signed link (the test client talks to the app, not the base URL)."""
    secret = client.app[appkeys.SECRET_KEY]
    url = signed_media_url(settings, secret, attachment.id, attachment.filename, **kwargs)
    assert url.startswith(f"{settings.base_url}/media/")
    return url.removeprefix(settings.base_url)


def parts(path: str) -> list[str]:
    return path.split("/")  # ["", "media", id, expires, signature, filename]


async def assert_refused(client: Client, path: str, status: int, code: str) -> None:
    response = await client.get(path)
    assert response.status == status, await response.text()
    body = await response.json()
    assert body["error"]["code"] == code
    assert PNG not in await response.read()


async def test_a_valid_link_serves_the_bytes_without_login_with_safe_headers(
    client: Client, factory: Factory, settings: Settings
) -> None:
    attachment = await stored(client, factory, settings)
    response = await client.get(link(client, settings, attachment))
    assert response.status == 200
    assert await response.read() == PNG
    assert response.headers["Content-Type"] == "image/png"
    assert response.headers["Content-Disposition"].startswith('inline; filename="photo.png"')
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response.headers["Content-Security-Policy"]
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert "public" not in response.headers["Cache-Control"]


@pytest.mark.parametrize(
    ("filename", "content_type"),
    [
        ("drawing.svg", "image/svg+xml"),
        ("page.html", "text/html"),
        ("report.pdf", "application/pdf"),
    ],
)
async def test_anything_but_passive_media_is_served_as_a_sandboxed_download(
    client: Client, factory: Factory, settings: Settings, filename: str, content_type: str
) -> None:
    data = b"<svg onload='alert(1)'/>"
    attachment = await stored(client, factory, settings, data, filename, content_type)
    response = await client.get(link(client, settings, attachment))
    assert response.status == 200
    assert await response.read() == data
    assert response.headers["Content-Type"].startswith(content_type)
    assert response.headers["Content-Disposition"].startswith(f'attachment; filename="{filename}"')
    assert "sandbox" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"


async def test_a_tampered_signature_is_refused(
    client: Client, factory: Factory, settings: Settings
) -> None:
    attachment = await stored(client, factory, settings)
    segments = parts(link(client, settings, attachment))
    signature = segments[4]
    segments[4] = ("0" if signature[0] != "0" else "1") + signature[1:]
    await assert_refused(client, "/".join(segments), 403, "invalid_link")


async def test_a_link_cannot_be_extended_by_changing_its_expiry(
    client: Client, factory: Factory, settings: Settings
) -> None:
    attachment = await stored(client, factory, settings)
    segments = parts(link(client, settings, attachment))
    segments[3] = str(int(segments[3]) + 86400)
    await assert_refused(client, "/".join(segments), 403, "invalid_link")


async def test_an_expired_link_answers_410(
    client: Client, factory: Factory, settings: Settings
) -> None:
    attachment = await stored(client, factory, settings)
    path = link(client, settings, attachment, ttl_seconds=60, now=time.time() - 3600)
    await assert_refused(client, path, 410, "link_expired")


async def test_a_link_for_one_attachment_does_not_open_another(
    client: Client, factory: Factory, settings: Settings
) -> None:
    first = await stored(client, factory, settings)
    second = await stored(client, factory, settings, b"secret", "other.png")
    segments = parts(link(client, settings, first))
    segments[2] = str(second.id)
    await assert_refused(client, "/".join(segments), 403, "invalid_link")


async def test_the_filename_segment_is_cosmetic(
    client: Client, factory: Factory, settings: Settings
) -> None:
    attachment = await stored(client, factory, settings)
    segments = parts(link(client, settings, attachment))
    segments[5] = "renamed.exe"
    response = await client.get("/".join(segments))
    assert response.status == 200
    # The stored name and type are served, never what the URL claims.
    assert 'filename="photo.png"' in response.headers["Content-Disposition"]
    assert response.headers["Content-Type"] == "image/png"


async def test_a_genuine_link_to_a_deleted_attachment_answers_404(
    client: Client, factory: Factory, settings: Settings
) -> None:
    attachment = await stored(client, factory, settings)
    path = link(client, settings, attachment)
    async with factory.sessions() as db:
        row = await db.get(Attachment, attachment.id)
        await db.delete(row)
        await db.commit()
    await assert_refused(client, path, 404, "not_found")


@pytest.mark.parametrize(
    "path",
    [
        "/media/abc/123/deadbeef/x.png",
        "/media/1/-5/deadbeef/x.png",
        "/media/1/99999999999999999999999/deadbeef/x.png",
        "/media/99999999999999999999999/1/deadbeef/x.png",
        "/media/1/1/%00/x.png",
    ],
)
async def test_malformed_links_are_refused_with_403(client: Client, path: str) -> None:
    response = await client.get(path)
    assert response.status == 403
    assert (await response.json())["error"]["code"] == "invalid_link"
