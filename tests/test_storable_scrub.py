"""``scrub``: NUL characters leave every string and key of provider data, however deep;
data without any is returned as it is (not copied), and look-alike text is kept."""

from __future__ import annotations

from typing import Any

from hub.inbox.storable import scrub


def test_nul_leaves_every_string_and_key() -> None:
    value = {"a\x00": ["x\x00y", {"deep": ("z\x00",)}], "n": 1, "none": None}
    assert scrub(value) == {"a": ["xy", {"deep": ["z"]}], "n": 1, "none": None}


def test_a_nul_nested_deeper_than_repr_goes_is_removed() -> None:
    root: list[Any] = []
    inner = root
    for _ in range(5000):
        inner.append([])
        inner = inner[0]
    inner.append("end\x00")
    cleaned = scrub(root)
    for _ in range(5000):
        cleaned = cleaned[0]
    assert cleaned == ["end"]


def test_data_without_nul_is_returned_as_it_is() -> None:
    value = {"headers": {"Content-Type": "application/json"}, "parts": [{"text": "hi"}]}
    assert scrub(value) is value


def test_the_text_of_an_escape_is_not_a_nul() -> None:
    value = {"text": "a literal \\x00 and \\u0000"}
    assert scrub(value) == value


def test_a_string_loses_its_nul() -> None:
    assert scrub("a\x00b") == "ab"
