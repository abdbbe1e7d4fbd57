"""Threading keys of an inbound mail: its references, Outlook's thread root, the
normalized subject.

The core joins a mail to a conversation by, in order: a reference it knows
(``In-Reply-To`` first, then ``References`` from the nearest to the oldest), then a
thread hint of the **same contact** (Outlook's ``Thread-Index`` root without a time
window, then the normalized subject within ``subject_thread_hours``). Every hint key
holds the sender's address, so replies of different people to one mailing never merge.
"""

from __future__ import annotations

import base64
import binascii
import re
from email.message import Message

from hub.contract import ThreadHint

from hub_email.mime_headers import header_text, message_ids

# Reply and forward prefixes of many languages (Re, AW/Antw German and Dutch, SV Nordic,
# WG German forward, TR French forward, RV Spanish forward, REF), optionally numbered
# ("Re[2]:"), a space before the colon tolerated (French "RE :"); and list tags.
_PREFIX = re.compile(
    r"^\s*(?:(?:re|aw|sv|antw|fw|fwd|wg|tr|rv|ref)\s*(?:\[\d+\])?\s*:\s*|\[[^\[\]]*\]\s*)",
    re.IGNORECASE,
)
_REPLY_PREFIX = re.compile(r"^\s*(?:re|aw|sv|antw)\s*(?:\[\d+\])?\s*:", re.IGNORECASE)
# Outlook's Thread-Index: 22 bytes for the thread's root (a date and a GUID), then 5
# bytes per reply; the root is the same in every mail of one thread.
_ROOT_BYTES = 22
_KEY_MAX = 300


def normalize_subject(subject: str | None) -> str:
    """The subject without reply/forward prefixes and list tags, whitespace collapsed:
    ``"AW: WG: [support] Re:  Rechnung"`` → ``"Rechnung"``."""
    text = " ".join((subject or "").split())
    while True:
        stripped = _PREFIX.sub("", text, count=1)
        if stripped == text:
            return text.strip()
        text = stripped


def has_reply_prefix(subject: str) -> bool:
    """Whether the subject already says it is a reply (``Re:``, ``AW:``, ``SV:``…)."""
    return _REPLY_PREFIX.match(subject) is not None


def outlook_thread_root(thread_index: str | None) -> str | None:
    """The root of an Outlook ``Thread-Index`` (base64 of its first 22 bytes), or
    ``None`` when the header is missing or not a thread index."""
    if not thread_index:
        return None
    compact = "".join(thread_index.split())
    try:
        decoded = base64.b64decode(compact + "=" * (-len(compact) % 4), validate=True)
    except (binascii.Error, ValueError):
        return None
    if len(decoded) < _ROOT_BYTES:
        return None
    return base64.b64encode(decoded[:_ROOT_BYTES]).decode("ascii")


def references_of(msg: Message, own_id: str | None = None) -> tuple[str, ...]:
    """The Message-IDs this mail follows, nearest first: ``In-Reply-To``, then
    ``References`` from last to first; deduplicated, the mail's own id left out."""
    ordered = message_ids(header_text(msg, "In-Reply-To"))
    ordered += list(reversed(message_ids(header_text(msg, "References"))))
    seen: set[str] = set() if own_id is None else {own_id}
    result: list[str] = []
    for found in ordered:
        if found not in seen:
            seen.add(found)
            result.append(found)
    return tuple(result)


def thread_hints(
    sender: str,
    subject: str | None,
    thread_index: str | None,
    subject_thread_hours: int | None,
) -> tuple[ThreadHint, ...]:
    """The hints of a mail from ``sender``: Outlook's thread root (no window), the
    normalized subject within ``subject_thread_hours`` (none when that is ``None`` or 0:
    subject threading off). Keys longer than the contract allows are cut."""
    hints: list[ThreadHint] = []
    root = outlook_thread_root(thread_index)
    if root is not None:
        key = f"outlook:{sender}:{root}"
        if len(key) <= _KEY_MAX:
            hints.append(ThreadHint(key=key))
    normalized = normalize_subject(subject).lower()
    if normalized and subject_thread_hours:
        key = f"subject:{sender}:{normalized}"[:_KEY_MAX]
        hints.append(ThreadHint(key=key, within_hours=subject_thread_hours))
    return tuple(hints)
