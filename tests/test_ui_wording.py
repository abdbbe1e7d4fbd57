"""Validation errors on pages are sentences a person acts on, never pydantic's wording."""

from __future__ import annotations

from typing import Any, Literal

import pytest
from pydantic import BaseModel, ConfigDict, EmailStr, Field, ValidationError, field_validator

from admin_ui.wording import human, human_text, sentence, validate_form
from hub.errors import HubError


class Form(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=5)
    password: str = Field("long enough", min_length=10)
    email: EmailStr = "a@example.com"
    mode: Literal["off", "optional", "mandatory"] = "off"
    count: int = Field(1, ge=1, le=100)
    ids: list[int] = Field(default_factory=list, max_length=2)
    code: str = "ab"

    @field_validator("code")
    @classmethod
    def _lowercase(cls, value: str) -> str:
        if value != value.lower():
            raise ValueError("use lowercase letters only")
        return value


def worded(data: dict[str, Any]) -> str:
    try:
        Form.model_validate(data)
    except ValidationError as err:
        assert len(err.errors()) == 1, err.errors()
        return human(err.errors()[0])
    raise AssertionError("valid")


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({}, "This field is required."),
        ({"name": ""}, "This field is required."),
        ({"name": "x" * 6}, "Use at most 5 characters."),
        ({"name": "x", "password": "short"}, "Use at least 10 characters."),
        ({"name": "x", "mode": "sometimes"}, "Choose one of 'off', 'optional' or 'mandatory'."),
        ({"name": "x", "count": "many"}, "Enter a whole number."),
        ({"name": "x", "count": 0}, "Enter 1 or more."),
        ({"name": "x", "count": 101}, "Enter 100 or less."),
        ({"name": "x", "ids": [1, 2, 3]}, "Choose at most 2."),
        ({"name": "x", "code": "AB"}, "Use lowercase letters only."),
        ({"name": "x", "extra": 1}, "This field is not expected here."),
    ],
)
def test_each_error_type_is_a_sentence(data: dict[str, Any], expected: str) -> None:
    assert worded(data) == expected


def test_a_bad_email_says_what_is_wrong_in_words() -> None:
    message = worded({"name": "x", "email": "ada-at-example.com"})
    assert message.startswith("Enter an email address like name@example.com.")
    assert "@-sign" in message and "value is not" not in message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Field required", "This field is required."),
        ("String should have at least 10 characters", "Use at least 10 characters."),
        ("String should have at least 1 character", "This field is required."),
        ("String should have at most 200 characters", "Use at most 200 characters."),
        ("Value error, must be an https:// URL", "Must be an https:// URL."),
        ("Input should be 'a' or 'b'", "Choose one of 'a' or 'b'."),
        ("no team with id 5", "No team with id 5."),
        ("Use at least 10 characters.", "Use at least 10 characters."),
    ],
)
def test_messages_that_arrive_as_text_are_worded_too(text: str, expected: str) -> None:
    assert human_text(text) == expected


def test_sentence_leaves_a_sentence_alone() -> None:
    assert sentence("Done!") == "Done!" and sentence("") == ""


def test_validate_form_words_every_field_and_still_refuses_nul_characters() -> None:
    with pytest.raises(HubError) as caught:
        validate_form(Form, {"name": "", "password": "short"})
    assert caught.value.status == 422
    assert caught.value.details == [
        {"field": "name", "message": "This field is required."},
        {"field": "password", "message": "Use at least 10 characters."},
    ]
    with pytest.raises(HubError) as nul:
        validate_form(Form, {"name": "a\x00b"})
    assert nul.value.details == [{"field": "name", "message": "must not contain NUL characters"}]
