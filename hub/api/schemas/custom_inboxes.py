"""Bodies of the custom inbox endpoints; the filters are ``CustomInboxFilters`` itself."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from hub.api.schemas.people import MAX_IDS, NamePageQuery, PatchBody
from hub.auth.visibility import Viewer
from hub.inbox.custom_inboxes import SharedInbox, Sharing
from hub.inbox.filters import CustomInboxFilters
from hub.store.types import DbId

BIGINT_MAX = 2**63 - 1


def _ids_in_range(filters: CustomInboxFilters) -> CustomInboxFilters:
    # The filters are used as SQL parameters later: an id beyond BIGINT would fail there.
    for name in ("channel_ids", "assignee_ids", "team_ids"):
        if any(not 1 <= value <= BIGINT_MAX for value in getattr(filters, name)):
            raise ValueError(f"{name}: ids are whole numbers from 1 to {BIGINT_MAX}")
    return filters


class ShareBody(BaseModel):
    """Who besides the creator gets the inbox: users, and every member of teams."""

    model_config = ConfigDict(extra="forbid")

    user_ids: list[DbId] = Field(default_factory=list, max_length=MAX_IDS)
    team_ids: list[DbId] = Field(default_factory=list, max_length=MAX_IDS)

    def sharing(self) -> Sharing:
        """As the domain holds it."""
        return Sharing(list(self.user_ids), list(self.team_ids))


class CustomInboxCreateBody(BaseModel):
    """``POST /api/v1/custom-inboxes``."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=200)
    filters: CustomInboxFilters = Field(default_factory=CustomInboxFilters)
    share: ShareBody = Field(default_factory=ShareBody)

    _check_ids = field_validator("filters")(_ids_in_range)


class CustomInboxPatchBody(PatchBody):
    """``PATCH /api/v1/custom-inboxes/{inbox_id}``: given filters and share replace the
    old ones whole."""

    name: str | None = Field(None, min_length=1, max_length=200)
    filters: CustomInboxFilters | None = None
    share: ShareBody | None = None

    @field_validator("filters")
    @classmethod
    def _filter_ids(cls, value: CustomInboxFilters | None) -> CustomInboxFilters | None:
        return None if value is None else _ids_in_range(value)


class CustomInboxQuery(NamePageQuery):
    """``GET /api/v1/custom-inboxes`` parameters."""

    scope: Literal["all", "mine", "others"] = Field(
        "all", description="mine: created by the caller; others: shared with them; all: both"
    )


class SharedWithOut(BaseModel):
    """The users and teams an inbox is shared with."""

    user_ids: list[int]
    team_ids: list[int]


class CustomInboxOut(BaseModel):
    """A custom inbox; its conversations are ``GET /api/v1/conversations?view=custom:<id>``."""

    id: int
    name: str
    filters: CustomInboxFilters
    owner_id: int
    shared_with: SharedWithOut
    editable: bool = Field(description="true only for its creator")
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, shared: SharedInbox, viewer: Viewer) -> CustomInboxOut:
        """Serialize an inbox as ``viewer`` sees it."""
        inbox = shared.inbox
        return cls(
            id=inbox.id,
            name=inbox.name,
            filters=CustomInboxFilters.model_validate(inbox.filters),
            owner_id=inbox.owner_id,
            shared_with=SharedWithOut(
                user_ids=shared.sharing.user_ids, team_ids=shared.sharing.team_ids
            ),
            editable=inbox.owner_id == viewer.id,
            created_at=inbox.created_at,
            updated_at=inbox.updated_at,
        )
