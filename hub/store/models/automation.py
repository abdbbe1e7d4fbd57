"""Automation: macros, the named lists of actions agents run on a conversation."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from hub.store.models.base import Base, Timestamped
from hub.store.types import Id, Json


class Macro(Timestamped, Base):
    """A named list of actions (``hub.automation.actions``); ``owner_id`` NULL is a
    shared macro everyone sees, otherwise it is that user's personal one."""

    __tablename__ = "macros"
    __table_args__ = (
        # "Shared plus mine", by name: the one list query.
        Index("ix_macros_owner_name", "owner_id", "name"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    # Deleting a user deletes their personal macros: nobody else could see or run them.
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    # The actions as the pydantic union dumps them ([{"type": "assign", ...}, ...]).
    actions: Mapped[list[dict[str, Any]]] = mapped_column(Json, default=list)
