"""Bodies of the inbound-log endpoints: the raw requests providers sent, and replays."""

from __future__ import annotations

import base64
import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from hub.api.schemas.time_window import TimeWindowQuery
from hub.channels.inbound import ReplayCounts
from hub.inbox.intake_result import Intake
from hub.inbox.nesting import CLIPPED, rebuild
from hub.store.models import InboundLogEntry
from hub.store.types import MAX_ID

Result = Literal["stored", "duplicate", "held", "rejected", "error"]
# Credentials a provider may send as a static header (unlike a signature, which is bound
# to one body and timestamp): shown masked, so reading the log never reveals them.
SECRET_HEADER = re.compile(r"authorization|cookie|token|secret|api[-_]?key|password", re.I)
MASK = "********"
# Stored events are shown down to this depth, deeper parts replaced by a marker: rows
# stored before webhooks had a nesting bound may nest past what pydantic serializes.
SHOWN_DEPTH = 128


def _headers(headers: dict[str, Any]) -> dict[str, Any]:
    return {k: MASK if SECRET_HEADER.search(k) else v for k, v in headers.items()}


class InboundLogQuery(TimeWindowQuery):
    """``GET /api/v1/inbound-log`` parameters."""

    channel_id: int | None = Field(
        None, ge=1, le=MAX_ID, description="only this channel's requests"
    )
    result: Result | None = Field(None, description="only requests with this result")
    limit: int = Field(25, ge=1, le=100)


class InboundLogEntryOut(BaseModel):
    """One raw inbound request and what became of it.

    ``body`` is the raw body as text when it is UTF-8 (``body_encoding: "text"``), else
    base64. Headers that carry static credentials (Authorization, cookies, tokens, API
    keys) are masked; signature headers are shown (they only fit their own body).
    """

    id: int
    channel_id: int | None
    received_at: datetime
    method: str
    path: str
    headers: dict[str, Any]
    query: dict[str, Any]
    body: str
    body_encoding: Literal["text", "base64"]
    body_size: int = Field(description="bytes in the whole body as received")
    body_sha256: str | None = Field(
        description="sha256 of the whole body (hex); null for entries logged before it was kept"
    )
    body_truncated: bool = Field(
        description="whether `body` is only a prefix (rejected requests keep the first "
        "HUB_REJECTED_BODY_BYTES)"
    )
    result: Result
    status_code: int
    reason: str | None
    event_count: int
    events: list[dict[str, Any]] | None
    events_clipped: bool = Field(
        description=f"whether events nest deeper than {SHOWN_DEPTH} and the deeper parts "
        f"are shown as {CLIPPED!r}"
    )
    replayed_at: datetime | None

    @classmethod
    def of(cls, entry: InboundLogEntry) -> InboundLogEntryOut:
        """Serialize a stored entry."""
        raw = bytes(entry.body or b"")
        try:
            body, encoding = raw.decode("utf-8"), "text"
        except UnicodeDecodeError:
            body, encoding = base64.b64encode(raw).decode("ascii"), "base64"
        events, clipped = rebuild(entry.events, max_depth=SHOWN_DEPTH)
        size = len(raw) if entry.body_size is None else entry.body_size
        return cls(
            id=entry.id,
            channel_id=entry.channel_id,
            received_at=entry.received_at,
            method=entry.method,
            path=entry.path,
            headers=_headers(dict(entry.headers or {})),
            query=dict(entry.query or {}),
            body=body,
            body_encoding=encoding,
            body_size=size,
            body_sha256=entry.body_sha256,
            body_truncated=size > len(raw),
            result=entry.result,
            status_code=entry.status_code,
            reason=entry.reason,
            event_count=entry.event_count,
            events=events,
            events_clipped=clipped,
            replayed_at=entry.replayed_at,
        )


class ReplayOut(BaseModel):
    """What replaying one entry did to its events: stored, duplicates (already in the
    inbox: replay is idempotent), and statuses of messages the hub does not have."""

    entry_id: int
    stored: int
    duplicates: int
    unknown: int

    @classmethod
    def of(cls, entry_id: int, intakes: Sequence[Intake]) -> ReplayOut:
        """Count one replay's outcomes."""
        counts = ReplayCounts()
        counts.add(intakes)
        return cls(
            entry_id=entry_id,
            stored=counts.stored,
            duplicates=counts.duplicates,
            unknown=counts.unknown,
        )


class ReplayFailureOut(BaseModel):
    """An entry a bulk replay could not replay, and why."""

    entry_id: int
    message: str


class ReplayHeldOut(BaseModel):
    """What replaying a channel's held entries did."""

    entries: int = Field(description="held entries replayed")
    stored: int
    duplicates: int
    unknown: int
    failed: int = Field(description="entries that could not be replayed (see failures)")
    failures: list[ReplayFailureOut]

    @classmethod
    def of(cls, counts: ReplayCounts) -> ReplayHeldOut:
        """Serialize the counts of a bulk replay."""
        return cls(
            entries=counts.entries,
            stored=counts.stored,
            duplicates=counts.duplicates,
            unknown=counts.unknown,
            failed=counts.failed,
            failures=[ReplayFailureOut(**f) for f in counts.failures],
        )
