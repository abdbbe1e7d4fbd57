"""The custom channel's HMAC signature: what is accepted, what is refused and why."""

from __future__ import annotations

import hashlib
import hmac

import pytest
from hub.contract import WebhookRejected

from hub_custom_channel.signing import (
    REPLAY_WINDOW_SECONDS,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    signature,
    signed_headers,
    verify,
)

SECRET = "test-signing-secret-0123456789abcdef"
BODY = b'{"type":"message","id":"m1"}'
NOW = 1_780_000_000


def headers_for(body: bytes = BODY, *, at: int = NOW, secret: str = SECRET) -> dict[str, str]:
    """Headers a correct service sends at unix time ``at``."""
    return {TIMESTAMP_HEADER: str(at), SIGNATURE_HEADER: signature(secret, at, body)}


def rejected(headers: dict[str, str], body: bytes = BODY) -> WebhookRejected:
    """The refusal of a request, failing the test if it was accepted."""
    with pytest.raises(WebhookRejected) as caught:
        verify(SECRET, headers, body, now=NOW)
    return caught.value


def test_signature_is_hmac_sha256_of_timestamp_dot_body_in_hex() -> None:
    expected = hmac.new(SECRET.encode(), f"{NOW}.".encode() + BODY, hashlib.sha256).hexdigest()
    assert signature(SECRET, NOW, BODY) == f"sha256={expected}"


def test_signed_headers_verify_with_the_same_secret() -> None:
    headers = signed_headers(SECRET, BODY, now=NOW)
    assert headers[TIMESTAMP_HEADER] == str(NOW)
    verify(SECRET, headers, BODY, now=NOW)


def test_header_names_are_case_insensitive_and_hex_case_is_ignored() -> None:
    good = headers_for()
    lowered = {
        TIMESTAMP_HEADER.lower(): good[TIMESTAMP_HEADER],
        SIGNATURE_HEADER.upper(): "sha256=" + good[SIGNATURE_HEADER][7:].upper(),
    }
    verify(SECRET, lowered, BODY, now=NOW)


@pytest.mark.parametrize("offset", [-REPLAY_WINDOW_SECONDS, 0, REPLAY_WINDOW_SECONDS])
def test_timestamps_inside_the_window_either_way_are_accepted(offset: int) -> None:
    verify(SECRET, headers_for(at=NOW + offset), BODY, now=NOW)


@pytest.mark.parametrize(
    ("offset", "direction"),
    [(-REPLAY_WINDOW_SECONDS - 1, "behind"), (REPLAY_WINDOW_SECONDS + 1, "ahead of")],
)
def test_timestamps_past_the_window_are_stale_with_a_clock_hint(
    offset: int, direction: str
) -> None:
    error = rejected(headers_for(at=NOW + offset))
    assert error.status == 403
    assert "stale" in error.reason
    assert f"{REPLAY_WINDOW_SECONDS + 1} seconds {direction}" in error.reason
    assert "5-minute" in error.reason
    assert "clock" in error.reason


@pytest.mark.parametrize("missing", [TIMESTAMP_HEADER, SIGNATURE_HEADER])
def test_a_missing_header_is_401_naming_it(missing: str) -> None:
    headers = headers_for()
    del headers[missing]
    error = rejected(headers)
    assert error.status == 401
    assert missing in error.reason


def test_no_headers_at_all_is_401_naming_both() -> None:
    error = rejected({})
    assert error.status == 401
    assert TIMESTAMP_HEADER in error.reason
    assert SIGNATURE_HEADER in error.reason


@pytest.mark.parametrize(
    ("header", "value"),
    [
        (TIMESTAMP_HEADER, "2026-05-01T12:00:00Z"),
        (TIMESTAMP_HEADER, "-17"),
        (TIMESTAMP_HEADER, "1780000000.5"),
        (SIGNATURE_HEADER, "sha1=" + "a" * 40),
        (SIGNATURE_HEADER, "sha512=" + "a" * 128),
        (SIGNATURE_HEADER, "a" * 64),
        (SIGNATURE_HEADER, "sha256=" + "g" * 64),
    ],
)
def test_a_malformed_header_is_401_naming_the_format(header: str, value: str) -> None:
    headers = headers_for()
    headers[header] = value
    error = rejected(headers)
    assert error.status == 401
    assert header in error.reason


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param(headers_for(secret="another-secret"), id="wrong secret"),
        pytest.param(headers_for(b'{"type":"message","id":"m2"}'), id="other body"),
        pytest.param(
            {TIMESTAMP_HEADER: str(NOW + 1), SIGNATURE_HEADER: signature(SECRET, NOW, BODY)},
            id="timestamp changed",
        ),
        pytest.param(
            {TIMESTAMP_HEADER: str(NOW), SIGNATURE_HEADER: signature(SECRET, "", BODY)},
            id="body without timestamp",
        ),
    ],
)
def test_a_wrong_signature_is_403(headers: dict[str, str]) -> None:
    error = rejected(headers)
    assert error.status == 403
    assert "signature does not match" in error.reason


def test_a_stale_request_with_a_wrong_signature_is_refused_for_the_signature() -> None:
    error = rejected(headers_for(at=NOW - 3600, secret="another-secret"))
    assert error.status == 403
    assert "signature does not match" in error.reason
