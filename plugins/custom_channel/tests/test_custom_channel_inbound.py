"""The custom channel's webhook: signed JSON events in, normalized hub events out."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import httpx
import pytest
from hub.contract import (
    ChannelContext,
    InboundMessage,
    MediaPart,
    StatusUpdate,
    TextPart,
    UnsupportedPart,
    WebhookRejected,
    WebhookRequest,
)

from hub_custom_channel.channel import CustomChannel
from hub_custom_channel.config import CustomChannelConfig
from hub_custom_channel.signing import signed_headers

SECRET = "inbound-test-secret-0123456789abcdef"


def make_channel(**config: Any) -> CustomChannel:
    """A custom channel with the test secret and the given settings."""
    settings = CustomChannelConfig(
        outbound_url="https://svc.example.com/replies", signing_secret=SECRET, **config
    )
    context = ChannelContext(
        channel_id=7, webhook_url="https://hub.example.com/webhooks/7", http=httpx.AsyncClient()
    )
    return CustomChannel(settings, context)


def message(**overrides: Any) -> dict[str, Any]:
    """A valid message event, with some fields replaced (None removes one)."""
    event: dict[str, Any] = {
        "type": "message",
        "id": "ext-1",
        "timestamp": "2026-05-01T12:00:00+02:00",
        "sender": {"id": "user-42", "name": "Ada Lovelace", "email": "ada@example.com"},
        "text": "Hello there",
    }
    event.update(overrides)
    return {key: value for key, value in event.items() if value is not None}


def signed(body: bytes | dict[str, Any] | list[Any], *, method: str = "POST") -> WebhookRequest:
    """A webhook request carrying ``body``, signed now with the test secret."""
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return WebhookRequest(
        method=method,
        url="https://hub.example.com/webhooks/7",
        headers={"content-type": "application/json", **signed_headers(SECRET, raw)},
        query={},
        body=raw,
    )


async def events_of(body: Any, **config: Any) -> list[Any]:
    """The events the channel makes of a signed body."""
    result = await make_channel(**config).handle_webhook(signed(body))
    assert result.response is None
    return list(result.events)


async def refusal(body: Any, **config: Any) -> WebhookRejected:
    """The 4xx a signed body gets."""
    with pytest.raises(WebhookRejected) as caught:
        await make_channel(**config).handle_webhook(signed(body))
    return caught.value


async def test_a_message_event_is_normalized_field_by_field() -> None:
    event = message(reply_to="ext-0", thread_id="t-9")
    [normalized] = await events_of(event)
    assert isinstance(normalized, InboundMessage)
    assert normalized.external_id == "ext-1"
    assert normalized.sender_id == "user-42"
    assert normalized.sender.name == "Ada Lovelace"
    assert normalized.sender.email == "ada@example.com"
    assert normalized.sender.phone is None
    assert normalized.timestamp == datetime(2026, 5, 1, 10, 0, tzinfo=UTC)
    assert normalized.parts == (TextPart(text="Hello there"),)
    assert normalized.reply_to_external_id == "ext-0"
    assert normalized.raw == event


async def test_thread_id_becomes_the_thread_key_only_when_threading_per_thread_id() -> None:
    event = message(thread_id="t-9")
    [per_contact] = await events_of(event)
    [per_thread] = await events_of(event, threading="per_thread_id")
    assert per_contact.thread_key is None
    assert per_thread.thread_key == "t-9"


async def test_numeric_ids_are_read_as_text() -> None:
    [normalized] = await events_of(message(id=123, sender={"id": 77, "phone": "+4915112345678"}))
    assert normalized.external_id == "123"
    assert normalized.sender_id == "77"
    assert normalized.sender.phone == "+4915112345678"


async def test_attachments_by_url_and_by_data_become_media_parts() -> None:
    pdf = base64.b64encode(b"%PDF-1.7 tiny").decode()
    event = message(
        text=None,
        attachments=[
            {
                "url": "https://cdn.example.com/a.jpg",
                "filename": "a.jpg",
                "content_type": "image/jpeg",
            },
            {"data": pdf, "filename": "doc.pdf", "content_type": "application/pdf"},
            {"url": "https://cdn.example.com/v.mp4", "content_type": "video/mp4"},
            {"url": "https://cdn.example.com/s.ogg", "content_type": "Audio/Ogg"},
            {"url": "https://cdn.example.com/blob"},
        ],
    )
    [normalized] = await events_of(event)
    parts = normalized.parts
    assert all(isinstance(part, MediaPart) for part in parts)
    assert [part.media_kind for part in parts] == [
        "image",
        "document",
        "video",
        "audio",
        "document",
    ]
    assert parts[0].url == "https://cdn.example.com/a.jpg"
    assert parts[0].filename == "a.jpg"
    assert parts[0].mime_type == "image/jpeg"
    assert parts[1].url == f"data:application/pdf;base64,{pdf}"
    assert parts[1].size == len(b"%PDF-1.7 tiny")
    assert parts[3].mime_type == "audio/ogg"
    assert parts[4].mime_type is None


async def test_text_and_attachments_keep_their_order_text_first() -> None:
    event = message(
        attachments=[{"url": "https://cdn.example.com/a.png", "content_type": "image/png"}]
    )
    [normalized] = await events_of(event)
    assert [part.kind for part in normalized.parts] == ["text", "media"]


async def test_a_status_event_becomes_a_status_update() -> None:
    event = {"type": "status", "id": "svc-99", "status": "failed", "reason": "blocked by user"}
    [normalized] = await events_of(event)
    assert normalized == StatusUpdate(
        external_id="svc-99", status="failed", reason="blocked by user", raw=event
    )


async def test_a_batch_keeps_every_event_in_order() -> None:
    batch = {
        "events": [
            message(id="a"),
            {"type": "status", "id": "svc-1", "status": "delivered"},
            message(id="b", text="second"),
            {"type": "status", "id": "svc-1", "status": "read"},
        ]
    }
    normalized = await events_of(batch)
    assert [(event.kind, event.external_id) for event in normalized] == [
        ("message", "a"),
        ("status", "svc-1"),
        ("message", "b"),
        ("status", "svc-1"),
    ]


async def test_an_unknown_event_type_with_id_and_sender_is_kept_as_unsupported() -> None:
    event = {"type": "poll", "id": "p-1", "sender": {"id": "user-42"}, "question": "Tea?"}
    before = datetime.now(UTC)
    [normalized] = await events_of(event)
    assert normalized.parts == (
        UnsupportedPart(raw_type="poll", description="a 'poll' event the hub cannot show"),
    )
    assert normalized.sender_id == "user-42"
    assert normalized.timestamp >= before
    assert normalized.raw == event


async def test_a_timestamp_in_another_zone_keeps_its_instant() -> None:
    [normalized] = await events_of(message(timestamp="2026-05-01T05:30:00-04:30"))
    assert normalized.timestamp == datetime(2026, 5, 1, 10, 0, tzinfo=UTC)
    assert normalized.timestamp.utcoffset() == timedelta(hours=-4, minutes=-30)
    assert normalized.timestamp.tzinfo == timezone(timedelta(hours=-4, minutes=-30))


@pytest.mark.parametrize(
    ("body", "names"),
    [
        pytest.param(b"not json", "not valid JSON", id="not json"),
        pytest.param(b"\xff\xfe{}", "not valid JSON", id="not utf-8"),
        pytest.param(b'{"type": "message", "x": NaN}', "not valid JSON", id="NaN"),
        pytest.param(b"[" * 100_000 + b"]" * 100_000, "not valid JSON", id="deep nesting"),
        pytest.param([message()], "body: must be a JSON object", id="list body"),
        pytest.param("text", "body: must be a JSON object", id="string body"),
        pytest.param({"id": "x"}, "type: Field required", id="no type"),
        pytest.param(message(type=5), "type: must be a string", id="type not text"),
        pytest.param({"events": []}, "events: must be a non-empty list", id="empty batch"),
        pytest.param({"events": {"a": 1}}, "events: must be a non-empty list", id="batch not list"),
        pytest.param(
            {"events": [message(), 3]}, "events[1]: must be a JSON object", id="batch item"
        ),
        pytest.param(
            {"events": [message(), message(sender={"name": "x"})]},
            "events[1].sender.id: Field required",
            id="batch names the index",
        ),
        pytest.param(message(id=None), "id: Field required", id="no id"),
        pytest.param(message(id=""), "id: String should have at least 1 character", id="empty id"),
        pytest.param(message(id="x" * 301), "id: String should have at most 300", id="long id"),
        pytest.param(message(sender=None), "sender: Field required", id="no sender"),
        pytest.param(message(sender="bob"), "sender: Input should be", id="sender not object"),
        pytest.param(
            message(sender={"id": "u", "phone": "1" * 40}), "sender.phone", id="long phone"
        ),
        pytest.param(message(timestamp=None), "timestamp: Field required", id="no timestamp"),
        pytest.param(
            message(timestamp="2026-05-01T12:00:00"),
            "timestamp: Input should have timezone",
            id="naive",
        ),
        pytest.param(message(timestamp="yesterday"), "timestamp:", id="not a date"),
        pytest.param(
            message(timestamp=1780000000), "timestamp: must be an RFC 3339", id="unix number"
        ),
        pytest.param(
            message(timestamp="0001-01-01T00:00:00+14:00"),
            "timestamp: must be between",
            id="year 1",
        ),
        pytest.param(message(text=None), "needs text or at least one attachment", id="no content"),
        pytest.param(message(text="   "), "needs text or at least one attachment", id="blank text"),
        pytest.param(message(text=7), "text: Input should be a valid string", id="text not string"),
        pytest.param(message(text="a\x00b"), "body.text: text must not contain NUL", id="NUL"),
        pytest.param(
            b'{"type":"message","text":"\\ud800"}', "text is not valid Unicode", id="surrogate"
        ),
        pytest.param(
            message(attachments=[{"data": "@@@", "content_type": "image/png"}]),
            "attachments[0].data: must be standard base64",
            id="bad base64",
        ),
        pytest.param(
            message(attachments=[{"filename": "a"}]),
            "attachments[0]: give exactly one of url or data",
            id="no source",
        ),
        pytest.param(
            message(attachments=[{"url": "https://x.example/a", "data": "QQ=="}]),
            "give exactly one of url or data",
            id="two sources",
        ),
        pytest.param(
            message(attachments=[{"url": "ftp://x.example/a"}]),
            "attachments[0].url: must be an http",
            id="ftp url",
        ),
        pytest.param(
            message(attachments=[{"url": "https://x.example/a", "content_type": "image"}]),
            "attachments[0].content_type",
            id="bad mime",
        ),
        pytest.param(
            message(attachments="a.png"),
            "attachments: Input should be a valid list",
            id="attachments not list",
        ),
        pytest.param(
            {"type": "status", "id": "s", "status": "seen"},
            "status: Input should be",
            id="unknown status",
        ),
        pytest.param(
            {"type": "status", "status": "read"}, "id: Field required", id="status without id"
        ),
        pytest.param(
            {"type": "poll", "id": "p"},
            "unknown event type 'poll'",
            id="unknown type without sender",
        ),
        pytest.param(
            {"type": "poll", "id": "p", "sender": {}},
            "sender.id: Field required",
            id="unknown type bad sender",
        ),
    ],
)
async def test_bad_bodies_are_400_naming_the_problem(body: Any, names: str) -> None:
    error = await refusal(body)
    assert error.status == 400
    assert names in error.reason


async def test_many_errors_are_summarized_not_listed_in_full() -> None:
    bad = {
        "type": "message",
        "id": "",
        "timestamp": "x",
        "sender": {},
        "thread_id": "",
        "reply_to": "",
    }
    error = await refusal(bad)
    assert error.status == 400
    assert error.reason.count(": ") >= 3
    assert "more" in error.reason


async def test_signature_is_checked_before_the_body_is_read() -> None:
    request = signed(b"not json")
    tampered = request.model_copy(
        update={"headers": {**request.headers, "X-Hub-Signature-256": "sha256=" + "0" * 64}}
    )
    with pytest.raises(WebhookRejected) as caught:
        await make_channel().handle_webhook(tampered)
    assert caught.value.status == 403


async def test_an_unsigned_request_is_401() -> None:
    request = signed(message()).model_copy(update={"headers": {}})
    with pytest.raises(WebhookRejected) as caught:
        await make_channel().handle_webhook(request)
    assert caught.value.status == 401


async def test_only_post_is_accepted() -> None:
    with pytest.raises(WebhookRejected) as caught:
        await make_channel().handle_webhook(signed(b"", method="GET"))
    assert caught.value.status == 405


async def test_a_content_type_with_parameters_is_kept_and_classified() -> None:
    data = base64.b64encode(b"plain words").decode()
    event = message(
        text=None, attachments=[{"data": data, "content_type": "text/plain; charset=UTF-8"}]
    )
    [normalized] = await events_of(event)
    [part] = normalized.parts
    assert part.media_kind == "document"
    assert part.mime_type == "text/plain; charset=utf-8"
    assert part.url == f"data:text/plain; charset=utf-8;base64,{data}"
    assert await make_channel().fetch_media(part) == b"plain words"
