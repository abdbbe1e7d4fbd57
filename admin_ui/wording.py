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

from admin_ui.i18n import N_, ngettext
from admin_ui.i18n import gettext as _
from hub.api.bodies import validate

M = TypeVar("M", bound=BaseModel)
# Marked, not translated: a module-level constant exists before any request's language;
# whoever shows it passes it through gettext (``required()``).
REQUIRED = N_("This field is required.")


def required() -> str:
    """ "This field is required." in the page's language."""
    return _(REQUIRED)


def _min_text(ctx: Mapping[str, Any]) -> str:
    size = ctx.get("min_length", 1)
    if size == 1:
        return required()
    return ngettext("Use at least %(num)d character.", "Use at least %(num)d characters.", size) % {
        "num": size
    }


def _max_text(ctx: Mapping[str, Any]) -> str:
    size = ctx.get("max_length", 0)
    return ngettext("Use at most %(num)d character.", "Use at most %(num)d characters.", size) % {
        "num": size
    }


def _choose_one(ctx: Mapping[str, Any]) -> str:
    expected = ctx.get("expected") or _("the options")
    return _("Choose one of %(options)s.") % {"options": expected}


def _web_address(ctx: Mapping[str, Any]) -> str:
    return _("Enter a full web address, e.g. https://example.com.")


def _extra(ctx: Mapping[str, Any]) -> str:
    return _("This field is not expected here.")


def _whole_number(ctx: Mapping[str, Any]) -> str:
    return _("Enter a whole number.")


def _number(ctx: Mapping[str, Any]) -> str:
    return _("Enter a number.")


def _yes_or_no(ctx: Mapping[str, Any]) -> str:
    return _("Choose yes or no.")


def _date_and_time(ctx: Mapping[str, Any]) -> str:
    return _("Enter a date and time.")


# Pydantic error type → the sentence, built from the error's context (limits, reason),
# worded when called: in the language of the request that is validating.
WORDING: dict[str, Callable[[Mapping[str, Any]], str]] = {
    "missing": lambda ctx: required(),
    "string_too_short": _min_text,
    "string_too_long": _max_text,
    "too_short": lambda ctx: _("Choose at least %(num)s.") % {"num": ctx.get("min_length")},
    "too_long": lambda ctx: _("Choose at most %(num)s.") % {"num": ctx.get("max_length")},
    "string_type": lambda ctx: _("Enter text."),
    "literal_error": _choose_one,
    "enum": _choose_one,
    "bool_parsing": _yes_or_no,
    "bool_type": _yes_or_no,
    "int_parsing": _whole_number,
    "int_type": _whole_number,
    "int_from_float": _whole_number,
    "float_parsing": _number,
    "float_type": _number,
    "greater_than": lambda ctx: _("Enter a number above %(num)s.") % {"num": ctx.get("gt")},
    "greater_than_equal": lambda ctx: _("Enter %(num)s or more.") % {"num": ctx.get("ge")},
    "less_than": lambda ctx: _("Enter a number below %(num)s.") % {"num": ctx.get("lt")},
    "less_than_equal": lambda ctx: _("Enter %(num)s or less.") % {"num": ctx.get("le")},
    "url_parsing": _web_address,
    "url_scheme": _web_address,
    "datetime_from_date_parsing": _date_and_time,
    "datetime_parsing": _date_and_time,
    "extra_forbidden": _extra,
    "string_pattern_mismatch": lambda ctx: _("Use only the characters this field allows."),
}
EMAIL = re.compile(r"^value is not a valid email address: ?(.*)$", re.S)
# pydantic's sentences, for messages that reach a page only as text.
TEXT_PATTERNS: list[tuple[re.Pattern[str], Callable[[re.Match[str]], str]]] = [
    (re.compile(r"^Field required$"), lambda m: required()),
    (
        re.compile(r"^String should have at least (\d+) characters?$"),
        lambda m: _min_text({"min_length": int(m.group(1))}),
    ),
    (
        re.compile(r"^String should have at most (\d+) characters?$"),
        lambda m: _max_text({"max_length": int(m.group(1))}),
    ),
    (re.compile(r"^Input should be a valid integer.*$"), lambda m: _whole_number({})),
    (re.compile(r"^Input should be a valid number.*$"), lambda m: _number({})),
    (re.compile(r"^Input should be a valid URL.*$"), lambda m: _web_address({})),
    (
        re.compile(r"^Input should be ((?:'[^']*'(?:, | or )?)+)$"),
        lambda m: _choose_one({"expected": m.group(1)}),
    ),
    (re.compile(r"^Extra inputs are not permitted$"), lambda m: _extra({})),
]
# The roles as the UI names them (the header, the profile).
ROLE_NAMES: dict[str, str] = {
    "owner": N_("Owner"),
    "manager": N_("Manager"),
    "agent": N_("Agent"),
}


def role_name(role: str) -> str:
    """A role's name in the page's language ("Agent"; an unknown role as it is stored)."""
    return _(ROLE_NAMES[role]) if role in ROLE_NAMES else role


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
    example = _("Enter an email address like name@example.com.")
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
