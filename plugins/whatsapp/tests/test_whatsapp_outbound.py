"""Talking to the Graph API: connect checks, sends of each kind, errors, media, templates."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
import pytest
import respx
from hub.contract import (
    BadCredentials,
    Choice,
    MediaPart,
    OutboundAttachment,
    OutboundMessage,
    PermanentFailure,
    PluginError,
    RetryLater,
    StickerPart,
    TemplateRef,
    WindowClosed,
)
from hub.testing import MemoryFiles
from whatsapp_helpers import (
    GRAPH,
    PHONE_NUMBER_ID,
    SENDER,
    TEXT_ID,
    WABA_ID,
    make_channel,
    signed_request,
)

from hub_whatsapp.channel import WhatsAppChannel

MESSAGES = f"{GRAPH}/{PHONE_NUMBER_ID}/messages"
SHA = "0" * 64  # a file the hub does not keep: only its link is sent
ACCEPTED = {
    "messaging_product": "whatsapp",
    "contacts": [{"input": SENDER, "wa_id": SENDER}],
    "messages": [{"id": "wamid.SENT1"}],
}


def reply(**fields: Any) -> OutboundMessage:
    """An agent reply to the test sender."""
    base: dict[str, Any] = {
        "message_id": 11,
        "conversation_id": 3,
        "recipient_id": SENDER,
        "idempotency_key": "hub-msg-11",
    }
    return OutboundMessage(**{**base, **fields})


def graph_error(code: int, message: str, *, status: int = 400, **extra: Any) -> httpx.Response:
    """An error answer in Meta's documented shape."""
    error = {
        "message": message,
        "type": "OAuthException",
        "code": code,
        "fbtrace_id": "Az8or2yhqkZfEZ-_4Qn_Bam",
    }
    return httpx.Response(status, json={"error": {**error, **extra}})


def sent_bodies(route: respx.Route) -> list[dict[str, Any]]:
    return [json.loads(call.request.content) for call in route.calls]


# --- connect ---------------------------------------------------------------------------


@respx.mock
async def test_connect_checks_the_number_belongs_to_the_account_with_the_token() -> None:
    route = respx.get(f"{GRAPH}/{WABA_ID}/phone_numbers").respond(
        200,
        json={
            "data": [
                {
                    "id": PHONE_NUMBER_ID,
                    "display_phone_number": "+1 555-078-3881",
                    "verified_name": "Lucky Shrub",
                }
            ]
        },
    )
    await make_channel().connect()
    assert route.calls.last.request.headers["Authorization"] == "Bearer EAAG-test-access-token"


@pytest.mark.parametrize(
    ("answer", "raises", "shown"),
    [
        (
            graph_error(
                190,
                "Error validating access token: Session has expired",
                status=401,
                error_subcode=463,
            ),
            BadCredentials,
            "Session has expired",
        ),
        (
            graph_error(
                100, "Unsupported get request. Object with ID '102290129340398' does not exist"
            ),
            BadCredentials,
            "does not exist",
        ),
        (
            httpx.Response(200, json={"data": [{"id": "111", "display_phone_number": "+1 555"}]}),
            BadCredentials,
            "111 (+1 555)",
        ),
        (graph_error(131016, "Service unavailable", status=503), RetryLater, "Service unavailable"),
    ],
)
async def test_connect_failures_show_the_admin_metas_reason(
    answer: httpx.Response, raises: type[PluginError], shown: str
) -> None:
    with respx.mock:
        respx.get(f"{GRAPH}/{WABA_ID}/phone_numbers").mock(return_value=answer)
        with pytest.raises(raises, match=re.escape(shown)):
            await make_channel().connect()


@respx.mock
async def test_connect_uses_the_configured_api_host_and_version() -> None:
    route = respx.get(f"https://graph.example.test/proxy/v25.0/{WABA_ID}/phone_numbers").respond(
        200, json={"data": [{"id": PHONE_NUMBER_ID}]}
    )
    await make_channel(
        api_base_url="https://graph.example.test/proxy", api_version="v25.0"
    ).connect()
    assert route.called


# --- send ------------------------------------------------------------------------------


@respx.mock
async def test_text_is_sent_with_the_documented_body_and_returns_the_wamid() -> None:
    route = respx.post(MESSAGES).respond(200, json=ACCEPTED)
    assert await make_channel().send(reply(text="Your order ships today")) == "wamid.SENT1"
    assert sent_bodies(route) == [
        {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": SENDER,
            "type": "text",
            "text": {"body": "Your order ships today", "preview_url": False},
        }
    ]


@respx.mock
async def test_three_choices_go_as_interactive_reply_buttons() -> None:
    route = respx.post(MESSAGES).respond(200, json=ACCEPTED)
    choices = tuple(
        Choice(id=f"csat:{n}", title=t) for n, t in ((1, "Poor"), (2, "OK"), (3, "Great"))
    )
    assert await make_channel().send(reply(text="How did we do?", choices=choices)) == "wamid.SENT1"
    assert sent_bodies(route) == [
        {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": SENDER,
            "type": "interactive",
            "interactive": {
                "type": "button",
                "body": {"text": "How did we do?"},
                "action": {
                    "buttons": [
                        {"type": "reply", "reply": {"id": "csat:1", "title": "Poor"}},
                        {"type": "reply", "reply": {"id": "csat:2", "title": "OK"}},
                        {"type": "reply", "reply": {"id": "csat:3", "title": "Great"}},
                    ]
                },
            },
        }
    ]


@respx.mock
async def test_more_than_three_choices_go_as_an_interactive_list() -> None:
    route = respx.post(MESSAGES).respond(200, json=ACCEPTED)
    choices = tuple(Choice(id=f"csat:{n}", title=f"{n} · Rating") for n in range(1, 6))
    await make_channel().send(reply(text="How did we do?", choices=choices))
    [body] = sent_bodies(route)
    assert body["type"] == "interactive"
    assert body["interactive"] == {
        "type": "list",
        "body": {"text": "How did we do?"},
        "action": {
            "button": "Choose",
            "sections": [{"rows": [{"id": c.id, "title": c.title} for c in choices]}],
        },
    }


@pytest.mark.parametrize(
    ("choices", "code"),
    [
        ((Choice(id="a", title="x" * 21),), "choice_title_too_long"),
        (tuple(Choice(id=f"c{n}", title="x" * 25) for n in range(4)), "choice_title_too_long"),
        (tuple(Choice(id=f"c{n}", title="t") for n in range(11)), "too_many_choices"),
    ],
)
async def test_choices_whatsapp_cannot_show_fail_before_any_call(
    choices: tuple[Choice, ...], code: str
) -> None:
    with pytest.raises(PermanentFailure) as caught:
        await make_channel().send(reply(text="Pick", choices=choices))
    assert caught.value.code == code


@respx.mock
async def test_a_reply_quotes_the_message_with_context_message_id() -> None:
    route = respx.post(MESSAGES).respond(200, json=ACCEPTED)
    await make_channel().send(reply(text="Yes", reply_to_external_id=TEXT_ID))
    assert sent_bodies(route)[0]["context"] == {"message_id": TEXT_ID}


@respx.mock
async def test_a_single_image_by_link_carries_the_text_as_caption() -> None:
    route = respx.post(MESSAGES).respond(200, json=ACCEPTED)
    photo = OutboundAttachment(
        filename="label.png",
        content_type="image/png",
        size=2048,
        sha256=SHA,
        url="https://hub.example.test/media/1/label.png?sig=x",
    )
    await make_channel().send(reply(text="Here is the label", attachments=(photo,)))
    [body] = sent_bodies(route)
    assert body["type"] == "image"
    assert body["image"] == {"link": photo.url, "caption": "Here is the label"}


@respx.mock
async def test_a_file_the_hub_keeps_is_uploaded_and_sent_by_media_id() -> None:
    files = MemoryFiles()
    upload = respx.post(f"{GRAPH}/{PHONE_NUMBER_ID}/media").respond(
        200, json={"id": "4490709327384033"}
    )
    route = respx.post(MESSAGES).respond(200, json=ACCEPTED)
    doc = files.attachment(
        b"%PDF-1.7 invoice",
        filename="invoice.pdf",
        content_type="application/pdf",
        url="https://hub.example.test/m/2",
    )
    await make_channel(files=files).send(reply(attachments=(doc,)))
    form = upload.calls.last.request.content
    assert b'name="messaging_product"' in form and b"whatsapp" in form
    assert b'name="type"' in form and b"application/pdf" in form
    assert b'filename="invoice.pdf"' in form and b"%PDF-1.7 invoice" in form
    [body] = sent_bodies(route)
    assert body["document"] == {"id": "4490709327384033", "filename": "invoice.pdf"}


@respx.mock
async def test_text_and_several_files_go_as_several_messages_quoting_once() -> None:
    route = respx.post(MESSAGES).mock(
        side_effect=[
            httpx.Response(200, json={**ACCEPTED, "messages": [{"id": f"wamid.{n}"}]})
            for n in range(3)
        ]
    )
    files = tuple(
        OutboundAttachment(
            filename=f"p{n}.jpg",
            content_type="image/jpeg",
            size=10,
            sha256=SHA,
            url=f"https://h/{n}",
        )
        for n in range(2)
    )
    provider_id = await make_channel().send(
        reply(text="Two photos", attachments=files, reply_to_external_id=TEXT_ID)
    )
    bodies = sent_bodies(route)
    assert [b["type"] for b in bodies] == ["text", "image", "image"]
    assert [("context" in b) for b in bodies] == [True, False, False]
    assert provider_id == "wamid.0"


async def test_a_file_over_whatsapps_limit_fails_before_any_call() -> None:
    video = OutboundAttachment(
        filename="big.mp4", content_type="video/mp4", size=17_000_000, sha256=SHA, url="https://h/v"
    )
    # No route: any HTTP call would fail the test.
    with respx.mock, pytest.raises(PermanentFailure, match=r"big\.mp4"):
        await make_channel().send(reply(attachments=(video,)))


@respx.mock
async def test_a_template_is_sent_with_its_parameters() -> None:
    route = respx.post(MESSAGES).respond(200, json=ACCEPTED)
    template = TemplateRef(name="order_update", language="de", parameters=("Sheena", "#117"))
    await make_channel().send(reply(template=template))
    [body] = sent_bodies(route)
    assert body["type"] == "template"
    assert body["template"] == {
        "name": "order_update",
        "language": {"code": "de"},
        "components": [
            {
                "type": "body",
                "parameters": [
                    {"type": "text", "text": "Sheena"},
                    {"type": "text", "text": "#117"},
                ],
            }
        ],
    }


@respx.mock
async def test_a_template_without_parameters_has_no_components() -> None:
    route = respx.post(MESSAGES).respond(200, json=ACCEPTED)
    await make_channel().send(reply(template=TemplateRef(name="welcome", language="en_US")))
    assert sent_bodies(route)[0]["template"] == {"name": "welcome", "language": {"code": "en_US"}}


async def test_too_long_text_and_username_only_recipients_are_refused() -> None:
    with pytest.raises(PermanentFailure, match="4096"):
        await make_channel().send(reply(text="x" * 4097))
    with pytest.raises(PermanentFailure, match="username"):
        await make_channel().send(reply(text="hi", recipient_id="US.13491208655302741918"))


# --- error mapping ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answer", "raises", "code"),
    [
        (
            graph_error(
                131047,
                "Re-engagement message",
                error_data={"details": "more than 24 hours have passed"},
            ),
            WindowClosed,
            "window_closed",
        ),
        (graph_error(190, "Invalid OAuth access token", status=401), BadCredentials, None),
        (graph_error(130429, "Rate limit hit"), RetryLater, None),
        (graph_error(80007, "Rate limit issues"), RetryLater, None),
        (graph_error(4, "Application request limit reached"), RetryLater, None),
        (
            graph_error(131056, "(Business Account, Consumer Account) pair rate limit hit"),
            RetryLater,
            None,
        ),
        (graph_error(131000, "Something went wrong", status=500), RetryLater, None),
        (httpx.Response(502, text="<html>Bad gateway</html>"), RetryLater, None),
        (graph_error(131026, "Message undeliverable"), PermanentFailure, "whatsapp_131026"),
        (graph_error(100, "Invalid parameter"), PermanentFailure, "whatsapp_100"),
        (
            graph_error(132001, "Template name does not exist in the translation"),
            PermanentFailure,
            "whatsapp_132001",
        ),
    ],
)
async def test_graph_errors_map_to_typed_errors(
    answer: httpx.Response, raises: type[PluginError], code: str | None
) -> None:
    with respx.mock:
        respx.post(MESSAGES).mock(return_value=answer)
        with pytest.raises(raises) as caught:
            await make_channel().send(reply(text="hi"))
    assert str(caught.value)
    if code is not None:
        assert isinstance(caught.value, PermanentFailure) and caught.value.code == code


@respx.mock
async def test_the_window_error_tells_the_agent_to_send_a_template() -> None:
    respx.post(MESSAGES).mock(return_value=graph_error(131047, "Re-engagement message"))
    with pytest.raises(WindowClosed, match="send an approved template"):
        await make_channel().send(reply(text="hi"))


@respx.mock
async def test_a_rate_limit_waits_as_long_as_the_usage_header_says() -> None:
    usage = {
        WABA_ID: [
            {
                "type": "whatsapp_business_management",
                "call_count": 100,
                "estimated_time_to_regain_access": 3,
            }
        ]
    }
    answer = graph_error(80007, "Rate limit issues")
    answer.headers["X-Business-Use-Case-Usage"] = json.dumps(usage)
    respx.post(MESSAGES).mock(return_value=answer)
    with pytest.raises(RetryLater) as caught:
        await make_channel().send(reply(text="hi"))
    assert caught.value.after == 180


@respx.mock
async def test_a_network_error_is_retried_later() -> None:
    respx.post(MESSAGES).mock(side_effect=httpx.ConnectError("connection refused"))
    with pytest.raises(RetryLater, match="cannot reach"):
        await make_channel().send(reply(text="hi"))


# --- read receipts, typing, templates, window ----------------------------------------


@respx.mock
async def test_mark_read_with_typing_indicator_uses_the_messages_endpoint() -> None:
    route = respx.post(MESSAGES).respond(200, json={"success": True})
    await make_channel().mark_read(TEXT_ID, typing=True)
    assert sent_bodies(route) == [
        {
            "messaging_product": "whatsapp",
            "status": "read",
            "message_id": TEXT_ID,
            "typing_indicator": {"type": "text"},
        }
    ]


@respx.mock
async def test_typing_is_shown_against_the_contacts_latest_message() -> None:
    route = respx.post(MESSAGES).respond(200, json={"success": True})
    channel = make_channel()
    await channel.send_typing(SENDER)
    assert not route.called  # nothing seen yet to tie the indicator to
    await channel.handle_webhook(signed_request("text"))
    await channel.handle_webhook(signed_request("reply_context"))
    await channel.send_typing(SENDER)
    assert sent_bodies(route)[0]["message_id"] == "wamid.REPLY0001"
    assert WhatsAppChannel.supports("send_typing")


@respx.mock
async def test_templates_are_listed_from_the_business_account_approved_only() -> None:
    url = f"{GRAPH}/{WABA_ID}/message_templates"
    first = {
        "data": [
            {
                "name": "order_update",
                "language": "de",
                "status": "APPROVED",
                "category": "UTILITY",
                "components": [{"type": "BODY", "text": "Hallo {{1}}, Bestellung {{2}}"}],
                "id": "1",
            },
            {
                "name": "draft",
                "language": "en_US",
                "status": "PENDING",
                "category": "MARKETING",
                "components": [],
                "id": "2",
            },
        ],
        "paging": {"cursors": {"before": "MAZDZD", "after": "MjQZD"}, "next": f"{url}?after=MjQZD"},
    }
    second = {
        "data": [
            {
                "name": "welcome",
                "language": "en_US",
                "status": "APPROVED",
                "category": "MARKETING",
                "components": [],
                "id": "3",
            }
        ],
        "paging": {"cursors": {"before": "MjQZD", "after": "MjUZD"}},
    }
    route = respx.get(url).mock(
        side_effect=[httpx.Response(200, json=first), httpx.Response(200, json=second)]
    )
    templates = await make_channel().list_templates()
    assert [(t.name, t.language, t.category) for t in templates] == [
        ("order_update", "de", "UTILITY"),
        ("welcome", "en_US", "MARKETING"),
    ]
    assert templates[0].body == "Hallo {{1}}, Bestellung {{2}}"
    assert [t.parameters for t in templates] == [2, 0]
    assert templates[0].raw["id"] == "1"
    assert route.calls[1].request.url.params["after"] == "MjQZD"


# --- media download --------------------------------------------------------------------

MEDIA_URL = "https://lookaside.fbsbx.com/whatsapp_business/attachments/?mid=1003383421387256&ext=1750091002&hash=ATs"


def media_lookup(media_id: str, mime: str, size: int) -> dict[str, Any]:
    return {
        "messaging_product": "whatsapp",
        "url": MEDIA_URL,
        "mime_type": mime,
        "sha256": "d3c9",
        "file_size": str(size),
        "id": media_id,
    }


@respx.mock
async def test_media_is_fetched_by_id_then_url_with_the_bearer_token() -> None:
    lookup = respx.get(f"{GRAPH}/1003383421387256").respond(
        200, json=media_lookup("1003383421387256", "image/jpeg", 9)
    )
    download = respx.get(MEDIA_URL).respond(200, content=b"\xff\xd8jpeg!!")
    part = MediaPart(
        media_kind="image", provider_media_id="1003383421387256", mime_type="image/jpeg"
    )
    assert await make_channel().fetch_media(part) == b"\xff\xd8jpeg!!"
    assert lookup.calls.last.request.url.params["phone_number_id"] == PHONE_NUMBER_ID
    assert download.calls.last.request.headers["Authorization"] == "Bearer EAAG-test-access-token"


@pytest.mark.parametrize(
    ("part", "size"),
    [
        (MediaPart(media_kind="image", provider_media_id="m1"), 5_000_001),
        (MediaPart(media_kind="voice", provider_media_id="m1"), 16_000_001),
        (StickerPart(provider_media_id="m1", animated=False), 100_001),
    ],
)
async def test_media_over_the_vendor_limit_is_refused_before_download(part: Any, size: int) -> None:
    with respx.mock:
        respx.get(f"{GRAPH}/m1").respond(200, json=media_lookup("m1", "image/webp", size))
        with pytest.raises(PermanentFailure, match="limit"):
            await make_channel().fetch_media(part)


@respx.mock
async def test_an_animated_sticker_may_be_larger_than_a_static_one() -> None:
    respx.get(f"{GRAPH}/m1").respond(200, json=media_lookup("m1", "image/webp", 300_000))
    respx.get(MEDIA_URL).respond(200, content=b"w" * 300_000)
    assert (
        len(await make_channel().fetch_media(StickerPart(provider_media_id="m1", animated=True)))
        == 300_000
    )


@respx.mock
async def test_a_download_larger_than_declared_is_cut_off_at_the_limit() -> None:
    respx.get(f"{GRAPH}/m1").respond(200, json={"url": MEDIA_URL, "mime_type": "image/jpeg"})
    respx.get(MEDIA_URL).respond(200, content=b"x" * 5_000_001)
    with pytest.raises(PermanentFailure, match="media_too_large"):
        await make_channel().fetch_media(MediaPart(media_kind="image", provider_media_id="m1"))


@pytest.mark.parametrize(
    ("answer", "raises"),
    [
        (
            graph_error(100, "Unsupported get request. Object with ID 'm1' does not exist"),
            PermanentFailure,
        ),
        (graph_error(131052, "Media download error"), PermanentFailure),
        (graph_error(190, "Invalid OAuth access token", status=401), RetryLater),
        (graph_error(130429, "Rate limit hit"), RetryLater),
    ],
)
async def test_media_lookup_errors_map_to_permanent_or_retry(
    answer: httpx.Response, raises: type[PluginError]
) -> None:
    with respx.mock:
        respx.get(f"{GRAPH}/m1").mock(return_value=answer)
        with pytest.raises(raises):
            await make_channel().fetch_media(MediaPart(media_kind="image", provider_media_id="m1"))
