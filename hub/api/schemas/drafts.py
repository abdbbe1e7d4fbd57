"""Bodies of the draft endpoints."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from hub.api.schemas.comments import SafeText
from hub.inbox.drafts import DraftText
from hub.media.store import MAX_FILES_PER_MESSAGE
from hub.store.models import Draft
from hub.store.types import DbId

BODY_LIMIT = 65_536


class DraftBody(BaseModel):
    """``PUT /api/v1/conversations/{id}/draft``: the whole draft, replacing any other."""

    model_config = ConfigDict(extra="forbid")

    mode: Literal["reply", "comment"] = Field(description="a reply or an internal comment")
    body: SafeText = Field("", max_length=BODY_LIMIT)
    subject: SafeText | None = Field(None, max_length=1000)
    channel_id: DbId | None = Field(None, description="the channel the reply would go out on")
    reply_to: DbId | None = Field(None, description="id of a message of this conversation")
    attachments: list[DbId] = Field(
        default_factory=list,
        max_length=MAX_FILES_PER_MESSAGE,
        description="ids of the caller's uploads waiting to be attached",
    )

    def text(self) -> DraftText:
        """The draft this body describes."""
        return DraftText(
            self.mode,
            self.body,
            self.subject,
            self.channel_id,
            self.reply_to,
            list(self.attachments),
        )


class DraftOut(BaseModel):
    """The caller's draft in a conversation."""

    conversation_id: int
    mode: Literal["reply", "comment"]
    body: str
    subject: str | None
    channel_id: int | None
    reply_to: int | None
    attachments: list[int]
    updated_at: datetime

    @classmethod
    def of(cls, draft: Draft) -> DraftOut:
        """Serialize a stored draft."""
        return cls(
            conversation_id=draft.conversation_id,
            mode="comment" if draft.mode == "comment" else "reply",
            body=draft.body,
            subject=draft.subject,
            channel_id=draft.channel_id,
            reply_to=draft.reply_to_message_id,
            attachments=list(draft.attachment_ids),
            updated_at=draft.updated_at,
        )


class DraftSummary(BaseModel):
    """A draft as the list shows it: where, which mode, when last saved."""

    conversation_id: int
    mode: Literal["reply", "comment"]
    updated_at: datetime

    @classmethod
    def of(cls, draft: Draft) -> DraftSummary:
        """Summarize a stored draft."""
        mode: Literal["reply", "comment"] = "comment" if draft.mode == "comment" else "reply"
        return cls(conversation_id=draft.conversation_id, mode=mode, updated_at=draft.updated_at)


class DraftQuery(BaseModel):
    """``GET /api/v1/drafts`` parameters."""

    model_config = ConfigDict(extra="forbid")

    cursor: str | None = Field(None, max_length=200)
    limit: int = Field(50, ge=1, le=100)
