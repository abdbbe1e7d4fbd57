"""A small async client of the Graph API calls the channel makes, over an injected httpx client.

It knows nothing of the hub: it returns JSON or raises ``GraphError`` (Meta answered with
an error body or status) or ``GraphUnavailable`` (network trouble, no answer), and the
channel decides what each means for the operation at hand.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import httpx
from hub.contract.http import DownloadRefused, download, truncate

_TEMPLATE_PAGES = 20


class GraphUnavailable(Exception):
    """No usable answer: a timeout or a network error."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class GraphError(Exception):
    """Meta answered with an error: HTTP ``status`` and the ``error`` object's fields."""

    def __init__(
        self,
        status: int,
        code: int | None,
        message: str,
        *,
        subcode: int | None = None,
        details: str | None = None,
        transient: bool = False,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.subcode = subcode
        self.details = details
        self.transient = transient
        self.retry_after = retry_after

    def __str__(self) -> str:
        text = self.details if self.details and self.details not in self.message else None
        return f"{self.message} ({text})" if text else self.message


@dataclass(frozen=True)
class MediaInfo:
    """``GET /{media-id}``: where the file is (for five minutes) and what it is."""

    url: str
    mime_type: str | None
    file_size: int | None


class GraphClient:
    """The Graph API for one access token, at ``{base_url}/{version}``."""

    def __init__(self, http: httpx.AsyncClient, base_url: str, version: str, token: str) -> None:
        self._http = http
        self._root = f"{base_url}/{version}"
        self._auth = {"Authorization": f"Bearer {token}"}

    async def call(
        self,
        method: str,
        path: str,
        *,
        json_body: dict[str, Any] | None = None,
        params: dict[str, str] | None = None,
        files: dict[str, tuple[str, bytes, str]] | None = None,
        data: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """One Graph call; the JSON object answered, or a typed error."""
        try:
            response = await self._http.request(
                method,
                f"{self._root}/{path.lstrip('/')}",
                json=json_body,
                params=params,
                files=files,
                data=data,
                headers=self._auth,
            )
        # ``from None``: the httpx error holds the request, whose Authorization header is
        # the access token; its text is kept in the reason.
        except httpx.TimeoutException:
            raise GraphUnavailable("the Graph API did not answer in time") from None
        except httpx.HTTPError as err:
            raise GraphUnavailable(
                f"cannot reach the Graph API: {err or type(err).__name__}"
            ) from None
        body = _json(response)
        if not response.is_success or (isinstance(body, dict) and "error" in body):
            raise graph_error(response, body)
        if not isinstance(body, dict):
            raise GraphError(response.status_code, None, "the Graph API answered without JSON")
        return body

    async def phone_numbers(self, business_account_id: str) -> list[dict[str, Any]]:
        """The phone numbers of a WhatsApp Business Account (``GET /{waba}/phone_numbers``)."""
        answer = await self.call(
            "GET",
            f"{business_account_id}/phone_numbers",
            params={"fields": "id,display_phone_number,verified_name"},
        )
        data = answer.get("data")
        return [item for item in data if isinstance(item, dict)] if isinstance(data, list) else []

    async def send_message(self, phone_number_id: str, body: dict[str, Any]) -> dict[str, Any]:
        """``POST /{phone-number-id}/messages`` (messages, read receipts, typing)."""
        return await self.call("POST", f"{phone_number_id}/messages", json_body=body)

    async def upload_media(
        self, phone_number_id: str, filename: str, content_type: str, content: bytes
    ) -> str:
        """``POST /{phone-number-id}/media`` as multipart; the new media id."""
        answer = await self.call(
            "POST",
            f"{phone_number_id}/media",
            files={"file": (filename, content, content_type)},
            data={"messaging_product": "whatsapp", "type": content_type},
        )
        media_id = answer.get("id")
        if not isinstance(media_id, str) or not media_id:
            raise GraphError(200, None, "the media upload answered without an id")
        return media_id

    async def media_info(self, media_id: str, phone_number_id: str) -> MediaInfo:
        """``GET /{media-id}``: a download URL valid for five minutes, the type and size."""
        answer = await self.call("GET", media_id, params={"phone_number_id": phone_number_id})
        url = answer.get("url")
        if not isinstance(url, str) or not url:
            raise GraphError(200, None, "the media lookup answered without a url")
        size = answer.get("file_size")
        mime = answer.get("mime_type")
        return MediaInfo(
            url=url,
            mime_type=mime if isinstance(mime, str) else None,
            file_size=int(size) if isinstance(size, (int, str)) and str(size).isdigit() else None,
        )

    async def download(self, url: str, *, limit: int) -> bytes:
        """GET a media URL with the same Bearer token, stopping past ``limit`` bytes.

        Raises ``TooLarge`` (of ``hub.contract.http``) past the limit.
        """
        try:
            return await download(self._http, url, limit=limit, headers=self._auth)
        except DownloadRefused as err:
            raise graph_error(err.response, _json(err.response)) from err
        # ``from None``: the request holds the access token (see ``call``).
        except httpx.TimeoutException:
            raise GraphUnavailable("the media download timed out") from None
        except httpx.HTTPError as err:
            raise GraphUnavailable(
                f"the media download failed: {err or type(err).__name__}"
            ) from None

    async def templates(self, business_account_id: str) -> list[dict[str, Any]]:
        """Every message template of the account, following the ``after`` cursor."""
        found: list[dict[str, Any]] = []
        params = {"fields": "name,language,status,category,components", "limit": "100"}
        for _ in range(_TEMPLATE_PAGES):
            answer = await self.call(
                "GET", f"{business_account_id}/message_templates", params=params
            )
            data = answer.get("data")
            found += [t for t in data if isinstance(t, dict)] if isinstance(data, list) else []
            paging = answer.get("paging")
            after = paging.get("cursors", {}).get("after") if isinstance(paging, dict) else None
            if not isinstance(paging, dict) or not paging.get("next") or not after:
                break
            params = {**params, "after": str(after)}
        return found


def graph_error(response: httpx.Response, body: Any) -> GraphError:
    """The ``GraphError`` of an error answer: Meta's ``error`` object when there is one."""
    error = body.get("error") if isinstance(body, dict) else None
    retry = _regain_after(response)
    if not isinstance(error, dict):
        text = truncate(response.text) if response.content else ""
        return GraphError(
            response.status_code,
            None,
            text or f"HTTP {response.status_code} from the Graph API",
            retry_after=retry,
        )
    data = error.get("error_data")
    details = data.get("details") if isinstance(data, dict) else None
    code, subcode = error.get("code"), error.get("error_subcode")
    message = error.get("error_user_msg") or error.get("message") or "Graph API error"
    return GraphError(
        status=response.status_code,
        code=code if isinstance(code, int) else None,
        subcode=subcode if isinstance(subcode, int) else None,
        message=truncate(str(message)),
        details=truncate(details) if isinstance(details, str) and details.strip() else None,
        transient=error.get("is_transient") is True,
        retry_after=retry,
    )


def _regain_after(response: httpx.Response) -> float | None:
    """Seconds until access returns, from the usage headers' ``estimated_time_to_regain_access``
    (minutes); Meta sends no ``Retry-After``."""
    minutes: list[float] = []
    for name in ("X-Business-Use-Case-Usage", "X-App-Usage"):
        raw = response.headers.get(name)
        if raw:
            try:
                _collect(json.loads(raw), minutes)
            except (ValueError, RecursionError):
                continue
    longest = max(minutes, default=0.0)
    return longest * 60 if longest > 0 else None


def _collect(value: Any, into: list[float]) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "estimated_time_to_regain_access" and isinstance(item, (int, float)):
                into.append(float(item))
            else:
                _collect(item, into)
    elif isinstance(value, list):
        for item in value:
            _collect(item, into)


def _json(response: httpx.Response) -> Any:
    try:
        return json.loads(response.content)
    except (ValueError, RecursionError):
        return None
