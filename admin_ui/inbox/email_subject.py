"""Email subjects as people read them: without the ``Re:``/``Fwd:`` chains mail clients
add (in many languages) and mailing-list tags, so the timeline shows a subject only where
it really changes and the composer prefills one ``Re:``, never ``Re: Re:``."""

from __future__ import annotations

import re

# The prefixes the email plugin strips too (issue 14): Re, Aw, Sv, Antw, Fw, Fwd, Wg,
# Tr, Rv, Ref, optionally counted ("Re[2]:"), and "[list-tag]" prefixes.
_PREFIX = re.compile(
    r"^\s*((re|aw|sv|antw|fw|fwd|wg|tr|rv|ref)(\[\d+\])?:\s*|\[[^\]]{1,100}\]\s*)",
    re.IGNORECASE,
)
# A reply's own prefixes (English, German, Scandinavian, Dutch): a new reply replaces
# them by one "Re:"; a forward's and a list's tags stay, as mail clients keep them.
_REPLY_PREFIX = re.compile(r"^\s*(re|aw|sv|antw)(\[\d+\])?:\s*", re.IGNORECASE)
_SPACES = re.compile(r"\s+")


def normalize_subject(subject: str | None) -> str:
    """The subject without reply and forward prefixes or list tags, whitespace
    collapsed, lower-cased: two subjects of one thread compare equal."""
    text = subject or ""
    while True:
        stripped = _PREFIX.sub("", text, count=1)
        if stripped == text:
            break
        text = stripped
    return _SPACES.sub(" ", text).strip().lower()


def reply_subject(subject: str | None) -> str:
    """The subject of a reply: one ``Re: `` before the original's subject, whatever
    chain of reply prefixes it had; empty for a mail without a subject."""
    text = (subject or "").strip()
    while True:
        stripped = _REPLY_PREFIX.sub("", text, count=1).strip()
        if stripped == text:
            break
        text = stripped
    return f"Re: {_SPACES.sub(' ', text)}" if text else ""
