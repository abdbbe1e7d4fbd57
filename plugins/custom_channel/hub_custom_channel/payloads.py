"""The custom channel's wire format: the JSON a service posts and the JSON the hub posts.

Field limits match what the hub stores (ids 300 characters, an e-mail address 320, a
phone number 32), so a too-long value is refused here with its name, not later.
Unknown fields are ignored, so a service may send more than the hub reads; the whole
event is kept as the message's raw payload anyway.
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

# type/subtype with optional parameters; no commas, so it fits in a data: URL's header.
_MIME_WORD = r"[A-Za-z0-9!#$&^_.+-]+"
_MIME_TYPE = rf'^{_MIME_WORD}/{_MIME_WORD}(\s*;\s*{_MIME_WORD}=({_MIME_WORD}|"[^",]*"))*$'
_EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
_LATEST = datetime(3000, 1, 1, tzinfo=UTC)


def _number_as_text(value: object) -> object:
    # Services written in JavaScript often send numeric ids; they mean the same id.
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


def _rfc3339_text(value: object) -> object:
    # pydantic would read a number as unix time; the contract says RFC 3339 text.
    if not isinstance(value, str):
        raise ValueError("must be an RFC 3339 date-time text such as 2026-05-01T12:00:00Z")
    return value


ExternalId = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=300),
    BeforeValidator(_number_as_text),
]
Timestamp = Annotated[AwareDatetime, BeforeValidator(_rfc3339_text)]


class WireModel(BaseModel):
    """Base of the inbound wire models: unknown fields ignored, values never echoed."""

    model_config = ConfigDict(extra="ignore", frozen=True, hide_input_in_errors=True)


class Sender(WireModel):
    """Who wrote a message: the service's id for the person, and what it knows of them."""

    id: ExternalId
    name: Annotated[str, StringConstraints(strip_whitespace=True, max_length=300)] | None = None
    email: Annotated[str, StringConstraints(strip_whitespace=True, max_length=320)] | None = None
    phone: Annotated[str, StringConstraints(strip_whitespace=True, max_length=32)] | None = None


class Attachment(WireModel):
    """A file with a message: by ``url`` (the hub downloads it) or inline as base64 ``data``."""

    url: Annotated[str, StringConstraints(strip_whitespace=True, max_length=4000)] | None = None
    data: str | None = None
    filename: Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)] | None = None
    content_type: (
        Annotated[
            str,
            StringConstraints(
                strip_whitespace=True,
                to_lower=True,
                max_length=200,
                pattern=_MIME_TYPE,
            ),
        ]
        | None
    ) = None

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and not value.lower().startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL")
        return value

    @field_validator("data")
    @classmethod
    def _base64(cls, value: str | None) -> str | None:
        if value is None:
            return None
        compact = "".join(value.split())
        try:
            decoded = base64.b64decode(compact, validate=True)
        except (binascii.Error, ValueError):
            raise ValueError("must be standard base64 (A-Z a-z 0-9 + /, = padding)") from None
        if not decoded:
            raise ValueError("must not be empty")
        return compact

    @model_validator(mode="after")
    def _exactly_one_source(self) -> Attachment:
        if (self.url is None) == (self.data is None):
            raise ValueError("give exactly one of url or data")
        return self

    @property
    def size(self) -> int | None:
        """The decoded size of inline ``data``; None for a file by URL."""
        if self.data is None:
            return None
        padding = len(self.data) - len(self.data.rstrip("="))
        return len(self.data) * 3 // 4 - padding


class MessageEvent(WireModel):
    """``{"type": "message", ...}``: one message a contact sent through the service."""

    type: Literal["message"]
    id: ExternalId
    timestamp: Timestamp
    sender: Sender
    thread_id: ExternalId | None = None
    text: str | None = None
    attachments: Annotated[list[Attachment], Field(max_length=50)] = []
    reply_to: ExternalId | None = None

    @field_validator("timestamp")
    @classmethod
    def _plausible(cls, value: datetime) -> datetime:
        if not _EARLIEST <= value < _LATEST:
            raise ValueError("must be between 1970 and 3000")
        return value

    @model_validator(mode="after")
    def _has_content(self) -> MessageEvent:
        if not (self.text and self.text.strip()) and not self.attachments:
            raise ValueError("a message needs text or at least one attachment")
        return self


class StatusEvent(WireModel):
    """``{"type": "status", ...}``: what became of a reply the hub sent, by your id for it."""

    type: Literal["status"]
    id: ExternalId
    status: Literal["delivered", "read", "failed"]
    reason: Annotated[str, StringConstraints(max_length=2000)] | None = None
    timestamp: Timestamp | None = None


class OtherEvent(WireModel):
    """An event of a type this hub does not know; kept as an unsupported message."""

    type: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50)]
    id: ExternalId
    sender: Sender
    timestamp: Timestamp | None = None
    thread_id: ExternalId | None = None


# --- outbound ------------------------------------------------------------------------


class OutboundAttachmentBody(BaseModel):
    """One file of a reply: the service downloads it from ``url`` (a signed, expiring link)."""

    url: str
    filename: str
    content_type: str
    size: int


class OutboundBody(BaseModel):
    """The JSON the hub POSTs to the service's outbound URL for one agent reply."""

    type: Literal["message"] = "message"
    id: str
    conversation_id: int
    recipient: dict[str, str]
    thread_id: str | None
    text: str | None
    attachments: list[OutboundAttachmentBody]
    reply_to: str | None


def body_bytes(payload: BaseModel | dict[str, Any]) -> bytes:
    """The exact bytes sent (and signed): compact JSON in UTF-8."""
    data = payload.model_dump(mode="json") if isinstance(payload, BaseModel) else payload
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
