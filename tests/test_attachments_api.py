"""Attachments over HTTP: upload limits, who may fetch them, attaching them."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from aiohttp.test_utils import TestClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.settings import Settings
from hub.store.models import Attachment, Message, User
from tests.conftest import log_in
from tests.factories import Factory

Client = TestClient[Any, Any]
UserToken = Callable[..., Awaitable[tuple[User, dict[str, str]]]]
MB = 1024 * 1024


def form(
    data: bytes = b"hello", filename: str = "hello.txt", content_type: str = "text/html"
) -> aiohttp.FormData:
    # Unquoted, as browsers send filenames: UTF-8 inside the quotes.
    body = aiohttp.FormData(quote_fields=False)
    # A stream, as a client sending a large file should (raw bytes block the loop).
    body.add_field("file", io.BytesIO(data), filename=filename, content_type=content_type)
    return body


async def upload(client: Client, auth: dict[str, str], **kwargs: Any) -> dict[str, Any]:
    response = await client.post("/api/v1/attachments", data=form(**kwargs), headers=auth)
    assert response.status == 201, await response.text()
    body: dict[str, Any] = await response.json()
    return body


async def error_of(response: aiohttp.ClientResponse) -> tuple[int, str]:
    body = await response.json()
    details = body["error"]["details"]
    return response.status, details[0]["field"] if details else body["error"]["code"]


async def test_upload_stores_the_bytes_by_sha256_owned_by_the_uploader(
    client: Client, user_token: UserToken, settings: Settings, db: async_sessionmaker[AsyncSession]
) -> None:
    me, auth = await user_token("me@example.com")
    out = await upload(client, auth, data=b"the report", filename="report.TXT")
    digest = hashlib.sha256(b"the report").hexdigest()
    assert out["sha256"] == digest
    assert (out["filename"], out["size"]) == ("report.TXT", 10)
    # The type comes from the extension, not from what the client claimed (text/html).
    assert out["content_type"] == "text/plain"
    stored = settings.data_dir / "media" / digest[:2] / digest[2:4] / digest
    assert stored.read_bytes() == b"the report"
    async with db() as session:
        row = await session.get(Attachment, out["id"])
    assert row is not None
    assert (row.uploaded_by, row.message_id, row.comment_id) == (me.id, None, None)


async def test_download_answers_the_bytes_as_a_safe_download(
    client: Client, user_token: UserToken
) -> None:
    _, auth = await user_token("me@example.com")
    out = await upload(client, auth, data=b"%PDF-1.7", filename="Ängebot\\final;.pdf")
    response = await client.get(f"/api/v1/attachments/{out['id']}", headers=auth)
    assert response.status == 200
    assert await response.read() == b"%PDF-1.7"
    assert response.headers["Content-Type"] == "application/pdf"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    disposition = response.headers["Content-Disposition"]
    assert out["filename"] == "final;.pdf"  # a Windows path keeps its last segment
    assert disposition == "attachment; filename=\"final;.pdf\"; filename*=UTF-8''final%3B.pdf"
    unicode = await upload(client, auth, data=b"%PDF-1.7", filename='Ängebot "1".pdf')
    response = await client.get(f"/api/v1/attachments/{unicode['id']}", headers=auth)
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith('attachment; filename="_ngebot _1_.pdf"; ')
    assert disposition.endswith("filename*=UTF-8''%C3%84ngebot%20%221%22.pdf")


async def test_an_unattached_upload_is_visible_only_to_its_uploader(
    client: Client, user_token: UserToken
) -> None:
    _, mine = await user_token("me@example.com", role="agent")
    _, owner = await user_token("owner@example.com", role="owner")
    out = await upload(client, mine)
    assert (await client.get(f"/api/v1/attachments/{out['id']}", headers=mine)).status == 200
    hidden = await client.get(f"/api/v1/attachments/{out['id']}", headers=owner)
    assert hidden.status == 404
    for missing in ("999999", "abc", "99999999999999999999999"):
        response = await client.get(f"/api/v1/attachments/{missing}", headers=mine)
        assert response.status == 404


async def test_attached_files_follow_the_conversations_visibility(
    client: Client, factory: Factory, user_token: UserToken
) -> None:
    me, auth = await user_token("me@example.com", visibility="assigned")
    _, all_seeing = await user_token("all@example.com", visibility="all")
    _, restricted = await user_token("restricted@example.com", visibility="assigned")
    conversation = await factory.conversation(await factory.channel(), assignee_id=me.id)
    on_message = await upload(client, auth, filename="a.txt")
    on_comment = await upload(client, auth, filename="b.txt")
    url = f"/api/v1/conversations/{conversation.id}"
    sent = await client.post(
        f"{url}/messages", json={"attachments": [on_message["id"]]}, headers=auth
    )
    assert sent.status == 201, await sent.text()
    noted = await client.post(
        f"{url}/comments", json={"attachments": [on_comment["id"]]}, headers=auth
    )
    assert noted.status == 201, await noted.text()

    for attachment in (on_message, on_comment):
        path = f"/api/v1/attachments/{attachment['id']}"
        assert (await client.get(path, headers=auth)).status == 200
        assert (await client.get(path, headers=all_seeing)).status == 200
        assert (await client.get(path, headers=restricted)).status == 404

    # Once the conversation moves away, its uploader no longer sees the file either.
    await client.post(f"{url}/unassign", headers=auth)
    path = f"/api/v1/attachments/{on_message['id']}"
    assert (await client.get(path, headers=auth)).status == 404


async def test_a_file_over_20_mb_is_413_and_one_over_the_body_limit_is_fine(
    client: Client, user_token: UserToken, db: async_sessionmaker[AsyncSession]
) -> None:
    _, auth = await user_token("me@example.com")
    # HUB_MAX_BODY_BYTES (1 MiB by default) does not apply to streamed uploads.
    big = await upload(client, auth, data=b"x" * (2 * MB), filename="big.log")
    assert big["size"] == 2 * MB
    at_limit = await upload(client, auth, data=b"y" * (20 * MB), filename="limit.zip")
    assert at_limit["size"] == 20 * MB

    response = await client.post(
        "/api/v1/attachments",
        data=form(data=b"z" * (20 * MB + 1), filename="huge.zip"),
        headers=auth,
    )
    assert await error_of(response) == (413, "file")
    assert "20 MB" in (await response.json())["error"]["message"]
    async with db() as session:
        assert await session.scalar(select(func.count()).select_from(Attachment)) == 2


async def test_upload_refuses_wrong_types_and_malformed_uploads(
    client: Client, user_token: UserToken
) -> None:
    _, auth = await user_token("me@example.com")
    url = "/api/v1/attachments"

    response = await client.post(url, data=form(filename="page.html"), headers=auth)
    assert await error_of(response) == (415, "file")

    response = await client.post(url, data=form(data=b"", filename="empty.txt"), headers=auth)
    assert await error_of(response) == (422, "file")

    two = form(filename="one.txt")
    two.add_field("file", b"again", filename="two.txt")
    assert await error_of(await client.post(url, data=two, headers=auth)) == (422, "file")

    other_field = aiohttp.FormData()
    other_field.add_field("document", b"data", filename="a.txt")
    other_field.add_field("note", "hi")
    response = await client.post(url, data=other_field, headers=auth)
    assert await error_of(response) == (422, "file")

    response = await client.post(url, json={"file": "aGVsbG8="}, headers=auth)
    assert response.status == 415

    broken = await client.post(
        url,
        data=b"--xyz\r\nnot a part",
        headers={**auth, "Content-Type": "multipart/form-data; boundary=xyz"},
    )
    assert broken.status == 400
    no_boundary = await client.post(
        url, data=b"whatever", headers={**auth, "Content-Type": "multipart/form-data"}
    )
    assert no_boundary.status == 400


async def test_cookie_sessions_upload_with_the_csrf_header_only(
    client: Client, make_user: Callable[..., Awaitable[User]]
) -> None:
    await make_user("me@example.com")
    csrf = await log_in(client, "me@example.com")
    url = "/api/v1/attachments"

    assert (await client.post(url, data=form())).status == 403
    with_header = await client.post(
        url, data=form(data=b"x" * (2 * MB), filename="a.txt"), headers={"X-CSRF-Token": csrf}
    )
    assert with_header.status == 201, await with_header.text()

    # The token field counts only as the first part: reading on to find it would
    # consume the file.
    with_field = form(data=b"from a form", filename="b.txt")
    with_field.add_field("csrf_token", csrf)
    response = await client.post(url, data=with_field)
    assert response.status == 403


async def test_only_ones_own_unattached_uploads_can_be_attached(
    client: Client, factory: Factory, user_token: UserToken, db: async_sessionmaker[AsyncSession]
) -> None:
    _, auth = await user_token("me@example.com")
    _, other = await user_token("other@example.com")
    conversation = await factory.conversation(await factory.channel())
    url = f"/api/v1/conversations/{conversation.id}/messages"
    theirs = await upload(client, other)
    mine = await upload(client, auth)

    for attachments in ([theirs["id"]], [999999], [mine["id"], mine["id"]], [0], ["1"]):
        response = await client.post(
            url, json={"text": "see attached", "attachments": attachments}, headers=auth
        )
        status, field = await error_of(response)
        assert (status, field.split(".")[0]) == (422, "attachments"), attachments

    assert (await client.post(url, json={"attachments": [mine["id"]]}, headers=auth)).status == 201
    again = await client.post(url, json={"attachments": [mine["id"]]}, headers=auth)
    assert await error_of(again) == (422, "attachments")
    comment = await client.post(
        f"/api/v1/conversations/{conversation.id}/comments",
        json={"attachments": [mine["id"]]},
        headers=auth,
    )
    assert await error_of(comment) == (422, "attachments")
    async with db() as session:
        assert await session.scalar(select(func.count()).select_from(Message)) == 1


async def test_more_than_50_attachments_is_422_naming_attachments(
    client: Client, factory: Factory, user_token: UserToken
) -> None:
    _, auth = await user_token("me@example.com")
    conversation = await factory.conversation(await factory.channel())
    response = await client.post(
        f"/api/v1/conversations/{conversation.id}/messages",
        json={"text": "many", "attachments": list(range(1, 52))},
        headers=auth,
    )
    status, field = await error_of(response)
    assert (status, field) == (422, "attachments")
    assert "50" in (await response.json())["error"]["message"]


async def test_a_message_lists_its_attachments(
    client: Client, factory: Factory, user_token: UserToken
) -> None:
    _, auth = await user_token("me@example.com")
    conversation = await factory.conversation(await factory.channel())
    first = await upload(client, auth, data=b"one", filename="one.png")
    second = await upload(client, auth, data=b"two", filename="two.csv")
    response = await client.post(
        f"/api/v1/conversations/{conversation.id}/messages",
        json={"attachments": [first["id"], second["id"]]},
        headers=auth,
    )
    sent = await response.json()
    assert sent["text"] is None
    assert sent["attachments"] == [
        {"id": first["id"], "filename": "one.png", "content_type": "image/png", "size": 3},
        {"id": second["id"], "filename": "two.csv", "content_type": "text/csv", "size": 3},
    ]
