"""Limits on sending files: the workspace defaults and each channel's capabilities, every
refusal naming the limit it breaks."""

from __future__ import annotations

import io
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient
from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.app import create_app
from hub.contract import hookimpl
from hub.contract.channel import Capabilities, ChannelType
from hub.media.store import MAX_FILE_BYTES, MAX_FILES_PER_MESSAGE, MediaLimits
from hub.plugin_manager import HubPluginManager, PluginInfo
from hub.settings import Settings
from hub.store.models import Attachment, ContactIdentity, Message, User
from tests.factories import Factory

Client = TestClient[Any, Any]
UserToken = Callable[..., Awaitable[tuple[User, dict[str, str]]]]
LOGO = "<svg xmlns='http://www.w3.org/2000/svg'/>"


class _Config(BaseModel):
    pass


class FilesChannel(ChannelType[_Config]):
    """Images up to 1 KB and documents up to 4 KB."""

    name, title, description, logo, Config = "files_test", "Files", "Files.", LOGO, _Config
    capabilities = Capabilities(media={"image": 1024, "document": 4096})


class ImagesOnlyChannel(ChannelType[_Config]):
    """Images only."""

    name, title, description, logo, Config = "images_test", "Images", "Images.", LOGO, _Config
    capabilities = Capabilities(media={"image": 1024})


class TextOnlyChannel(ChannelType[_Config]):
    """No files at all."""

    name, title, description, logo, Config = "text_test", "Text Only", "Text.", LOGO, _Config


class _Plugin:
    @hookimpl
    def hub_register_channel_types(self) -> list[type[ChannelType[Any]]]:
        return [FilesChannel, ImagesOnlyChannel, TextOnlyChannel]


@pytest.fixture
async def client(aiohttp_client: Callable[..., Awaitable[Client]], settings: Settings) -> Client:
    """The app with the test channel types."""
    manager = HubPluginManager(autoload=False)
    manager.register(_Plugin(), PluginInfo(name="limits", distribution="tests", version="0"))
    return await aiohttp_client(create_app(settings, plugins=manager))


async def upload(client: Client, auth: dict[str, str], filename: str, size: int) -> int:
    body = aiohttp.FormData(quote_fields=False)
    body.add_field("file", io.BytesIO(b"x" * size), filename=filename)
    response = await client.post("/api/v1/attachments", data=body, headers=auth)
    assert response.status == 201, await response.text()
    return int((await response.json())["id"])


async def send(
    client: Client, auth: dict[str, str], conversation_id: int, attachments: list[int]
) -> tuple[int, dict[str, Any]]:
    response = await client.post(
        f"/api/v1/conversations/{conversation_id}/messages",
        json={"text": "here you go", "attachments": attachments},
        headers=auth,
    )
    return response.status, await response.json()


async def messages_stored(db: async_sessionmaker[AsyncSession]) -> int:
    async with db() as session:
        return int(await session.scalar(select(func.count()).select_from(Message)) or 0)


def test_the_workspace_defaults_are_the_issues_limits_exactly() -> None:
    limits = MediaLimits()
    assert (limits.max_file_bytes, MAX_FILE_BYTES) == (20 * 1024 * 1024, 20 * 1024 * 1024)
    assert limits.max_files == MAX_FILES_PER_MESSAGE == 50
    issue = (
        "JPG, JPEG, GIF, BMP, PNG, TXT, XLS, XLSX, DOC, DOCX, CSV, PPT, PPTX, MP3, MP4, MOV, "
        "WAV, MPG, MPEG, ZIP, TAR, TGZ, GZ, PDF, LOG, XML"
    )
    assert sorted(e for e, _ in limits.content_types) == sorted(issue.lower().split(", "))


async def test_a_channel_that_sends_no_files_refuses_attachments_with_422(
    client: Client, factory: Factory, user_token: UserToken, db: async_sessionmaker[AsyncSession]
) -> None:
    _, auth = await user_token("me@example.com")
    conversation = await factory.conversation(await factory.channel("text_test", "SMS line"))
    file_id = await upload(client, auth, "photo.png", 10)
    status, body = await send(client, auth, conversation.id, [file_id])
    assert status == 422
    assert body["error"]["details"][0]["field"] == "attachments"
    assert "this channel cannot send files" in body["error"]["message"]
    assert "'SMS line'" in body["error"]["message"]
    assert await messages_stored(db) == 0
    # Text alone still goes out.
    response = await client.post(
        f"/api/v1/conversations/{conversation.id}/messages", json={"text": "hi"}, headers=auth
    )
    assert response.status == 201


async def test_a_file_over_the_channels_limit_is_413_naming_file_limit_and_channel(
    client: Client, factory: Factory, user_token: UserToken, db: async_sessionmaker[AsyncSession]
) -> None:
    _, auth = await user_token("me@example.com")
    conversation = await factory.conversation(await factory.channel("files_test", "Support"))
    small = await upload(client, auth, "small.png", 1024)
    big = await upload(client, auth, "big.png", 2048)
    status, body = await send(client, auth, conversation.id, [small, big])
    assert status == 413
    message = body["error"]["message"]
    assert body["error"]["details"][0]["field"] == "attachments"
    assert "'big.png'" in message and "2 KB" in message
    assert "up to 1 KB" in message and "'Support' (Files)" in message
    assert await messages_stored(db) == 0
    # Refused uploads stay the sender's, free to attach elsewhere.
    async with db() as session:
        row = await session.get(Attachment, big)
        assert row is not None and row.message_id is None
    status, _ = await send(client, auth, conversation.id, [small])
    assert status == 201


async def test_a_kind_the_channel_cannot_send_is_415_naming_what_it_sends(
    client: Client, factory: Factory, user_token: UserToken
) -> None:
    _, auth = await user_token("me@example.com")
    conversation = await factory.conversation(await factory.channel("images_test", "Gallery"))
    pdf = await upload(client, auth, "offer.pdf", 100)
    status, body = await send(client, auth, conversation.id, [pdf])
    assert status == 415
    message = body["error"]["message"]
    assert "cannot send document files like 'offer.pdf'" in message
    assert "it sends: image" in message


async def test_a_kind_without_its_own_limit_goes_as_a_document(
    client: Client, factory: Factory, user_token: UserToken
) -> None:
    _, auth = await user_token("me@example.com")
    conversation = await factory.conversation(await factory.channel("files_test"))
    song = await upload(client, auth, "song.mp3", 3000)  # audio: within the 4 KB of documents
    status, body = await send(client, auth, conversation.id, [song])
    assert status == 201, body
    too_big = await upload(client, auth, "long.mp3", 5000)
    status, body = await send(client, auth, conversation.id, [too_big])
    assert status == 413
    assert "document files up to 4 KB" in body["error"]["message"]


async def test_more_files_than_the_workspace_allows_is_422_naming_the_limit(
    client: Client, factory: Factory, user_token: UserToken
) -> None:
    _, auth = await user_token("me@example.com")
    conversation = await factory.conversation(await factory.channel("files_test"))
    status, body = await send(client, auth, conversation.id, list(range(1, 52)))
    assert status == 422
    assert body["error"]["details"][0]["field"] == "attachments"
    assert "at most 50 files" in body["error"]["message"]


async def test_starting_a_conversation_checks_the_channels_limits_too(
    client: Client, factory: Factory, user_token: UserToken, db: async_sessionmaker[AsyncSession]
) -> None:
    _, auth = await user_token("me@example.com")
    channel = await factory.channel("text_test")
    contact = await factory.contact()
    await factory.add(
        ContactIdentity(contact_id=contact.id, channel_id=channel.id, external_id="c1")
    )
    file_id = await upload(client, auth, "photo.png", 10)
    response = await client.post(
        "/api/v1/conversations",
        json={"contact_id": contact.id, "channel_id": channel.id, "attachments": [file_id]},
        headers=auth,
    )
    assert response.status == 422
    assert "this channel cannot send files" in (await response.json())["error"]["message"]
    assert await messages_stored(db) == 0
