"""Where an email's own words end: its signature and the quoted history of earlier
messages, in plain text and in HTML, to be folded away in the timeline (the whole mail
stays one click away).

Only what is reliably recognizable is split off, because folding the sender's own words
away would hide what they wrote:

* quoted history: ``> …`` lines, "On … wrote:" (and its German, French, Spanish and
  Italian forms), "-----Original Message-----" and Outlook's "From: …" / "Sent: …"
  header block (text); the first ``<blockquote>``, Gmail's ``gmail_quote``,
  Thunderbird's ``moz-cite-prefix``, Outlook on the web's ``divRplyFwdMsg`` and
  Outlook's border-topped "From:" block (HTML);
* signature: the ``-- `` line of RFC 3676 (text); Gmail's ``gmail_signature``,
  Thunderbird's ``moz-signature``, Outlook's ``id="Signature"`` blocks (HTML); and in
  both, a last line such as "Sent from my iPhone" or "Get Outlook for Android".
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Where the quoted history of an HTML email starts. Inside a tag, ``[^<>]*``, never
# ``[^>]*``: a match attempt then stops at the next tag, so a mail of "<div <div <div …"
# (no ">") costs linear time, not quadratic.
_HTML_QUOTE = re.compile(
    r"<blockquote\b"
    r"|<div\b[^<>]*\bclass=[\"'][^\"'<>]*\b(gmail_quote|moz-cite-prefix)\b"
    r"|<div\b[^<>]*\bid=[\"']?(divRplyFwdMsg|appendonsend)\b"
    # Outlook: a thin grey line above the earlier mail's bold "From:".
    r"|<div\b[^<>]*\bstyle=[\"'][^\"'<>]*border-top:\s*solid\s+#(E1E1E1|B5C4DF)[^<>]*>"
    r"\s*<p\b[^<>]*>\s*<b>\s*(<span\b[^<>]*>\s*)?(From|Von|De|Da|Van):",
    re.IGNORECASE,
)
# "On Mon, 3 Mar 2025 at 10:00, Ada <ada@example.com> wrote:" (and its translations), an
# "Original Message" line, Outlook's "From:" line over "Sent:", and the ">" lines.
_TEXT_QUOTE = re.compile(
    r"^(On .{3,300} wrote:\s*$"
    r"|(Am|Le|El|Il) .{3,300} (schrieb|a écrit|escribió|ha scritto).{0,200}:\s*$"
    r"|-{2,}\s*(Original Message|Ursprüngliche Nachricht|Message d'origine)\s*-{2,}\s*$"
    r"|(From|Von|De): .{1,300}\n(Sent|Gesendet|Date|Datum|Envoyé): "
    r"|>)",
    re.MULTILINE,
)
# A mail client's signature block.
_HTML_SIGNATURE = re.compile(
    r"<div\b[^<>]*\b(class=[\"'][^\"'<>]*\b(gmail_signature|moz-signature)\b"
    r"|id=[\"']?signature\b)",
    re.IGNORECASE,
)
_TEXT_SIGNATURE = re.compile(r"^-- ?$", re.MULTILINE)
# A phone's or app's one-line signature, as the last words of the mail.
_ONE_LINER = (
    r"(Sent from my [\w .,'-]{1,40}|Sent from (Mail|Outlook|Yahoo Mail) for [\w .-]{1,20}"
    r"|Get Outlook for [\w .-]{1,20})"
)
_TEXT_ONE_LINER = re.compile(r"^" + _ONE_LINER + r"\s*\Z", re.MULTILINE | re.IGNORECASE)
# In HTML: with the tags that open its line, after a tag (or at the start), followed
# only by closing tags and line breaks.
_HTML_ONE_LINER = re.compile(
    r"(?:^|(?<=>))\s*(?:<(?:div|p|span|br|font)\b[^<>]*>\s*)*"
    + _ONE_LINER
    + r"\s*(?:</?(?:div|p|span|br|font)\b[^<>]*>\s*)*\Z",
    re.IGNORECASE,
)


# How far from the end of the sender's words a closing one-liner is looked for.
TAIL = 2000


@dataclass(frozen=True)
class Pieces:
    """A mail's own words, then its signature and its quoted history ("" when none)."""

    own: str
    signature: str = ""
    quoted: str = ""


def _cut(text: str, at: int | None) -> tuple[str, str]:
    """``text`` split at ``at``, unless that leaves nothing of the sender's own words."""
    if at is None or not text[:at].strip():
        return text, ""
    return text[:at], text[at:]


def _first(pattern: re.Pattern[str], text: str) -> int | None:
    match = pattern.search(text)
    return match.start() if match else None


def _signature_start(own: str, block: re.Pattern[str], one_liner: re.Pattern[str]) -> int | None:
    """Where the signature of ``own`` starts: a signature block, else a closing line.

    The closing line is looked for in the last ``TAIL`` characters only: it ends the
    mail, and a search from every tag of a long run of tags would take quadratic time
    (a hostile mail could make each page view slow)."""
    found = _first(block, own)
    if found is not None:
        return found
    start = max(0, len(own) - TAIL)
    found = _first(one_liner, own[start:])
    return None if found is None else start + found


def split_html(html: str) -> Pieces:
    """An HTML mail split into own words, signature and quoted history."""
    own, quoted = _cut(html, _first(_HTML_QUOTE, html))
    own, signature = _cut(own, _signature_start(own, _HTML_SIGNATURE, _HTML_ONE_LINER))
    return Pieces(own, signature, quoted)


def split_text(text: str) -> Pieces:
    """A plain-text mail split into own words, signature and quoted history (the own
    words without the blank lines that led to the rest)."""
    own, quoted = _cut(text, _first(_TEXT_QUOTE, text))
    own, signature = _cut(own, _signature_start(own, _TEXT_SIGNATURE, _TEXT_ONE_LINER))
    return Pieces(own.rstrip(), signature.strip(), quoted)
