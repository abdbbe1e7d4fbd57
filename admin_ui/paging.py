"""Links of list pages: a list's URL with its filters, and its paging links."""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlencode


def list_url(path: str, params: Mapping[str, str | None]) -> str:
    """``path`` with the non-empty ``params`` as its query string."""
    kept = {key: value for key, value in params.items() if value}
    return f"{path}?{urlencode(kept)}" if kept else path


def page_links(
    path: str, params: Mapping[str, str | None], next_cursor: str | None, cursor: str | None
) -> dict[str, str | None]:
    """The next page's link (keeping the filters), and the first page's when not on it."""
    filters = {key: value for key, value in params.items() if key != "cursor"}
    return {
        "next_url": list_url(path, {**filters, "cursor": next_cursor}) if next_cursor else None,
        "first_url": list_url(path, filters) if cursor else None,
    }
