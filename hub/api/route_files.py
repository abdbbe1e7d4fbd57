"""Where the API's route tables are (``hub.api.lazy_routes``), and reading one."""

from __future__ import annotations

from pathlib import Path

from hub.api.lazy_routes import LazyRoute, read_table

TABLES = Path(__file__).parent / "route_tables"


def table(section: str) -> list[LazyRoute]:
    """The routes of ``section``: "api", "webhooks", "media" or "crm_webhooks"."""
    return read_table(TABLES / f"{section}.routes")
