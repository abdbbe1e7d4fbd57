"""Where the channel stands in its IMAP folder: the poll cursor, stored by the core.

The core saves the cursor ``poll`` returns in the same transaction as the events it
came with, so it is exactly as far as the stored mail goes. It is JSON text::

    {"v": 1, "uidvalidity": 1796309766, "uid": 412, "retry": [377], "parser": 1}

``uid`` is the highest UID handed over (UIDs only grow within one UIDVALIDITY);
``uidvalidity`` says which numbering that UID belongs to (``null`` before the first
poll); ``retry`` holds the UIDs of mail the parser could not read (stored as a file
meanwhile), fetched again once ``parser`` differs from the running ``PARSER_VERSION``.
Text that is not such a cursor (damaged, or from an older layout) reads as "from the
start": the mail is read again and the core's dedupe by Message-ID drops what it has.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass

log = logging.getLogger(__name__)

VERSION = 1


@dataclass(frozen=True)
class Cursor:
    """The channel's position in its folder."""

    uidvalidity: int | None = None
    uid: int = 0
    retry: tuple[int, ...] = ()
    parser: int = 0

    def dump(self) -> str:
        """The cursor as the compact JSON text the core stores."""
        return json.dumps(
            {
                "v": VERSION,
                "uidvalidity": self.uidvalidity,
                "uid": self.uid,
                "retry": sorted(self.retry),
                "parser": self.parser,
            },
            separators=(",", ":"),
        )


def load(text: str | None, *, parser: int) -> Cursor:
    """The cursor stored as ``text``; a fresh one (at ``parser``) for ``None`` or text
    that is not a cursor of this layout."""
    if text is None:
        return Cursor(parser=parser)
    try:
        data = json.loads(text)
        if not isinstance(data, dict) or data.get("v") != VERSION:
            raise ValueError("not a version 1 cursor")
        uidvalidity = data["uidvalidity"]
        return Cursor(
            uidvalidity=None if uidvalidity is None else _count(uidvalidity),
            uid=_count(data["uid"]),
            retry=tuple(sorted({_count(uid) for uid in data.get("retry", [])})),
            parser=_count(data.get("parser", 0)),
        )
    except (ValueError, KeyError, TypeError) as err:
        log.warning("email poll cursor %r unreadable (%s): reading the folder again", text, err)
        return Cursor(parser=parser)


def _count(value: object) -> int:
    """A non-negative integer from JSON, or ValueError."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{value!r} is not a non-negative integer")
    return value
