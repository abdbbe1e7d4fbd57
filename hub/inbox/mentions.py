"""``@name`` mentions in a comment's text, resolved to users on the server.

An ``@`` starts a mention when it starts a word: at the start of the text, or after a
space or an opening bracket or quote, and followed by a letter or digit. So
``write to ann@example.com`` and ``https://x.example/@ann`` hold none, and `` `@ann` ``
in backticks is the way to write one that is not meant.

A mention names one of the users who may be mentioned (active, able to see the
conversation) by their display name, its first word, or their email, ignoring case.
The longest name that fits wins, so ``@Olivia Pope`` is Olivia Pope even when there is
an Olivia Benson, and a name ends where a word does: ``@Olivia,`` and ``@Olivia's`` are
Olivia, ``@Olivia-Jane`` is not. A mention that names no one, or several people, is
refused with a 422 naming it: silently notifying nobody is the failure this prevents.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from hub.errors import Invalid
from hub.store.models import User

# An @ at a word's start: not after a letter, digit, _, ., /, :, @ or a backtick.
_START = re.compile(r"""(?:^|(?<=[\s(\[{"'\u201c\u2018\u00ab]))@(?=[^\W_])""")
# What an unknown mention is called in the error: the word after the @.
_WORD = re.compile(r"[\w.+@-]*\w")
# After these, a following letter continues the word (an email, a hyphenated name).
_JOINERS = ".@-+_"


@dataclass(frozen=True)
class _Candidate:
    """One way of naming one user, lowercased for comparison."""

    key: str
    user: User


def has_mentions(body: str) -> bool:
    """Whether ``body`` has an ``@`` that starts a word (so users must be looked up)."""
    return _START.search(body) is not None


def _candidates(users: Sequence[User]) -> list[_Candidate]:
    found: list[_Candidate] = []
    for user in users:
        name = " ".join(user.name.split())
        keys = {name, name.split(" ", 1)[0] if name else "", user.email}
        found.extend(_Candidate(key.lower(), user) for key in keys if key)
    return found


def _ends_word(text: str, end: int) -> bool:
    """Whether a name that fits ``text`` up to ``end`` ends a word there."""
    if end >= len(text):
        return True
    after = text[end]
    if after.isalnum() or after == "_":
        return False
    follows = text[end + 1] if end + 1 < len(text) else ""
    return not (after in _JOINERS and (follows.isalnum() or follows == "_"))


def _who(text: str, start: int, candidates: Sequence[_Candidate]) -> tuple[int, list[User]]:
    """The longest name that fits ``text`` at ``start``: its length and its users."""
    best = 0
    users: list[User] = []
    for candidate in candidates:
        size = len(candidate.key)
        # Compared slice by slice: folding the whole text could shift the offsets.
        if size < best or text[start : start + size].lower() != candidate.key:
            continue
        if not _ends_word(text, start + size):
            continue
        if size > best:
            best, users = size, []
        if candidate.user not in users:
            users.append(candidate.user)
    return best, users


def resolve_mentions(body: str, users: Sequence[User], chosen: Collection[int] = ()) -> list[int]:
    """The ids of the users ``body`` mentions, in order of first mention.

    ``users`` are those who may be mentioned. A mention that fits several of them is
    settled by ``chosen`` (the ids the client sent) when exactly one of them is there;
    otherwise, as for a mention that fits no one, 422 naming ``body`` and every such
    mention.
    """
    candidates = _candidates(users)
    ids: dict[int, None] = {}
    problems: list[str] = []
    for match in _START.finditer(body):
        start = match.end()
        size, found = _who(body, start, candidates)
        if len(found) > 1:
            settled = [user for user in found if user.id in chosen]
            found = settled if len(settled) == 1 else found
        if len(found) == 1:
            ids.setdefault(found[0].id)
            continue
        word = _WORD.match(body, start)
        said = "@" + (body[start : start + size] if size else word.group() if word else "")
        if found:
            names = ", ".join(f"{user.name} <{user.email}>" for user in found)
            problems.append(f"{said} could be {names}: write the full name or the email")
        else:
            problems.append(f"{said} is no one who can see this conversation")
    if problems:
        raise Invalid("body", "; ".join(dict.fromkeys(problems)))
    return list(ids)
