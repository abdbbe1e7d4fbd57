"""Bodies of the snippet endpoints."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from hub.api.schemas.comments import AttachmentRef
from hub.api.schemas.messages import AttachmentOut
from hub.api.schemas.people import NamePageQuery, PatchBody
from hub.inbox.snippets import SnippetChanges
from hub.store.models import Attachment, Snippet
from hub.store.types import DbId

BODY_MAX = 10_000


class SnippetOut(BaseModel):
    """A snippet; ``shortcut`` is stored and shown without its ``/``."""

    id: int
    name: str
    shortcut: str
    body: str
    created_by: int | None
    created_at: datetime
    updated_at: datetime
    attachments: list[AttachmentRef] = Field(
        description="files added to the message when the snippet is used"
    )

    @classmethod
    def of(cls, snippet: Snippet, files: list[Attachment]) -> SnippetOut:
        """Serialize a stored snippet and its files."""
        return cls(
            id=snippet.id,
            name=snippet.name,
            shortcut=snippet.shortcut,
            body=snippet.body,
            created_by=snippet.created_by,
            created_at=snippet.created_at,
            updated_at=snippet.updated_at,
            attachments=[AttachmentRef.of(f) for f in files],
        )


class SnippetQuery(NamePageQuery):
    """``GET /api/v1/snippets`` parameters."""

    q: str | None = Field(
        None, max_length=100, description="part of the name, or the start of the shortcut"
    )


class SnippetCreateBody(BaseModel):
    """``POST /api/v1/snippets``."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=200)
    shortcut: str = Field(min_length=1, max_length=51, description="e.g. /thanks or thanks")
    body: str = Field(min_length=1, max_length=BODY_MAX)
    attachments: list[DbId] = Field(
        default_factory=list, description="ids of the caller's uploads to attach"
    )


class SnippetPatchBody(PatchBody):
    """``PATCH /api/v1/snippets/{snippet_id}``."""

    name: str | None = Field(None, min_length=1, max_length=200)
    shortcut: str | None = Field(None, min_length=1, max_length=51)
    body: str | None = Field(None, min_length=1, max_length=BODY_MAX)
    attachments: list[DbId] | None = Field(
        None,
        description="the snippet's files from now on: its own files listed stay, uploads "
        "of the caller's are attached, its files not listed are removed",
    )

    def changes(self) -> SnippetChanges:
        """The text fields given, as a domain update (``attachments`` apart)."""
        return SnippetChanges(**self.model_dump(include=self.model_fields_set - {"attachments"}))


class RenderBody(BaseModel):
    """``POST /api/v1/snippets/{snippet_id}/render``."""

    model_config = ConfigDict(extra="forbid")

    conversation_id: DbId


class RenderedOut(BaseModel):
    """A snippet rendered for one conversation, and fresh uploads of the caller's with
    the snippet's files, to attach to the message like any upload."""

    text: str
    attachments: list[AttachmentOut]


class VariableOut(BaseModel):
    """A variable a snippet body may use."""

    name: str = Field(description="as written in a body, e.g. $contact.first_name")
    description: str
