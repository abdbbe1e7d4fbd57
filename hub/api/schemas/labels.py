"""Bodies of the label endpoints, and a label as conversations show it."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from hub.api.schemas.people import NamePageQuery, PatchBody
from hub.inbox.labels import DESCRIPTION_MAX, NAME_MAX, PALETTE, LabelChanges
from hub.store.models import Label
from hub.store.types import DbId

COLOURS = ", ".join(PALETTE)


class LabelRef(BaseModel):
    """A label on a conversation."""

    id: int
    name: str
    colour: str = Field(description=f"a palette key: {COLOURS}")

    @classmethod
    def of(cls, label: Label) -> LabelRef:
        """Serialize a stored label, briefly."""
        return cls(id=label.id, name=label.name, colour=label.colour)


class LabelOut(LabelRef):
    """A label."""

    description: str | None
    conversations: int = Field(description="how many conversations carry it")
    created_at: datetime
    updated_at: datetime

    @classmethod
    def with_usage(cls, label: Label, conversations: int) -> LabelOut:
        """Serialize a stored label with its usage count."""
        return cls(
            id=label.id,
            name=label.name,
            colour=label.colour,
            description=label.description,
            conversations=conversations,
            created_at=label.created_at,
            updated_at=label.updated_at,
        )


class LabelQuery(NamePageQuery):
    """``GET /api/v1/labels`` parameters."""

    q: str | None = Field(None, max_length=100, description="part of the name")


class LabelCreateBody(BaseModel):
    """``POST /api/v1/labels``."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=NAME_MAX, description="unique, whatever the case")
    colour: str = Field(max_length=16, description=f"one of {COLOURS}")
    description: str | None = Field(None, max_length=DESCRIPTION_MAX)


class LabelPatchBody(PatchBody):
    """``PATCH /api/v1/labels/{label_id}``: an empty ``description`` clears it."""

    name: str | None = Field(None, min_length=1, max_length=NAME_MAX)
    colour: str | None = Field(None, max_length=16, description=f"one of {COLOURS}")
    description: str | None = Field(None, max_length=DESCRIPTION_MAX)

    def changes(self) -> LabelChanges:
        """The fields given, as a domain update."""
        return LabelChanges(**self.model_dump(include=self.model_fields_set))


class LabelsBody(BaseModel):
    """``POST /api/v1/conversations/{id}/labels``."""

    model_config = ConfigDict(extra="forbid")

    label_ids: list[DbId] = Field(min_length=1, max_length=50)


class PaletteColourOut(BaseModel):
    """A colour of the label palette."""

    key: str
    name: str
