"""The custom channel towards the service: signed replies, answers mapped to outcomes,
media downloads with a size cap, and the connect handshake of declared types."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
import respx
from hub.contract import (
    BadCredentials,
    Capabilities,
    ChannelContext,
    MediaPart,
    OutboundAttachment,
    OutboundMessage,
    PermanentFailure,
    RetryLater,
)
from pydantic import Field, SecretStr

from hub_custom_channel.channel import CustomChannel
from hub_custom_channel.config import CustomChannelConfig
from hub_custom_channel.signing import verify

SECRET = "outbound-test-secret-0123456789abcdef"
SERVICE = "https://svc.example.com/hub/replies"
WEBHOOK = "https://hub.example.com/webhooks/7"


class AcmeConfig(CustomChannelConfig):
    """A declared type's Config: the custom channel's fields plus credentials."""

    api_key: SecretStr = Field(title="API key")
    account: str = Field(title="Account")


class AcmeChannel(CustomChannel):
    """What a declarative definition builds: the custom channel under another name."""

    name = "acme"
    Config = AcmeConfig


@pytest.fixture
def service() -> Iterator[respx.MockRouter]:
    """The bridged service, mocked at the HTTP layer."""
    with respx.mock(assert_all_called=False) as router:
        yield router


def make_channel(**config: Any) -> CustomChannel:
    """A custom channel pointing at the mocked service."""
    settings = CustomChannelConfig(outbound_url=SERVICE, signing_secret=SECRET, **config)
    return CustomChannel(settings, ChannelContext(7, WEBHOOK, httpx.AsyncClient()))


def acme_channel() -> CustomChannel:
    """A channel of a declared type with credentials."""
    settings = AcmeConfig(
        outbound_url=SERVICE, signing_secret=SECRET, api_key="key-123", account="north"
    )
    return AcmeChannel(settings, ChannelContext(7, WEBHOOK, httpx.AsyncClient()))


def reply(**overrides: Any) -> OutboundMessage:
    """An agent reply, with some fields replaced."""
    fields: dict[str, Any] = {
        "message_id": 501,
        "conversation_id": 31,
        "recipient_id": "user-42",
        "idempotency_key": "msg-501-key",
        "text": "Thanks, on it!",
    }
    return OutboundMessage(**{**fields, **overrides})


ATTACHMENT = OutboundAttachment(
    filename="plan.pdf",
    content_type="application/pdf",
    size=1234,
    sha256="ab" * 32,
    url="https://hub.example.com/media/9/1780000000/abc/plan.pdf",
)


def _capped(limit: int) -> Capabilities:
    """Capabilities with every media kind limited to ``limit`` bytes."""
    kinds = ("image", "audio", "voice", "video", "document")
    return Capabilities(media=dict.fromkeys(kinds, limit))


def sent_json(route: respx.Route) -> Any:
    """The JSON body of the last request a route received."""
    return json.loads(route.calls.last.request.content)


async def test_send_posts_the_documented_body_and_returns_the_service_id(
    service: respx.MockRouter,
) -> None:
    route = service.post(SERVICE).respond(200, json={"id": "svc-777"})
    provider_id = await make_channel().send(
        reply(attachments=(ATTACHMENT,), thread_key="t-1", reply_to_external_id="ext-0")
    )
    assert provider_id == "svc-777"
    assert sent_json(route) == {
        "type": "message",
        "id": "501",
        "conversation_id": 31,
        "recipient": {"id": "user-42"},
        "thread_id": "t-1",
        "text": "Thanks, on it!",
        "attachments": [
            {
                "url": ATTACHMENT.url,
                "filename": "plan.pdf",
                "content_type": "application/pdf",
                "size": 1234,
            }
        ],
        # reply-to support is off by default: the reply goes as a plain message
        "reply_to": None,
    }


async def test_send_signs_the_exact_body_and_carries_the_idempotency_key(
    service: respx.MockRouter,
) -> None:
    route = service.post(SERVICE).respond(201, json={"id": "svc-1"})
    await make_channel().send(reply())
    request = route.calls.last.request
    assert request.headers["Idempotency-Key"] == "msg-501-key"
    assert request.headers["Content-Type"] == "application/json"
    verify(SECRET, dict(request.headers), request.content)
    with pytest.raises(Exception, match="signature does not match"):
        verify("another-secret", dict(request.headers), request.content)


async def test_reply_to_is_sent_when_the_channel_supports_it(service: respx.MockRouter) -> None:
    route = service.post(SERVICE).respond(200, json={"id": "svc-1"})
    await make_channel(supports_reply_to=True).send(reply(reply_to_external_id="ext-0"))
    assert sent_json(route)["reply_to"] == "ext-0"


async def test_reply_to_is_sent_when_a_declared_type_promises_it(
    service: respx.MockRouter, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(AcmeChannel, "capabilities", Capabilities(reply_to=True))
    route = service.post(SERVICE).respond(200, json={"id": "svc-1"})
    await acme_channel().send(reply(reply_to_external_id="ext-0"))
    assert sent_json(route)["reply_to"] == "ext-0"


async def test_attachments_to_a_channel_without_them_fail_visibly(
    service: respx.MockRouter,
) -> None:
    route = service.post(SERVICE).respond(200, json={"id": "svc-1"})
    with pytest.raises(PermanentFailure) as caught:
        await make_channel(supports_attachments=False).send(reply(attachments=(ATTACHMENT,)))
    assert caught.value.code == "attachments_unsupported"
    assert not route.called


async def test_a_numeric_service_id_is_kept_as_text(service: respx.MockRouter) -> None:
    service.post(SERVICE).respond(200, json={"id": 98765})
    assert await make_channel().send(reply()) == "98765"


@pytest.mark.parametrize(
    "answer",
    [
        httpx.Response(200, json={}),
        httpx.Response(200, json={"id": ""}),
        httpx.Response(200, json=["svc-1"]),
        httpx.Response(200, text="ok"),
        httpx.Response(204),
    ],
)
async def test_a_2xx_without_an_id_is_a_permanent_failure(
    service: respx.MockRouter, answer: httpx.Response
) -> None:
    service.post(SERVICE).mock(return_value=answer)
    with pytest.raises(PermanentFailure) as caught:
        await make_channel().send(reply())
    assert caught.value.code == "no_provider_id"
    assert '{"id"' in caught.value.message


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        (httpx.Response(400, json={"error": "recipient unknown"}), "recipient unknown"),
        (httpx.Response(404, json={"message": "no such chat"}), "no such chat"),
        (httpx.Response(422, json={"reason": "text too long"}), "text too long"),
        (httpx.Response(403, json={"error": {"message": "blocked"}}), "blocked"),
        (httpx.Response(410, text="  chat gone  "), "chat gone"),
        (httpx.Response(400), "Bad Request"),
    ],
)
async def test_a_4xx_fails_with_the_body_reason(
    service: respx.MockRouter, answer: httpx.Response, reason: str
) -> None:
    service.post(SERVICE).mock(return_value=answer)
    with pytest.raises(PermanentFailure) as caught:
        await make_channel().send(reply())
    assert caught.value.code == f"http_{answer.status_code}"
    assert caught.value.message == reason


async def test_a_long_4xx_reason_is_truncated(service: respx.MockRouter) -> None:
    service.post(SERVICE).respond(400, json={"error": "x" * 5000})
    with pytest.raises(PermanentFailure) as caught:
        await make_channel().send(reply())
    assert 0 < len(caught.value.message) <= 300


async def test_a_redirect_fails_asking_for_the_final_address(service: respx.MockRouter) -> None:
    service.post(SERVICE).respond(301, headers={"Location": "https://svc.example.com/v2"})
    with pytest.raises(PermanentFailure) as caught:
        await make_channel().send(reply())
    assert caught.value.code == "http_301"
    assert "https://svc.example.com/v2" in caught.value.message


@pytest.mark.parametrize(("header", "after"), [("30", 30.0), (None, None)])
async def test_429_retries_later_honouring_retry_after(
    service: respx.MockRouter, header: str | None, after: float | None
) -> None:
    headers = {"Retry-After": header} if header else {}
    service.post(SERVICE).respond(429, json={"error": "slow down"}, headers=headers)
    with pytest.raises(RetryLater) as caught:
        await make_channel().send(reply())
    assert caught.value.after == after
    assert "slow down" in str(caught.value)


async def test_retry_after_as_an_http_date_is_read_as_seconds(service: respx.MockRouter) -> None:
    service.post(SERVICE).respond(503, headers={"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"})
    with pytest.raises(RetryLater) as caught:
        await make_channel().send(reply())
    assert caught.value.after == 0.0  # a date in the past: retry as soon as allowed


@pytest.mark.parametrize(
    "failure",
    [
        httpx.Response(500, text="boom"),
        httpx.Response(502),
        httpx.Response(503, json={"error": "maintenance"}),
        httpx.ReadTimeout("slow"),
        httpx.ConnectTimeout("slow"),
        httpx.ConnectError("refused"),
        httpx.RemoteProtocolError("garbage"),
    ],
)
async def test_5xx_timeouts_and_network_errors_retry_later(
    service: respx.MockRouter, failure: httpx.Response | Exception
) -> None:
    route = service.post(SERVICE)
    if isinstance(failure, httpx.Response):
        route.mock(return_value=failure)
    else:
        route.mock(side_effect=failure)
    with pytest.raises(RetryLater) as caught:
        await make_channel().send(reply())
    assert "svc.example.com" in str(caught.value) or "server error" in str(caught.value)


# --- fetch_media ---------------------------------------------------------------------


async def test_fetch_media_decodes_a_data_url_without_the_network(
    service: respx.MockRouter,
) -> None:
    content = b"\x89PNG tiny image"
    part = MediaPart(
        media_kind="image", url="data:image/png;base64," + base64.b64encode(content).decode()
    )
    assert await make_channel().fetch_media(part) == content
    assert not service.calls


async def test_fetch_media_downloads_an_http_url(service: respx.MockRouter) -> None:
    service.get("https://cdn.example.com/a.jpg").respond(200, content=b"jpeg bytes")
    part = MediaPart(media_kind="image", url="https://cdn.example.com/a.jpg")
    assert await make_channel().fetch_media(part) == b"jpeg bytes"


async def test_fetch_media_refuses_a_declared_length_past_the_cap(
    service: respx.MockRouter, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(CustomChannel, "capabilities", _capped(10))
    service.get("https://cdn.example.com/big").respond(200, content=b"x" * 11)
    with pytest.raises(PermanentFailure) as caught:
        await make_channel().fetch_media(
            MediaPart(media_kind="document", url="https://cdn.example.com/big")
        )
    assert caught.value.code == "media_too_large"


async def test_fetch_media_stops_a_stream_past_the_cap(
    service: respx.MockRouter, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(CustomChannel, "capabilities", _capped(10))
    pulled: list[int] = []

    async def chunks() -> AsyncIterator[bytes]:
        for index in range(100):
            pulled.append(index)
            yield b"x" * 4

    # No Content-Length: only counting the bytes as they arrive can stop it.
    service.get("https://cdn.example.com/stream").mock(
        return_value=httpx.Response(200, content=chunks())
    )
    with pytest.raises(PermanentFailure) as caught:
        await make_channel().fetch_media(
            MediaPart(media_kind="document", url="https://cdn.example.com/stream")
        )
    assert caught.value.code == "media_too_large"
    assert len(pulled) < 100


async def test_fetch_media_a_data_url_past_the_cap_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(CustomChannel, "capabilities", _capped(3))
    part = MediaPart(media_kind="document", url="data:text/plain;base64,QUJDRA==")
    with pytest.raises(PermanentFailure) as caught:
        await make_channel().fetch_media(part)
    assert caught.value.code == "media_too_large"


@pytest.mark.parametrize(
    ("failure", "error"),
    [
        (httpx.Response(404, text="gone"), PermanentFailure),
        (httpx.Response(403), PermanentFailure),
        (httpx.Response(500), RetryLater),
        (httpx.Response(429), RetryLater),
        (httpx.ConnectError("refused"), RetryLater),
        (httpx.ReadTimeout("slow"), RetryLater),
    ],
)
async def test_fetch_media_maps_download_failures(
    service: respx.MockRouter, failure: httpx.Response | Exception, error: type[Exception]
) -> None:
    route = service.get("https://cdn.example.com/a.jpg")
    if isinstance(failure, httpx.Response):
        route.mock(return_value=failure)
    else:
        route.mock(side_effect=failure)
    with pytest.raises(error):
        await make_channel().fetch_media(
            MediaPart(media_kind="image", url="https://cdn.example.com/a.jpg")
        )


async def test_fetch_media_without_a_usable_url_fails() -> None:
    with pytest.raises(PermanentFailure):
        await make_channel().fetch_media(MediaPart(media_kind="image", provider_media_id="x"))


# --- connect / disconnect ------------------------------------------------------------


def test_the_custom_channel_type_is_extensible() -> None:
    assert CustomChannel.extensible is True


async def test_a_plain_channel_connects_without_calling_the_service(
    service: respx.MockRouter,
) -> None:
    await make_channel().connect()
    await make_channel().disconnect()
    assert not service.calls


async def test_a_declared_type_sends_its_credentials_signed_on_connect(
    service: respx.MockRouter,
) -> None:
    route = service.post(SERVICE).respond(200, json={"ok": True})
    await acme_channel().connect()
    request = route.calls.last.request
    verify(SECRET, dict(request.headers), request.content)
    assert json.loads(request.content) == {
        "type": "connect",
        "channel_id": 7,
        "webhook_url": WEBHOOK,
        "credentials": {"api_key": "key-123", "account": "north"},
    }


@pytest.mark.parametrize("status", [401, 403, 422, 400, 404])
async def test_a_refused_connect_is_bad_credentials_with_the_reason(
    service: respx.MockRouter, status: int
) -> None:
    service.post(SERVICE).respond(status, json={"error": "unknown API key"})
    with pytest.raises(BadCredentials, match="unknown API key"):
        await acme_channel().connect()


@pytest.mark.parametrize(
    "failure", [httpx.Response(500), httpx.Response(429), httpx.ConnectError("refused")]
)
async def test_a_connect_the_service_cannot_answer_now_retries_later(
    service: respx.MockRouter, failure: httpx.Response | Exception
) -> None:
    route = service.post(SERVICE)
    if isinstance(failure, httpx.Response):
        route.mock(return_value=failure)
    else:
        route.mock(side_effect=failure)
    with pytest.raises(RetryLater):
        await acme_channel().connect()


async def test_disconnect_of_a_declared_type_tells_the_service(service: respx.MockRouter) -> None:
    route = service.post(SERVICE).respond(204)
    await acme_channel().disconnect()
    assert json.loads(route.calls.last.request.content) == {"type": "disconnect", "channel_id": 7}


async def test_disconnect_is_best_effort_when_the_service_is_down(
    service: respx.MockRouter, caplog: pytest.LogCaptureFixture
) -> None:
    service.post(SERVICE).mock(side_effect=httpx.ConnectError("refused"))
    await acme_channel().disconnect()
    assert "disconnect call failed" in caplog.text
