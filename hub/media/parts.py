"""The media bookkeeping in a message part's stored JSON: which parts still wait for
their bytes, and the keys the media fetcher (``hub.channels.media_jobs``) adds."""

from __future__ import annotations

from typing import Any

MEDIA_PART_KINDS = ("media", "sticker")
# Keys this job adds to a part's JSON; stripped before the part is validated again.
BOOKKEEPING = (
    "attachment_id",
    "fetch_error",
    "fetch_attempts",
    "fetch_retry_at",
    "fetch_last_error",
)


def part_is_pending(part: dict[str, Any]) -> bool:
    """Whether a part's JSON is media still waiting for its bytes."""
    return (
        part.get("kind") in MEDIA_PART_KINDS
        and "attachment_id" not in part
        and "fetch_error" not in part
    )
