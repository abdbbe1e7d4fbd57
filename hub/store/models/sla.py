"""Service levels: the SLA policies admins define (``hub.inbox.sla`` applies them)."""

from __future__ import annotations

from sqlalchemy import Boolean, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from hub.store.models.base import Base, Timestamped
from hub.store.types import Id


class SlaPolicy(Timestamped, Base):
    """Targets in minutes for a conversation's first reply, each next reply and its
    resolution (each optional), counted in calendar or business-hours minutes."""

    __tablename__ = "sla_policies"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    # The name case-folded: unique, as for labels (two admins saving at once).
    name_key: Mapped[str] = mapped_column(String(100), unique=True)
    first_response_minutes: Mapped[int | None] = mapped_column(Integer)
    next_response_minutes: Mapped[int | None] = mapped_column(Integer)
    resolution_minutes: Mapped[int | None] = mapped_column(Integer)
    business_hours: Mapped[bool] = mapped_column(Boolean, default=False)
