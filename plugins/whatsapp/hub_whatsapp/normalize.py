"""Webhook body → normalized hub events: messages with their parts, and statuses.

Every array of the envelope is walked (entries, changes, contacts, messages, statuses):
Meta batches, and returning after the first message would drop the rest. A message that
does not fit its documented shape is kept as unsupported rather than failing the batch.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any, Literal

from hub.contract import (
    ChoicePart,
    ContactCardPart,
    ContentPart,
    InboundEvent,
    InboundMessage,
    LocationPart,
    MediaPart,
    ReactionPart,
    SenderProfile,
    StatusUpdate,
    StickerPart,
    TextPart,
    UnsupportedPart,
    WebhookRejected,
)
from pydantic import ValidationError

from hub_whatsapp.payloads import (
    ChangeValue,
    Envelope,
    MediaBody,
    WaContact,
    WireError,
    WireMessage,
    WireStatus,
)

logger = logging.getLogger(__name__)

OBJECT = "whatsapp_business_account"
_STATUSES: dict[str, Literal["sent", "delivered", "read", "failed"]] = {
    "sent": "sent",
    "delivered": "delivered",
    "read": "read",
    "failed": "failed",
}
_MEDIA_KINDS: dict[str, Literal["image", "video", "document"]] = {
    "image": "image",
    "video": "video",
    "document": "document",
}


def parse_envelope(body: bytes) -> Envelope:
    """The envelope of a webhook body; 400 when it is not one."""
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        raise WebhookRejected(400, "the body is not JSON") from None
    try:
        envelope = Envelope.model_validate(data)
    except ValidationError as err:
        raise WebhookRejected(400, f"not a WhatsApp webhook: {_first_error(err)}") from err
    if envelope.object != OBJECT:
        raise WebhookRejected(400, f"object must be {OBJECT!r}, not {envelope.object[:60]!r}")
    return envelope


def parse_events(body: bytes, phone_number_id: str) -> list[InboundEvent]:
    """Every message and status of the body that is for ``phone_number_id``."""
    events: list[InboundEvent] = []
    for entry in parse_envelope(body).entry:
        for change in entry.changes:
            if change.field != "messages":
                continue  # account_update, template status…: not conversation content
            try:
                value = ChangeValue.model_validate(change.value)
            except ValidationError as err:
                raise WebhookRejected(400, f"bad change value: {_first_error(err)}") from err
            number = value.metadata.phone_number_id if value.metadata else None
            if number is not None and number != phone_number_id:
                # One Meta app may serve several numbers through one callback URL.
                logger.info("ignoring a change for phone number %s", number)
                continue
            for error in value.errors:
                logger.warning("WhatsApp reported an error: %s", error.describe())
            events.extend(_messages(value))
            events.extend(_statuses(value))
    return events


def _messages(value: ChangeValue) -> list[InboundMessage]:
    profiles = {c.wa_id: c for c in value.contacts if c.wa_id}
    by_user = {c.user_id: c for c in value.contacts if c.user_id}
    only = value.contacts[0] if len(value.contacts) == 1 else None
    messages: list[InboundMessage] = []
    for raw in value.messages:
        try:
            wire = WireMessage.model_validate(raw)
        except ValidationError as err:
            fallback = _unreadable(raw, _first_error(err))
            if fallback is not None:
                messages.append(fallback)
            continue
        contact = profiles.get(wire.from_ or "") or by_user.get(wire.from_user_id or "") or only
        sender_id = wire.from_ or wire.from_user_id or (contact.wa_id if contact else None)
        if not sender_id:
            logger.warning("dropping WhatsApp message %s: it names no sender", wire.id)
            continue
        messages.append(
            InboundMessage(
                external_id=wire.id,
                sender_id=sender_id,
                sender=_profile(contact, wire.from_),
                timestamp=_time(wire.timestamp),
                reply_to_external_id=wire.context.id if wire.context else None,
                parts=tuple(parts_of(wire)),
                raw=raw,
            )
        )
    return messages


def _profile(contact: WaContact | None, phone: str | None) -> SenderProfile:
    name = contact.profile.name if contact and contact.profile else None
    wa_id = phone or (contact.wa_id if contact else None)
    return SenderProfile(name=name or None, phone=f"+{wa_id}" if wa_id else None)


def _unreadable(raw: dict[str, Any], problem: str) -> InboundMessage | None:
    """A message whose fields do not fit the documented shape, kept as unsupported."""
    external_id, sender = raw.get("id"), raw.get("from") or raw.get("from_user_id")
    if not isinstance(external_id, str) or not isinstance(sender, str):
        logger.warning("dropping an unreadable WhatsApp message: %s", problem)
        return None
    raw_type = raw.get("type") if isinstance(raw.get("type"), str) else "unknown"
    stamp = raw.get("timestamp")
    return InboundMessage(
        external_id=external_id,
        sender_id=sender,
        timestamp=_time(stamp if isinstance(stamp, str) else None),
        parts=(UnsupportedPart(raw_type=str(raw_type), description=f"unreadable: {problem}"),),
        raw=raw,
    )


def parts_of(wire: WireMessage) -> list[ContentPart]:
    """The content parts of one message, by its ``type``."""
    kind = wire.type
    if kind == "text" and wire.text is not None:
        return [TextPart(text=wire.text.body)]
    if kind in _MEDIA_KINDS and (body := getattr(wire, kind)) is not None:
        return [_media(_MEDIA_KINDS[kind], body)]
    if kind == "audio" and wire.audio is not None:
        return [_media("voice" if wire.audio.voice else "audio", wire.audio)]
    if kind == "sticker" and wire.sticker is not None:
        sticker = wire.sticker
        return [
            StickerPart(
                provider_media_id=sticker.id, mime_type=sticker.mime_type, animated=sticker.animated
            )
        ]
    if kind == "location" and wire.location is not None:
        place = wire.location
        return [
            LocationPart(
                latitude=place.latitude,
                longitude=place.longitude,
                name=place.name,
                address=place.address,
            )
        ]
    if kind == "contacts" and wire.contacts:
        return [_card(card) for card in wire.contacts]
    if kind == "interactive" and wire.interactive is not None:
        choice = wire.interactive.button_reply or wire.interactive.list_reply
        if choice is not None:
            text = f"{choice.title}\n{choice.description}" if choice.description else choice.title
            if choice.id:
                # The id is the Choice.id we sent (OutboundMessage.choices).
                return [ChoicePart(choice_id=choice.id[:200], title=text)]
            return [TextPart(text=text)]
    if kind == "button" and wire.button is not None:
        return [TextPart(text=wire.button.text or wire.button.payload or "")]
    if kind == "reaction" and wire.reaction is not None:
        return [
            ReactionPart(
                target_external_id=wire.reaction.message_id, emoji=wire.reaction.emoji or ""
            )
        ]
    if kind == "system" and wire.system is not None and wire.system.body:
        return [TextPart(text=wire.system.body)]
    return [_unsupported(wire)]


def _media(
    kind: Literal["image", "audio", "voice", "video", "document"], body: MediaBody
) -> MediaPart:
    return MediaPart(
        media_kind=kind,
        provider_media_id=body.id,
        mime_type=body.mime_type,
        filename=body.filename,
        sha256=body.sha256,
        caption=body.caption or None,
    )


def _card(card: Any) -> ContactCardPart:
    name = card.name
    full = None
    if name is not None:
        full = name.formatted_name or " ".join(p for p in (name.first_name, name.last_name) if p)
    phones = tuple(p.phone or f"+{p.wa_id}" for p in card.phones if p.phone or p.wa_id)
    emails = tuple(e.email for e in card.emails if e.email)
    return ContactCardPart(
        name=full or (phones[0] if phones else "contact"), phones=phones, emails=emails
    )


def _unsupported(wire: WireMessage) -> UnsupportedPart:
    """``unsupported``/``unknown`` (with Meta's error text) or a type we do not translate."""
    inner = (wire.unsupported or {}).get("type")
    raw_type = f"unsupported:{inner}" if isinstance(inner, str) and inner else wire.type
    if wire.type == "interactive" and wire.interactive is not None:
        raw_type = f"interactive:{wire.interactive.type}"
    description = "; ".join(error.describe() for error in wire.errors)
    return UnsupportedPart(
        raw_type=raw_type,
        description=description or f"a WhatsApp {wire.type} message the hub cannot show",
    )


def _statuses(value: ChangeValue) -> list[StatusUpdate]:
    updates: list[StatusUpdate] = []
    for raw in value.statuses:
        try:
            wire = WireStatus.model_validate(raw)
        except ValidationError as err:
            logger.warning("skipping an unreadable WhatsApp status: %s", _first_error(err))
            continue
        status = _STATUSES.get(wire.status)
        if status is None:
            continue  # e.g. "played" for voice messages: nothing the hub tracks
        first: WireError | None = wire.errors[0] if wire.errors else None
        updates.append(
            StatusUpdate(
                external_id=wire.id,
                status=status,
                timestamp=_time(wire.timestamp) if wire.timestamp else None,
                reason=first.describe() if first else None,
                error_code=str(first.code) if first and first.code is not None else None,
                raw=raw,
            )
        )
    return updates


def _time(stamp: str | None) -> datetime:
    """Unix seconds as text → an aware datetime; now when missing or unreadable."""
    try:
        return datetime.fromtimestamp(int(stamp or ""), tz=UTC)
    except (ValueError, OverflowError, OSError):
        return datetime.now(UTC)


def _first_error(err: ValidationError) -> str:
    first = err.errors()[0]
    where = ".".join(str(p) for p in first["loc"]) or "body"
    return f"{where}: {first['msg']}"
