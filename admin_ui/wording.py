"""Validation errors in words a person acts on: the one place that turns pydantic's
wording ("String should have at least 10 characters") into a sentence ("Use at least 10
characters.").

Pages validate with ``validate_form`` (the REST API's ``validate``, worded by ``human``),
so the message comes from pydantic's error *type* and its context. Messages that reach a
page only as text (a service's 422, e.g. a channel's Config checked by the channel
service) go through ``human_text``, which recognises pydantic's common sentences; any
other text is kept, tidied into a sentence.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from pydantic import BaseModel
from pydantic_core import ErrorDetails

from hub.api.bodies import validate

M = TypeVar("M", bound=BaseModel)
REQUIRED = "This field is required."


def _plural(count: Any, one: str, many: str) -> str:
    return f"{count} {one if count == 1 else many}"


def _min_text(ctx: Mapping[str, Any]) -> str:
    size = ctx.get("min_length", 1)
    return REQUIRED if size == 1 else f"Use at least {_plural(size, 'character', 'characters')}."


# Pydantic error type → the sentence, built from the error's context (limits, reason).
WORDING: dict[str, Callable[[Mapping[str, Any]], str]] = {
    "missing": lambda ctx: REQUIRED,
    "string_too_short": _min_text,
    "string_too_long": lambda ctx: (
        f"Use at most {_plural(ctx.get('max_length'), 'character', 'characters')}."
    ),
    "too_short": lambda ctx: f"Choose at least {ctx.get('min_length')}.",
    "too_long": lambda ctx: f"Choose at most {ctx.get('max_length')}.",
    "string_type": lambda ctx: "Enter text.",
    "literal_error": lambda ctx: f"Choose one of {ctx.get('expected', 'the options')}.",
    "enum": lambda ctx: f"Choose one of {ctx.get('expected', 'the options')}.",
    "bool_parsing": lambda ctx: "Choose yes or no.",
    "bool_type": lambda ctx: "Choose yes or no.",
    "int_parsing": lambda ctx: "Enter a whole number.",
    "int_type": lambda ctx: "Enter a whole number.",
    "int_from_float": lambda ctx: "Enter a whole number.",
    "float_parsing": lambda ctx: "Enter a number.",
    "float_type": lambda ctx: "Enter a number.",
    "greater_than": lambda ctx: f"Enter a number above {ctx.get('gt')}.",
    "greater_than_equal": lambda ctx: f"Enter {ctx.get('ge')} or more.",
    "less_than": lambda ctx: f"Enter a number below {ctx.get('lt')}.",
    "less_than_equal": lambda ctx: f"Enter {ctx.get('le')} or less.",
    "url_parsing": lambda ctx: "Enter a full web address, e.g. https://example.com.",
    "url_scheme": lambda ctx: "Enter a full web address, e.g. https://example.com.",
    "datetime_from_date_parsing": lambda ctx: "Enter a date and time.",
    "datetime_parsing": lambda ctx: "Enter a date and time.",
    "extra_forbidden": lambda ctx: "This field is not expected here.",
    "string_pattern_mismatch": lambda ctx: "Use only the characters this field allows.",
}
EMAIL = re.compile(r"^value is not a valid email address: ?(.*)$", re.S)
# pydantic's sentences, for messages that reach a page only as text.
TEXT_PATTERNS: list[tuple[re.Pattern[str], Callable[[re.Match[str]], str]]] = [
    (re.compile(r"^Field required$"), lambda m: REQUIRED),
    (
        re.compile(r"^String should have at least (\d+) characters?$"),
        lambda m: _min_text({"min_length": int(m.group(1))}),
    ),
    (
        re.compile(r"^String should have at most (\d+) characters?$"),
        lambda m: WORDING["string_too_long"]({"max_length": int(m.group(1))}),
    ),
    (re.compile(r"^Input should be a valid integer.*$"), lambda m: "Enter a whole number."),
    (re.compile(r"^Input should be a valid number.*$"), lambda m: "Enter a number."),
    (re.compile(r"^Input should be a valid URL.*$"), lambda m: WORDING["url_parsing"]({})),
    (
        re.compile(r"^Input should be ((?:'[^']*'(?:, | or )?)+)$"),
        lambda m: f"Choose one of {m.group(1)}.",
    ),
    (re.compile(r"^Extra inputs are not permitted$"), lambda m: WORDING["extra_forbidden"]({})),
]


def sentence(text: str) -> str:
    """``text`` as a sentence: a capital first letter and a full stop."""
    text = text.strip()
    if not text:
        return text
    text = text[0].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."


def _email(message: str) -> str | None:
    found = EMAIL.match(message)
    if found is None:
        return None
    reason = found.group(1).strip()
    example = "Enter an email address like name@example.com."
    return f"{example} {sentence(reason)}" if reason else example


def human_text(message: str) -> str:
    """A validation message that arrived as text, in a person's words."""
    message = message.strip().removeprefix("Value error, ")
    email = _email(message)
    if email is not None:
        return email
    for pattern, words in TEXT_PATTERNS:
        found = pattern.match(message)
        if found is not None:
            return words(found)
    return sentence(message)


def human(error: ErrorDetails) -> str:
    """One pydantic error in a person's words, chosen by its type."""
    ctx: Mapping[str, Any] = error.get("ctx") or {}
    if error["type"] == "value_error":
        # A validator's own message (``ValueError("…")``), or the email check's reason.
        return human_text(str(error["msg"]))
    words = WORDING.get(error["type"])
    return words(ctx) if words is not None else human_text(str(error["msg"]))


def validate_form(model: type[M], data: Any) -> M:
    """Validate a form's values as ``model``, like the API does (422 naming every bad
    field, NUL characters refused), with messages in a person's words."""
    return validate(model, data, wording=human)
