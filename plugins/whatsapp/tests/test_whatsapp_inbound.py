"""The WhatsApp webhook: handshake, signature, and every inbound type and status."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from hub.contract import (
    ChoicePart,
    ContactCardPart,
    InboundMessage,
    LocationPart,
    MediaPart,
    ReactionPart,
    StatusUpdate,
    StickerPart,
    TextPart,
    UnsupportedPart,
    WebhookRejected,
)
from whatsapp_helpers import (
    APP_SECRET,
    SENDER,
    TEXT_ID,
    VERIFY_TOKEN,
    first_message,
    load,
    make_channel,
    raw,
    request,
    signed_request,
)

from hub_whatsapp.signing import SIGNATURE_HEADER, signature

HANDSHAKE = {
    "hub.mode": "subscribe",
    "hub.verify_token": VERIFY_TOKEN,
    "hub.challenge": "1158201444",
}


async def events(name_or_body: str | bytes) -> list[Any]:
    """The events the channel makes of a signed fixture or body."""
    result = await make_channel().handle_webhook(signed_request(name_or_body))
    assert result.response is None
    return list(result.events)


async def one_message(name: str) -> InboundMessage:
    """The single message a fixture carries."""
    [message] = await events(name)
    assert isinstance(message, InboundMessage)
    return message


async def rejected(req: Any) -> WebhookRejected:
    with pytest.raises(WebhookRejected) as caught:
        await make_channel().handle_webhook(req)
    return caught.value


# --- handshake -------------------------------------------------------------------------


async def test_handshake_echoes_the_raw_challenge_as_plain_text() -> None:
    result = await make_channel().handle_webhook(request(method="GET", query=HANDSHAKE))
    assert result.events == ()
    assert result.response is not None
    assert (result.response.status, result.response.body) == (200, "1158201444")
    assert result.response.content_type == "text/plain"


@pytest.mark.parametrize(
    ("query", "status"),
    [
        ({**HANDSHAKE, "hub.verify_token": "someone-elses"}, 403),
        ({**HANDSHAKE, "hub.mode": "unsubscribe"}, 403),
        ({"hub.mode": "subscribe", "hub.challenge": "1"}, 400),
        ({}, 400),
    ],
)
async def test_handshake_refuses_a_wrong_token_mode_or_missing_parameters(
    query: dict[str, str], status: int
) -> None:
    assert (await rejected(request(method="GET", query=query))).status == status


# --- signature -------------------------------------------------------------------------


async def test_a_body_signed_with_the_app_secret_is_accepted_over_the_raw_bytes() -> None:
    body = raw("text")
    assert b"\\u00fc" in body  # Meta's escaping: re-serialising would change the bytes
    [message] = await events(body)
    assert message.parts == (TextPart(text="Grüße! Is my order on its way? 👋"),)


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({}, 401),
        ({"X-Hub-Signature": "sha1=0123456789abcdef0123456789abcdef01234567"}, 401),
        ({SIGNATURE_HEADER: "md5=abc"}, 403),
        ({SIGNATURE_HEADER: "sha256=" + "0" * 64}, 403),
        ({SIGNATURE_HEADER: signature("the-access-token-by-mistake", raw("text"))}, 403),
    ],
)
async def test_unsigned_or_wrongly_signed_deliveries_are_refused(
    headers: dict[str, str], status: int
) -> None:
    assert (await rejected(request(raw("text"), headers=headers))).status == status


async def test_a_signature_over_reserialised_json_does_not_match() -> None:
    body = raw("text")
    reserialised = json.dumps(json.loads(body), ensure_ascii=False).encode()
    headers = {SIGNATURE_HEADER: signature(APP_SECRET, reserialised)}
    assert (await rejected(request(body, headers=headers))).status == 403


async def test_signature_header_name_and_hex_case_do_not_matter() -> None:
    body = raw("text")
    digest = signature(APP_SECRET, body).removeprefix("sha256=").upper()
    headers = {"x-hub-signature-256": f"sha256={digest}"}
    result = await make_channel().handle_webhook(request(body, headers=headers))
    assert [e.external_id for e in result.events] == [TEXT_ID]


@pytest.mark.parametrize(
    "body",
    [b"not json", b"[]", json.dumps({"object": "page", "entry": []}).encode(), b'{"entry": []}'],
)
async def test_signed_bodies_that_are_not_whatsapp_webhooks_are_400(body: bytes) -> None:
    assert (await rejected(signed_request(body))).status == 400


async def test_other_http_methods_are_refused() -> None:
    assert (await rejected(request(method="PUT"))).status == 405


# --- inbound types ---------------------------------------------------------------------


async def test_text_carries_the_profile_name_wa_id_and_time() -> None:
    message = await one_message("text")
    assert message.external_id == TEXT_ID
    assert message.sender_id == SENDER
    assert message.sender.name == "Sheena Nelson"
    assert message.sender.phone == "+16505551234"
    assert message.timestamp == datetime.fromtimestamp(1750090702, tz=UTC)
    assert message.reply_to_external_id is None
    assert message.raw == first_message("text")


@pytest.mark.parametrize(
    ("name", "kind", "caption", "filename"),
    [
        ("image", "image", "The box arrived like this", None),
        ("video", "video", "Unboxing", None),
        ("document", "document", "My invoice", "invoice-2026-117.pdf"),
        ("audio", "audio", None, None),
        ("audio_voice", "voice", None, None),
    ],
)
async def test_media_messages_become_media_parts_with_their_ids(
    name: str, kind: str, caption: str | None, filename: str | None
) -> None:
    wire = first_message(name)[first_message(name)["type"]]
    [part] = (await one_message(name)).parts
    assert isinstance(part, MediaPart)
    assert part.media_kind == kind
    assert part.provider_media_id == wire["id"]
    assert part.mime_type == wire["mime_type"]
    assert part.sha256 == wire["sha256"]
    assert part.caption == caption
    assert part.filename == filename


async def test_a_sticker_becomes_a_sticker_part() -> None:
    [part] = (await one_message("sticker")).parts
    assert part == StickerPart(
        provider_media_id="1003383421387261", mime_type="image/webp", animated=False
    )


async def test_a_location_keeps_coordinates_name_and_address() -> None:
    [part] = (await one_message("location")).parts
    assert part == LocationPart(
        latitude=37.483307,
        longitude=-122.148981,
        name="Main Office",
        address="1 Hacker Way, Menlo Park, CA 94025",
    )


async def test_a_dropped_pin_without_name_or_address_is_a_location() -> None:
    data = load("location")
    data["entry"][0]["changes"][0]["value"]["messages"][0]["location"] = {
        "latitude": 52.52,
        "longitude": 13.405,
    }
    [message] = await events(json.dumps(data).encode())
    assert message.parts == (LocationPart(latitude=52.52, longitude=13.405),)


async def test_shared_contacts_become_contact_cards() -> None:
    [part] = (await one_message("contacts")).parts
    assert part == ContactCardPart(
        name="Barbara J. Johnson", phones=("+1 (650) 555-1234",), emails=("bjohnson@example.com",)
    )


@pytest.mark.parametrize(
    ("name", "text", "replied_to"),
    [
        ("interactive_button_reply", "Cancel order", "wamid.OUTBOUND0001"),
        (
            "interactive_list_reply",
            "9:00 tomorrow\nPick-up at the Menlo Park store",
            "wamid.OUTBOUND0002",
        ),
        ("button", "Stop promotions", "wamid.OUTBOUND0003"),
    ],
)
async def test_button_and_list_replies_are_choices_linked_to_the_asking_message(
    name: str, text: str, replied_to: str
) -> None:
    message = await one_message(name)
    [part] = message.parts
    if name == "button":  # a template's quick reply: its payload is not our choice id
        assert part == TextPart(text=text)
    else:
        assert isinstance(part, ChoicePart) and part.title == text and part.choice_id
    assert message.reply_to_external_id == replied_to


async def test_a_reaction_points_at_the_message_it_reacts_to() -> None:
    [part] = (await one_message("reaction")).parts
    assert part == ReactionPart(target_external_id=TEXT_ID, emoji="👍")


async def test_a_removed_reaction_has_an_empty_emoji() -> None:
    data = load("reaction")
    del data["entry"][0]["changes"][0]["value"]["messages"][0]["reaction"]["emoji"]
    [message] = await events(json.dumps(data).encode())
    assert message.parts == (ReactionPart(target_external_id=TEXT_ID, emoji=""),)


async def test_unsupported_content_is_kept_with_the_providers_error_text() -> None:
    [part] = (await one_message("unsupported")).parts
    assert isinstance(part, UnsupportedPart)
    assert part.raw_type == "unsupported:edit"
    assert part.description == "Message type unknown: Message type is currently not supported."


async def test_an_unknown_future_type_is_kept_as_unsupported_not_dropped() -> None:
    data = load("text")
    data["entry"][0]["changes"][0]["value"]["messages"][0] = {
        "from": SENDER,
        "id": "wamid.POLL1",
        "timestamp": "1750090702",
        "type": "poll",
        "poll": {"question": "Tea?"},
    }
    [message] = await events(json.dumps(data).encode())
    assert message.parts == (
        UnsupportedPart(raw_type="poll", description="a WhatsApp poll message the hub cannot show"),
    )


async def test_a_malformed_message_in_a_batch_is_kept_as_unsupported() -> None:
    data = load("text")
    bad = {
        "from": SENDER,
        "id": "wamid.BAD",
        "timestamp": "1750090702",
        "type": "image",
        "image": {},
    }
    data["entry"][0]["changes"][0]["value"]["messages"].append(bad)
    first, broken = await events(json.dumps(data).encode())
    assert first.external_id == TEXT_ID
    assert broken.external_id == "wamid.BAD"
    assert broken.parts[0].kind == "unsupported" and broken.parts[0].raw_type == "image"


async def test_a_context_reply_links_the_replied_to_message() -> None:
    message = await one_message("reply_context")
    assert message.reply_to_external_id == TEXT_ID


async def test_a_forwarded_message_is_no_reply() -> None:
    data = load("text")
    data["entry"][0]["changes"][0]["value"]["messages"][0]["context"] = {"forwarded": True}
    [message] = await events(json.dumps(data).encode())
    assert message.reply_to_external_id is None


async def test_a_username_user_without_phone_is_keyed_by_the_business_scoped_id() -> None:
    data = load("text")
    value = data["entry"][0]["changes"][0]["value"]
    value["contacts"] = [{"profile": {"name": "Sheena"}, "user_id": "US.13491208655302741918"}]
    del value["messages"][0]["from"]
    value["messages"][0]["from_user_id"] = "US.13491208655302741918"
    [message] = await events(json.dumps(data).encode())
    assert message.sender_id == "US.13491208655302741918"
    assert message.sender.name == "Sheena"
    assert message.sender.phone is None


# --- batches and routing ---------------------------------------------------------------


async def test_a_batch_yields_every_message_and_status_of_every_entry_and_change() -> None:
    found = await events("batch")
    messages = [e for e in found if isinstance(e, InboundMessage)]
    statuses = [e for e in found if isinstance(e, StatusUpdate)]
    assert [(m.external_id, m.sender_id, m.sender.name) for m in messages] == [
        ("wamid.BATCH0001", SENDER, "Sheena Nelson"),
        ("wamid.BATCH0002", "4915112345678", "Jon Doe"),
        ("wamid.BATCH0003", SENDER, "Sheena Nelson"),
        ("wamid.BATCH0004", "5511987654321", "Ana Silva"),
    ]
    assert [(s.external_id, s.status) for s in statuses] == [("wamid.OUTBOUND0001", "delivered")]


async def test_changes_for_another_phone_number_or_other_fields_are_ignored() -> None:
    data = load("batch")
    data["entry"][1]["changes"][0]["value"]["metadata"]["phone_number_id"] = "999"
    data["entry"][0]["changes"][1]["field"] = "message_template_status_update"
    found = await events(json.dumps(data).encode())
    assert [e.external_id for e in found] == [
        "wamid.BATCH0001",
        "wamid.BATCH0002",
        "wamid.BATCH0003",
    ]


# --- statuses --------------------------------------------------------------------------


@pytest.mark.parametrize("status", ["sent", "delivered", "read"])
async def test_statuses_update_our_message_by_its_wamid(status: str) -> None:
    [update] = await events(f"status_{status}")
    assert isinstance(update, StatusUpdate)
    assert (update.external_id, update.status) == ("wamid.OUTBOUND0001", status)
    assert update.timestamp is not None and update.timestamp.tzinfo is not None
    assert update.reason is None and update.error_code is None


async def test_a_failed_status_carries_the_error_code_and_title() -> None:
    [update] = await events("status_failed")
    assert update.status == "failed"
    assert update.error_code == "131047"
    assert update.reason is not None and update.reason.startswith("Re-engagement message: ")
    assert "24 hours" in update.reason


async def test_a_status_the_hub_does_not_track_is_skipped() -> None:
    data = load("status_read")
    data["entry"][0]["changes"][0]["value"]["statuses"][0]["status"] = "played"
    assert await events(json.dumps(data).encode()) == []
