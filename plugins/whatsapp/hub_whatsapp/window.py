"""The 24-hour customer-service window: free-form replies only within 24 hours of the
customer's last inbound message; after that, only approved templates."""

from __future__ import annotations

from datetime import datetime, timedelta

WINDOW = timedelta(hours=24)


def window_closes_at(last_inbound_at: datetime | None) -> datetime | None:
    """When the window closes, or ``None`` when the customer never wrote (it is closed)."""
    return last_inbound_at + WINDOW if last_inbound_at is not None else None


def window_open(last_inbound_at: datetime | None, now: datetime) -> bool:
    """Whether a free-form (non-template) message may be sent at ``now``."""
    closes = window_closes_at(last_inbound_at)
    return closes is not None and now < closes
