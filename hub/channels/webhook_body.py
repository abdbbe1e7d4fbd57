"""What every webhook body must be before a plugin sees it: UTF-8 text, and JSON nested
no deeper than a bound.

The contract promises plugins a UTF-8 body; ``json.loads`` would otherwise quietly
decode UTF-16 or UTF-32 (it guesses from NUL bytes and byte-order marks). The nesting
bound keeps every later step — the plugin's parser, the stored events, the inbound-log
listing — far from the depth where Python and pydantic give up.
"""

from __future__ import annotations

from email.message import Message

from hub.contract.models import WebhookRequest
from hub.inbox.nesting import json_depth

UTF8_BOM = b"\xef\xbb\xbf"
_UTF8_NAMES = frozenset({"utf-8", "utf8"})


def _declared_charset(request: WebhookRequest) -> str | None:
    value = request.header("content-type")
    # The email parser costs more than the rest of the checks: only when there is a charset.
    if value is None or "charset" not in value.lower():
        return None
    parsed = Message()
    parsed["content-type"] = value
    charset = parsed.get_param("charset")
    return charset.strip().lower() if isinstance(charset, str) else None


def encoding_problem(request: WebhookRequest) -> str | None:
    """Why the body is not UTF-8 text (a UTF-8 byte-order mark is tolerated), or None."""
    charset = _declared_charset(request)
    if charset is not None and charset not in _UTF8_NAMES:
        return f"the body must be UTF-8; the request declares charset {charset!r}"
    # UTF-8 text carries no NUL byte (JSON escapes it, forms percent-encode it); NUL
    # bytes between characters are what UTF-16 and UTF-32 text looks like.
    if b"\x00" in request.body:
        return "the body must be UTF-8 text; it contains NUL bytes (UTF-16 or UTF-32?)"
    try:
        request.body.decode("utf-8")
    except UnicodeDecodeError as err:
        return f"the body must be UTF-8; byte {err.start} is not"
    return None


def depth_problem(request: WebhookRequest, max_depth: int) -> str | None:
    """Why a JSON body nests too deep, or None; bodies that are not JSON pass."""
    text = request.body.removeprefix(UTF8_BOM).lstrip()
    if not text.startswith((b"{", b"[")):
        return None
    if text.count(b"{") + text.count(b"[") <= max_depth:
        return None  # it cannot nest deeper than it has brackets: no need to parse it
    depth = json_depth(text)
    if depth > max_depth:
        return f"the JSON body nests {depth} deep; the limit is {max_depth} (HUB_WEBHOOK_MAX_DEPTH)"
    return None


def body_problem(request: WebhookRequest, max_depth: int) -> str | None:
    """Why the hub refuses the body before its plugin sees it (answered 400), or None."""
    return encoding_problem(request) or depth_problem(request, max_depth)
