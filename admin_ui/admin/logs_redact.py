"""A logged webhook request made fit to show on a page: secrets redacted, the body
pretty-printed when it is JSON.

The REST API already masks headers that carry static credentials
(``hub.api.schemas.inbound_log``); a page is read over someone's shoulder and ends up in
screenshots, so it also hides signatures (a leaked one with its body can be replayed to
the hub within its time window) and any query parameter or body field whose name looks
secret (a verify token in a handshake URL, a token in a form body).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import parse_qsl, urlencode, urlsplit

from hub.api.schemas.inbound_log import MASK, SECRET_HEADER, SHOWN_DEPTH, InboundLogEntryOut
from hub.inbox.nesting import json_depth
from hub.store.models import InboundLogEntry

# The API's credential names (authorization, cookie, token, secret, api-key, password),
# plus signatures, HMACs, credentials and private keys. Telegram's
# X-Telegram-Bot-Api-Secret-Token is caught twice over.
SECRET_NAME = re.compile(
    rf"{SECRET_HEADER.pattern}|signature|hmac|credential|private[-_]?key", re.I
)
SHOWN_CHARS = 100_000
BodyKind = Literal["empty", "json", "form", "text", "base64"]


def is_secret(name: object) -> bool:
    """Whether a header, parameter or field called ``name`` must not be shown."""
    return isinstance(name, str) and SECRET_NAME.search(name) is not None


def redact(value: Any) -> Any:
    """``value`` (decoded JSON) with the value of every secret-looking key masked."""
    if isinstance(value, dict):
        return {k: MASK if is_secret(k) else redact(v) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(item) for item in value]
    return value


def redact_pairs(pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Name/value pairs with the values of secret-looking names masked."""
    return [(name, MASK if is_secret(name) else value) for name, value in pairs]


def redact_url(url: str) -> str:
    """A request path with the values of secret-looking query parameters masked."""
    parts = urlsplit(url)
    if not parts.query:
        return url
    query = urlencode(redact_pairs(parse_qsl(parts.query, keep_blank_values=True)), safe="*")
    return parts._replace(query=query).geturl()


def pretty_json(value: Any) -> str:
    """Indented JSON, non-ASCII text kept readable."""
    return json.dumps(value, indent=2, ensure_ascii=False)


def _content_type(headers: dict[str, Any]) -> str:
    for name, value in headers.items():
        if name.lower() == "content-type" and isinstance(value, str):
            return value.split(";")[0].strip().lower()
    return ""


def _body(out: InboundLogEntryOut) -> tuple[BodyKind, str]:
    if out.body_encoding == "base64":
        return "base64", out.body
    if not out.body:
        return "empty", ""
    # A body stored before webhooks had a nesting bound may nest past what json and
    # redact (both recursive) handle: such a body is shown as plain text.
    if json_depth(out.body.encode()) <= SHOWN_DEPTH:
        try:
            return "json", pretty_json(redact(json.loads(out.body)))
        except ValueError:
            pass
    if _content_type(out.headers) == "application/x-www-form-urlencoded":
        pairs = redact_pairs(parse_qsl(out.body, keep_blank_values=True))
        return "form", "\n".join(f"{name} = {value}" for name, value in pairs)
    return "text", out.body


@dataclass(frozen=True)
class EntryView:
    """One inbound log entry as its page shows it; every secret already masked."""

    entry: InboundLogEntryOut
    path: str
    headers: list[tuple[str, str]]
    query: list[tuple[str, str]]
    body_kind: BodyKind
    body: str
    body_truncated: bool
    events: str | None

    @property
    def replayable(self) -> bool:
        """Whether the entry has verified events to replay (rejected ones have none)."""
        return self.entry.events is not None


def entry_view(entry: InboundLogEntry) -> EntryView:
    """The page's view of a stored entry."""
    out = InboundLogEntryOut.of(entry)
    kind, body = _body(out)
    return EntryView(
        entry=out,
        path=redact_url(out.path),
        headers=redact_pairs([(k, str(v)) for k, v in out.headers.items()]),
        query=redact_pairs([(k, str(v)) for k, v in out.query.items()]),
        body_kind=kind,
        body=body[:SHOWN_CHARS],
        body_truncated=len(body) > SHOWN_CHARS,
        events=None if out.events is None else pretty_json(redact(out.events)),
    )
