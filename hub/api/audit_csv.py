"""The audit log as CSV: one row per entry, safe to open in a spreadsheet."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence

from hub.store.models import AuditEntry

COLUMNS = (
    "id",
    "at",
    "actor_id",
    "actor",
    "token_id",
    "token_name",
    "ip",
    "user_agent",
    "action",
    "target_type",
    "target_id",
    "target",
    "changes",
)
# A cell starting with one of these is a formula to a spreadsheet (CSV injection):
# such cells get a leading apostrophe, which spreadsheets show as text.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe(value: object) -> str:
    """A cell's text, defused when a spreadsheet would read it as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def _cells(entry: AuditEntry) -> list[str]:
    values: list[object] = [
        entry.id,
        entry.at.isoformat(),
        entry.actor_id,
        entry.actor_label,
        entry.token_id,
        entry.token_name,
        entry.ip,
        entry.user_agent,
        entry.action,
        entry.target_type,
        entry.target_id,
        entry.target_label,
        json.dumps(entry.changes or {}, ensure_ascii=False, sort_keys=True),
    ]
    return [safe(v) for v in values]


def header() -> str:
    """The CSV's first line."""
    return rows_text([])


def rows_text(entries: Sequence[AuditEntry], *, with_header: bool = True) -> str:
    """CSV lines for ``entries`` (after the header line when ``with_header``)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    if with_header:
        writer.writerow(COLUMNS)
    writer.writerows(_cells(e) for e in entries)
    return out.getvalue()
