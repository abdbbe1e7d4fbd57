"""A pure async client of the Telegram Bot API over an injected ``httpx.AsyncClient``.

It knows nothing of the hub: it answers a method's ``result`` or raises its own errors,
and the channel decides what each means for the operation at hand. Every answer is
``{"ok": true, "result": …}`` or ``{"ok": false, "error_code", "description",
"parameters"?}``, with the HTTP status equal to ``error_code``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import httpx
from hub.contract.http import DownloadRefused, TooLarge, download, retry_after, truncate


class BotApiError(Exception):
    """A Bot API call did not succeed; ``description`` is Telegram's own words."""

    def __init__(self, description: str) -> None:
        super().__init__(description)
        self.description = description


class BotApiRefused(BotApiError):
    """Telegram answered ``ok: false`` with a 4xx other than 429: repeating will not help."""

    def __init__(self, code: int, description: str) -> None:
        super().__init__(description)
        self.code = code


class BotApiUnavailable(BotApiError):
    """A 429 (``retry_after`` seconds), a 5xx, a timeout or a network error."""

    def __init__(self, description: str, *, retry_after: float | None = None) -> None:
        super().__init__(description)
        self.retry_after = retry_after


class FileTooLarge(BotApiError):
    """A download passed the size limit."""


@dataclass(frozen=True)
class Upload:
    """A file sent as a multipart part: the method's field name and its content."""

    field: str
    filename: str
    content_type: str
    content: bytes


class BotApiClient:
    """Calls one bot's methods and downloads its files."""

    def __init__(self, http: httpx.AsyncClient, base_url: str, token: str) -> None:
        self._http = http
        self._base = base_url.rstrip("/")
        self._token = token

    async def call(
        self,
        method: str,
        params: dict[str, Any] | None = None,
        *,
        upload: Upload | None = None,
        http_seconds: float | None = None,
    ) -> Any:
        """Call ``method`` with ``params`` (JSON, or multipart with ``upload``); return
        its ``result`` or raise a ``BotApiError``."""
        url = f"{self._base}/bot{self._token}/{method}"
        request_timeout = httpx.USE_CLIENT_DEFAULT if http_seconds is None else http_seconds
        try:
            if upload is None:
                response = await self._http.post(url, json=params or {}, timeout=request_timeout)
            else:
                # Multipart fields are text: nested values (reply_parameters) go as JSON.
                form = {
                    key: value if isinstance(value, str) else json.dumps(value)
                    for key, value in (params or {}).items()
                }
                files = {upload.field: (upload.filename, upload.content, upload.content_type)}
                response = await self._http.post(
                    url, data=form, files=files, timeout=request_timeout
                )
        # ``from None``: the httpx error's context holds the URL, and the URL the token.
        except httpx.TimeoutException:
            raise BotApiUnavailable(f"{method}: no answer from the Bot API in time") from None
        except httpx.HTTPError as err:
            raise BotApiUnavailable(
                f"{method}: cannot reach the Bot API: {_describe(err)}"
            ) from None
        return _result(method, response)

    async def download(self, file_path: str, *, limit: int | None) -> bytes:
        """GET ``/file/bot<token>/<file_path>``, stopping once it passes ``limit`` bytes."""
        url = f"{self._base}/file/bot{self._token}/{file_path.lstrip('/')}"
        try:
            return await download(self._http, url, limit=limit)
        except DownloadRefused as err:
            _result("download", err.response)
            raise  # _result raised for a refusal; this is never reached
        except TooLarge as err:
            raise FileTooLarge(str(err)) from err
        # ``from None`` below: the httpx error's text and context hold the URL, and the
        # URL holds the bot token.
        except httpx.TimeoutException:
            raise BotApiUnavailable("download: no answer from the Bot API in time") from None
        except httpx.HTTPError as err:
            raise BotApiUnavailable(
                f"download: cannot reach the Bot API: {_describe(err)}"
            ) from None


def _result(method: str, response: httpx.Response) -> Any:
    try:
        body = json.loads(response.content)
    except (ValueError, RecursionError):
        body = None
    if isinstance(body, dict) and body.get("ok") is True and response.is_success:
        return body.get("result")
    status = response.status_code
    code = status
    description = response.reason_phrase or f"HTTP {status}"
    after: float | None = None
    if isinstance(body, dict):
        if isinstance(body.get("error_code"), int):
            code = body["error_code"]
        if isinstance(body.get("description"), str) and body["description"].strip():
            description = body["description"]
        parameters = body.get("parameters")
        if isinstance(parameters, dict) and isinstance(parameters.get("retry_after"), int | float):
            after = float(parameters["retry_after"])
    wait = after if after is not None else retry_after(response)
    description = truncate(description)
    if code == 429 or status == 429:
        raise BotApiUnavailable(f"{method}: {description}", retry_after=wait)
    if status >= 500 or code >= 500 or code < 400:
        raise BotApiUnavailable(f"{method}: server error ({status}): {description}")
    raise BotApiRefused(code, description)


def _describe(err: httpx.HTTPError) -> str:
    # The token is part of every URL: never let an exception text carry it out.
    return type(err).__name__
