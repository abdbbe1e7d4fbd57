"""What became of one inbound event, as every intake module reports it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Outcome = Literal["stored", "duplicate", "unknown"]


@dataclass(frozen=True)
class Intake:
    """What became of one event: ``stored`` (new or changed), ``duplicate`` (already
    known, nothing changed) or ``unknown`` (a status of a message we do not have)."""

    outcome: Outcome
    message_id: int | None = None
    conversation_id: int | None = None
