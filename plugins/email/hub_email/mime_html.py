"""HTML to plain text (an HTML-only mail's ``TextPart.text``) and plain text to HTML (the
HTML alternative of a mail we send).

``html_to_text`` is for reading and search, not for display: the hub shows the sanitized
HTML itself. It drops scripts, styles and the head, turns block elements and ``<br>``
into line breaks and list items into ``- `` lines, and collapses HTML's insignificant
whitespace except inside ``<pre>``.
"""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

_BLOCKS = frozenset(
    [
        "address",
        "article",
        "aside",
        "blockquote",
        "dd",
        "div",
        "dl",
        "dt",
        "fieldset",
        "figcaption",
        "figure",
        "footer",
        "form",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "header",
        "hr",
        "main",
        "nav",
        "ol",
        "p",
        "pre",
        "section",
        "table",
        "tbody",
        "thead",
        "tfoot",
        "tr",
        "ul",
    ]
)
_SKIPPED = frozenset({"script", "style", "head", "title", "template"})
_SPACES = re.compile(r"[ \t\r\n\f]+")
_URL = re.compile(r"(?:https?://|www\.)[^\s<>\"']+", re.IGNORECASE)
_PRE_SPACE = "\x00"
_URL_TRAILING = ".,;:!?)]}'\""


class _TextCollector(HTMLParser):
    """Collects the readable text of an HTML document, keeping its line structure."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.chunks: list[str] = []
        self._skip_depth = 0
        self._pre_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        """Open a block (a line break), a list item, or a part to skip."""
        if tag in _SKIPPED:
            self._skip_depth += 1
        elif tag == "br":
            self.chunks.append("\n")
        elif tag == "li":
            self.chunks.append("\n- ")
        elif tag in _BLOCKS:
            self.chunks.append("\n")
            if tag == "pre":
                self._pre_depth += 1
        elif tag == "td" or tag == "th":
            self.chunks.append(" ")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        """A self-closed ``<br/>`` is a line break like ``<br>``."""
        if tag == "br":
            self.chunks.append("\n")

    def handle_endtag(self, tag: str) -> None:
        """Close a block (a line break) or a skipped part."""
        if tag in _SKIPPED:
            self._skip_depth = max(0, self._skip_depth - 1)
        elif tag in _BLOCKS:
            self.chunks.append("\n")
            if tag == "pre":
                self._pre_depth = max(0, self._pre_depth - 1)

    def handle_data(self, data: str) -> None:
        """Text, with HTML's collapsible whitespace collapsed outside ``<pre>``."""
        if self._skip_depth:
            return
        if self._pre_depth:
            # Kept from the line trimming below: a <pre>'s indentation is its content.
            self.chunks.append(data.replace(" ", _PRE_SPACE))
        else:
            self.chunks.append(_SPACES.sub(" ", data))


def html_to_text(markup: str) -> str:
    """The plain reading of an HTML body: its text with line breaks where blocks end."""
    collector = _TextCollector()
    collector.feed(markup)
    collector.close()
    # A no-break space reads (and is searched) as a space.
    joined = "".join(collector.chunks).replace("\xa0", " ")
    lines = [line.strip(" ") for line in joined.split("\n")]
    text = "\n".join(lines).replace(_PRE_SPACE, " ")
    return re.sub(r"\n{3,}", "\n\n", text).strip("\n")


def _linkify(line: str) -> str:
    """Escape one line of text, making its web addresses clickable links."""
    out: list[str] = []
    last = 0
    for match in _URL.finditer(line):
        url = match.group(0).rstrip(_URL_TRAILING)
        start, end = match.start(), match.start() + len(url)
        out.append(html.escape(line[last:start]))
        href = url if "://" in url else "https://" + url
        out.append(f'<a href="{html.escape(href, quote=True)}">{html.escape(url)}</a>')
        last = end
    out.append(html.escape(line[last:]))
    return "".join(out)


def text_to_html(text: str) -> str:
    """An HTML rendering of plain text: escaped, blank lines between paragraphs become
    ``<p>``, single line breaks ``<br>``, web addresses links."""
    paragraphs = re.split(r"\n[ \t]*\n", text.replace("\r\n", "\n").strip("\n"))
    body = "\n".join(
        "<p>" + "<br>\n".join(_linkify(line) for line in paragraph.split("\n")) + "</p>"
        for paragraph in paragraphs
        if paragraph.strip()
    )
    return f'<!DOCTYPE html>\n<html><head><meta charset="utf-8"></head><body>\n{body}\n</body></html>\n'
