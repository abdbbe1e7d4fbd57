"""The demo marker: a file in the data folder that ``hub demo`` writes, naming the demo's
channels. Without it the echo answers nothing, so a hub that never ran ``hub demo``
exposes no echo at all.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from hub.settings import Settings, ensure_data_dir

MARKER_FILE = "demo.json"


@dataclass(frozen=True)
class DemoMarker:
    """Which channels the echo serves, and up to which message the seeded history goes.

    Replies up to ``quiet_through`` (the seeded ones, delivered when the hub first runs)
    are acknowledged without an answer; ``None`` while the seeder still runs."""

    channel_ids: tuple[int, ...]
    quiet_through: int | None = None


def marker_path(settings: Settings) -> Path:
    """Where the marker lives: beside the SQLite database and the media."""
    return settings.data_dir / MARKER_FILE


def read_marker(settings: Settings) -> DemoMarker | None:
    """The marker, or None when this hub has no demo (or the file is unreadable)."""
    try:
        data = json.loads(marker_path(settings).read_text(encoding="utf-8"))
        ids = tuple(int(i) for i in data["channel_ids"])
        quiet = data.get("quiet_through")
        return DemoMarker(ids, int(quiet) if quiet is not None else None)
    except (OSError, ValueError, KeyError, TypeError):
        return None


def write_marker(settings: Settings, marker: DemoMarker) -> None:
    """Write the marker atomically (the echo may read it at any moment)."""
    ensure_data_dir(settings)
    path = marker_path(settings)
    temporary = path.with_suffix(".tmp")
    body = {"channel_ids": list(marker.channel_ids), "quiet_through": marker.quiet_through}
    temporary.write_text(json.dumps(body), encoding="utf-8")
    os.replace(temporary, path)
