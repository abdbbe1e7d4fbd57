"""Bodies of the comment endpoints, and the field types shared by the timeline's bodies."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from hub.inbox.comments import CommentRow, NewComment
from hub.store.models import Attachment
from hub.store.types import DbId


def _no_nul(value: str) -> str:
    # PostgreSQL text cannot hold NUL; refuse it here rather than fail in the database.
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


SafeText = Annotated[str, AfterValidator(_no_nul)]


class AttachmentRef(BaseModel):
    """An attachment as listed inside a message or a comment; fetch its bytes at
    ``GET /api/v1/attachments/{id}``."""

    id: int
    filename: str
    content_type: str
    size: int

    @classmethod
    def of(cls, attachment: Attachment) -> AttachmentRef:
        """Serialize a stored attachment."""
        a = attachment
        return cls(id=a.id, filename=a.filename, content_type=a.content_type, size=a.size)


class CommentBody(BaseModel):
    """``POST /api/v1/conversations/{id}/comments``."""

    model_config = ConfigDict(extra="forbid")

    body: SafeText = Field("", max_length=20_000)
    mentions: list[DbId] = Field(
        default_factory=list, description="ids of users to notify, besides the @names in the body"
    )
    attachments: list[DbId] = Field(
        default_factory=list, description="ids of the caller's uploads to attach"
    )

    def new(self) -> NewComment:
        """The comment this body describes."""
        return NewComment(
            body=self.body, mentions=list(self.mentions), attachments=list(self.attachments)
        )


class CommentOut(BaseModel):
    """An internal comment as the API shows it."""

    id: int
    conversation_id: int
    author_id: int | None
    body: str
    mentions: list[int]
    attachments: list[AttachmentRef]
    created_at: datetime

    @classmethod
    def of(cls, row: CommentRow) -> CommentOut:
        """Serialize a stored comment with its attachments."""
        c = row.comment
        return cls(
            id=c.id,
            conversation_id=c.conversation_id,
            author_id=c.author_id,
            body=c.body,
            mentions=list(c.mentions),
            attachments=[AttachmentRef.of(a) for a in row.attachments],
            created_at=c.created_at,
        )
