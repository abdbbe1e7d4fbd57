"""The contract's typed pieces: case-insensitive webhook headers, files read through the
context, typed vocabularies, and the shared HTTP helpers of ``hub.contract.http``."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
import respx
from pydantic import ValidationError

from hub.contract import (
    Capabilities,
    ChannelContext,
    ConversationUpdated,
    Headers,
    MessageStatusChanged,
    OutboundAttachment,
    TemplateRef,
    WebhookRequest,
)
from hub.contract.http import (
    DownloadRefused,
    TooLarge,
    download,
    retry_after,
    truncate,
)
from hub.testing import MemoryFiles

URL = "https://files.example.test/a.bin"


def request(headers: dict[str, str]) -> WebhookRequest:
    return WebhookRequest(method="POST", url="/webhooks/1", headers=headers, query={}, body=b"{}")


# --- headers -----------------------------------------------------------------------------


def test_webhook_headers_are_found_in_any_letter_case() -> None:
    raw = request({"X-Hub-Signature-256": "sha256=ab", "content-type": "application/json"})

    assert raw.header("x-hub-signature-256") == raw.header("X-HUB-SIGNATURE-256") == "sha256=ab"
    assert raw.headers["Content-Type"] == "application/json"
    assert "CONTENT-TYPE" in raw.headers and 7 not in raw.headers
    assert raw.header("X-Missing") is None
    with pytest.raises(KeyError):
        raw.headers["X-Missing"]


def test_webhook_headers_serialize_and_replay_as_they_were_sent() -> None:
    raw = request({"X-Hub-Timestamp": "1", "user-agent": "meta"})

    dumped = raw.model_dump(mode="json")
    assert dumped["headers"] == {"X-Hub-Timestamp": "1", "user-agent": "meta"}
    assert list(raw.headers) == ["X-Hub-Timestamp", "user-agent"]
    replayed = WebhookRequest.model_validate({**dumped, "body": b"{}"})
    assert replayed == raw and replayed.header("x-hub-timestamp") == "1"
    assert dict(raw.headers) == {"X-Hub-Timestamp": "1", "user-agent": "meta"}


def test_headers_are_read_only_and_refuse_non_text_values() -> None:
    headers = Headers({"A": "1"})
    with pytest.raises(TypeError):
        headers["A"] = "2"  # type: ignore[index]
    with pytest.raises(ValidationError):
        request({"A": 1})  # type: ignore[dict-item]


# --- files through the context ---------------------------------------------------------------


async def test_read_attachment_reads_the_cores_store_and_says_when_it_has_no_copy() -> None:
    files = MemoryFiles()
    kept = files.attachment(b"%PDF", filename="a.pdf", content_type="application/pdf")
    elsewhere = OutboundAttachment(
        filename="b.pdf", content_type="application/pdf", size=1, sha256="0" * 64
    )
    async with httpx.AsyncClient() as http:
        context = ChannelContext(1, "https://hub.test/webhooks/1", http, files=files)
        bare = ChannelContext(1, "https://hub.test/webhooks/1", http)

        assert (kept.size, await context.read_attachment(kept)) == (4, b"%PDF")
        with pytest.raises(FileNotFoundError):
            await context.read_attachment(elsewhere)
        with pytest.raises(FileNotFoundError):
            await bare.read_attachment(kept)


# --- typed vocabularies ----------------------------------------------------------------------


def test_capabilities_media_takes_only_known_file_kinds() -> None:
    assert Capabilities(media={"image": 1, "sticker": 2}).media == {"image": 1, "sticker": 2}
    with pytest.raises(ValidationError):
        Capabilities(media={"photo": 1})  # type: ignore[dict-item]


def test_notices_take_only_their_vocabularies() -> None:
    assert ConversationUpdated(conversation_id=1, change="snoozed").change == "snoozed"
    with pytest.raises(ValidationError):
        ConversationUpdated(conversation_id=1, change="archived")  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        MessageStatusChanged(
            channel_id=1,
            conversation_id=1,
            message_id=1,
            status="seen",  # type: ignore[arg-type]
        )


def test_a_template_reference_needs_a_name_and_a_language() -> None:
    ref = TemplateRef(name="order_update", language="de", parameters=("42",))
    assert ref.model_dump() == {"name": "order_update", "language": "de", "parameters": ("42",)}
    with pytest.raises(ValidationError):
        TemplateRef(name="", language="de")


# --- hub.contract.http ---------------------------------------------------------------------------


async def _chunks() -> AsyncIterator[bytes]:
    for _ in range(2):
        yield b"x" * 5


@respx.mock
async def test_download_streams_and_stops_past_the_limit() -> None:
    # No Content-Length: the limit is found while streaming.
    respx.get(URL).mock(side_effect=lambda _: httpx.Response(200, content=_chunks()))
    async with httpx.AsyncClient() as http:
        assert await download(http, URL, limit=10) == b"x" * 10
        assert await download(http, URL, limit=None) == b"x" * 10
        with pytest.raises(TooLarge, match="limit of 9"):
            await download(http, URL, limit=9)


@respx.mock
async def test_download_refuses_a_declared_size_over_the_limit_and_hands_back_errors() -> None:
    respx.get(URL).respond(200, headers={"Content-Length": "500"}, content=b"x" * 500)
    respx.get(f"{URL}.gone").respond(404, json={"error": "gone"})
    async with httpx.AsyncClient() as http:
        with pytest.raises(TooLarge, match="500 bytes"):
            await download(http, URL, limit=100)
        with pytest.raises(DownloadRefused) as refused:
            await download(http, f"{URL}.gone", limit=100)
    assert refused.value.response.status_code == 404
    assert refused.value.response.json() == {"error": "gone"}


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("120", 120.0),
        ("Thu, 01 Jan 1970 00:02:00 GMT", 60.0),
        ("Thu, 01 Jan 1970 00:00:00 GMT", 0.0),
        ("soon", None),
        ("", None),
    ],
)
def test_retry_after_reads_seconds_and_http_dates(value: str, seconds: float | None) -> None:
    response = httpx.Response(429, headers={"Retry-After": value} if value else {})
    assert retry_after(response, now=60.0) == seconds


def test_truncate_keeps_one_line_and_marks_the_cut() -> None:
    assert truncate("  a\n  b  ") == "a b"
    assert truncate("x" * 400) == "x" * 299 + "…"
    assert truncate("abcdef", 4) == "abc…"
