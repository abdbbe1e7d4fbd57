"""Finds the words of a template that reach a reader without passing through gettext.

Jinja's lexer splits a template into its literal text and its tags; the text outside
``{% trans %}`` blocks (and outside ``{{ … }}``, whose strings go through ``_()``) is
then read as HTML: a text node with letters, or a user-facing attribute (title,
placeholder, aria-label, alt, data-required, a button's value) with letters, is a string
no catalog can translate.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

import jinja2

# An expression's or a translated block's place in the rebuilt text: never letters.
HOLE = "\u00a7"
# Words that are the same in every language (the product's name).
SAME_IN_EVERY_LANGUAGE = ("Inbox Hub",)
READ_ATTRIBUTES = frozenset({"title", "placeholder", "aria-label", "alt", "data-required"})
BUTTON_INPUTS = frozenset({"submit", "button", "reset"})
# Inside these, text is code or markup for machines, not words for a reader (or, in
# <kbd>, a key's label: "j", "K", "Esc"; a modifier whose name differs, "Ctrl" / "Strg",
# is still marked).
SKIPPED = frozenset({"script", "style", "code", "kbd"})
LETTER = re.compile(r"[^\W\d_]")
# Attributes written outside a tag, as a macro that adds them to its caller's tag does.
LOOSE_ATTRIBUTE = re.compile(r'([\w:-]+)="([^"]*)"')


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(extensions=["jinja2.ext.i18n"])
    env.policies["ext.i18n.trimmed"] = True
    return env


def visible_text(source: str) -> str:
    """The template's literal text as a reader would get it untranslated: translated
    blocks and expressions become a placeholder, statements and comments vanish."""
    env = _environment()
    env.parse(source)  # a syntax error fails here, with Jinja's message
    out: list[str] = []
    in_trans = False
    in_block = False
    block_name: str | None = None
    for _, kind, value in env.lex(source):
        if kind == "block_begin":
            in_block, block_name = True, None
        elif kind == "block_end":
            in_block = False
        elif in_block and kind == "name" and block_name is None:
            block_name = value
            if value == "trans":
                in_trans = True
                out.append(HOLE)
            elif value == "endtrans":
                in_trans = False
        elif kind == "variable_begin" and not in_trans:
            out.append(HOLE)
        elif kind == "data" and not in_trans:
            out.append(value)
    return "".join(out)


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self._skipping: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in SKIPPED:
            self._skipping.append(tag)
        values = dict(attrs)
        for name, value in attrs:
            # A <button>'s value is never shown (its content is): a script's or the
            # form's data, like a dialog's returnValue ("merge", "cancel").
            shown = name in READ_ATTRIBUTES or (
                name == "value" and tag == "input" and values.get("type") in BUTTON_INPUTS
            )
            if shown and value and _has_words(value):
                self.found.append(f'<{tag} {name}="{value}">')

    def handle_endtag(self, tag: str) -> None:
        if self._skipping and self._skipping[-1] == tag:
            self._skipping.pop()

    def handle_data(self, data: str) -> None:
        if self._skipping:
            return
        for name, value in LOOSE_ATTRIBUTE.findall(data):
            if name in READ_ATTRIBUTES and _has_words(value):
                self.found.append(f'{name}="{value}"')
        text = LOOSE_ATTRIBUTE.sub("", data)
        if _has_words(text):
            self.found.append(text.strip())


def _has_words(text: str) -> bool:
    for same in SAME_IN_EVERY_LANGUAGE:
        text = text.replace(same, "")
    return LETTER.search(text.replace(HOLE, "")) is not None


def untranslated(source: str) -> list[str]:
    """Every piece of reader-facing text in ``source`` that is not marked for gettext."""
    reader = _Reader()
    reader.feed(visible_text(source))
    reader.close()
    return reader.found
