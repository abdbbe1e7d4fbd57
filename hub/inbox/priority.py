"""A conversation's priority: its names, and the number each is stored as."""

from __future__ import annotations

from typing import Literal, get_args

Priority = Literal["none", "low", "medium", "high", "urgent"]
# In rising order: the stored number is the index, so "urgent first" is a descending sort.
PRIORITIES: tuple[Priority, ...] = get_args(Priority)
LABELS: dict[Priority, str] = {
    "none": "No priority",
    "low": "Low",
    "medium": "Medium",
    "high": "High",
    "urgent": "Urgent",
}


def level(name: Priority) -> int:
    """The number a priority is stored as (none 0 … urgent 4)."""
    return PRIORITIES.index(name)


def name_of(stored: int) -> Priority:
    """The priority a stored number stands for (out-of-range numbers read as none)."""
    return PRIORITIES[stored] if 0 <= stored < len(PRIORITIES) else "none"
