"""An email's body for the timeline: its HTML sanitized, and the quoted history of
earlier messages (``> …`` lines, a ``<blockquote>``, Gmail's and Thunderbird's quote
blocks) split off, to be folded away.

nh3 (Ammonia) keeps an allow-list of tags and attributes: no script, no event handler,
no style, no ``javascript:`` link; links get ``rel="noopener noreferrer"``. The page's
CSP (``img-src 'self' data:``) also stops remote images, so an email cannot tell its
sender that it was read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import nh3
from markupsafe import Markup

# Where the quoted history of an HTML email starts: the first blockquote or a mail
# client's quote block.
_HTML_QUOTE = re.compile(
    r"<blockquote\b|<div\b[^>]*\bclass=[\"'][^\"']*\b(gmail_quote|moz-cite-prefix)\b",
    re.IGNORECASE,
)
# "On Mon, 3 Mar 2025 at 10:00, Ada <ada@example.com> wrote:" and the ">" lines.
_TEXT_QUOTE = re.compile(r"^(On .{3,300} wrote:\s*$|>)", re.MULTILINE)


@dataclass(frozen=True)
class EmailBody:
    """An email's sanitized HTML, and its quoted history (None when it has none)."""

    html: Markup
    quoted: Markup | None


def clean(html: str) -> Markup:
    """``html`` with only harmless tags and attributes left."""
    return Markup(nh3.clean(html, link_rel="noopener noreferrer"))  # noqa: S704 - sanitized


def email_body(html: str) -> EmailBody:
    """The email's HTML, split at its quoted history; each half sanitized on its own,
    so a tag left open in one cannot swallow the other."""
    match = _HTML_QUOTE.search(html)
    if match is None or not html[: match.start()].strip():
        return EmailBody(clean(html), None)
    return EmailBody(clean(html[: match.start()]), clean(html[match.start() :]))


def split_quoted_text(text: str) -> tuple[str, str | None]:
    """A plain-text email's own words and its quoted history (None when none)."""
    match = _TEXT_QUOTE.search(text)
    if match is None or not text[: match.start()].strip():
        return text, None
    return text[: match.start()].rstrip(), text[match.start() :]
