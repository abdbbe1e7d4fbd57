"""Bodies of the snippet endpoints."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from hub.api.schemas.people import NamePageQuery, PatchBody
from hub.inbox.snippets import SnippetChanges
from hub.store.models import Snippet
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

    @classmethod
    def of(cls, snippet: Snippet) -> SnippetOut:
        """Serialize a stored snippet."""
        return cls.model_validate(snippet, from_attributes=True)


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


class SnippetPatchBody(PatchBody):
    """``PATCH /api/v1/snippets/{snippet_id}``."""

    name: str | None = Field(None, min_length=1, max_length=200)
    shortcut: str | None = Field(None, min_length=1, max_length=51)
    body: str | None = Field(None, min_length=1, max_length=BODY_MAX)

    def changes(self) -> SnippetChanges:
        """The fields given, as a domain update."""
        return SnippetChanges(**self.model_dump(include=self.model_fields_set))


class RenderBody(BaseModel):
    """``POST /api/v1/snippets/{snippet_id}/render``."""

    model_config = ConfigDict(extra="forbid")

    conversation_id: DbId


class RenderedOut(BaseModel):
    """A snippet rendered for one conversation."""

    text: str


class VariableOut(BaseModel):
    """A variable a snippet body may use."""

    name: str = Field(description="as written in a body, e.g. $contact.first_name")
    description: str
