"""Parameters and results of ``GET /api/v1/search``."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from hub.inbox.search import MAX_QUERY_LENGTH, SearchHit
from hub.store.types import MAX_ID


class SearchParams(BaseModel):
    """``GET /api/v1/search`` parameters."""

    model_config = ConfigDict(extra="forbid")

    q: str = Field(
        max_length=MAX_QUERY_LENGTH,
        description="words to find; the last one also matches as a prefix",
    )
    types: str | None = Field(
        None,
        max_length=100,
        description="comma-separated subset of contacts,messages,comments (default: all; "
        "messages,comments within a conversation)",
    )
    conversation_id: int | None = Field(
        None, ge=1, le=MAX_ID, description="search only this conversation's messages and comments"
    )
    cursor: str | None = Field(None, max_length=200)
    limit: int = Field(25, ge=1, le=100)


class SearchHitOut(BaseModel):
    """One search result."""

    type: Literal["contact", "message", "comment"]
    id: int
    conversation_id: int | None = Field(description="null for contacts")
    contact_id: int
    snippet: str = Field(description="plain text around the match")
    at: datetime = Field(description="when the contact, message or comment was created")

    @classmethod
    def of(cls, hit: SearchHit) -> SearchHitOut:
        """Serialize a result."""
        return cls(
            type=hit.type,
            id=hit.id,
            conversation_id=hit.conversation_id,
            contact_id=hit.contact_id,
            snippet=hit.snippet,
            at=hit.at,
        )
