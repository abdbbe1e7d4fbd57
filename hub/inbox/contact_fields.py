"""What a contact is made of: validated fields, E.164 phones, lowercased emails."""

from __future__ import annotations

import math
import re
from typing import Annotated, Any

import phonenumbers
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    PlainValidator,
    TypeAdapter,
    ValidationError,
    WithJsonSchema,
)

from hub.errors import Invalid
from hub.store.models import Contact


def no_nul(value: str) -> str:
    # PostgreSQL cannot store NUL in text: refuse it here rather than fail in the database.
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


Text = Annotated[str, AfterValidator(no_nul)]
# Custom field keys are the ones custom-inbox filters can name (``fields.<key>``).
FieldKey = Annotated[str, Field(pattern=r"^[A-Za-z0-9_]{1,64}$")]


def _scalar(value: Any) -> Any:
    # One check with one clear message, instead of a union's error per member type.
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError("must be a finite number")
        return value
    if isinstance(value, str):
        if len(value) > 5000:
            raise ValueError("must be at most 5000 characters")
        return no_nul(value)
    raise ValueError("must be a string, a number, true, false or null")


FieldValue = Annotated[
    str | bool | int | float | None,
    PlainValidator(_scalar),
    WithJsonSchema({"type": ["string", "number", "boolean", "null"]}),
]
NAME_LENGTH = 300  # the width of contacts.name
PART_LENGTH = 200  # the width of contacts.first_name and contacts.last_name

_EMAIL = TypeAdapter(EmailStr)
PHONE_QUERY = re.compile(r"^\+?[\d\s().\-/]+$")
_PARSE_ERRORS = {
    phonenumbers.NumberParseException.INVALID_COUNTRY_CODE: "unknown country code",
    phonenumbers.NumberParseException.NOT_A_NUMBER: "not a phone number",
    phonenumbers.NumberParseException.TOO_SHORT_AFTER_IDD: "too short",
    phonenumbers.NumberParseException.TOO_SHORT_NSN: "too short",
    phonenumbers.NumberParseException.TOO_LONG: "too long",
}


class ContactChanges(BaseModel):
    """What a caller may set on a contact. On update, only the fields given change;
    ``null`` (or an empty string) clears one."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: Text | None = Field(None, max_length=NAME_LENGTH)
    first_name: Text | None = Field(None, max_length=PART_LENGTH)
    last_name: Text | None = Field(None, max_length=PART_LENGTH)
    email: Text | None = Field(None, max_length=320, description="validated, stored lowercased")
    phone: Text | None = Field(
        None, max_length=64, description="stored in E.164; without a leading + it needs a region"
    )
    avatar_url: Text | None = Field(None, max_length=2000, pattern=r"^(https?://[^\s/?#]+\S*)?$")
    country: Text | None = Field(
        None, max_length=2, description="ISO 3166-1 alpha-2 code (e.g. DE), stored in capitals"
    )
    language: Text | None = Field(
        None, max_length=35, description="a BCP 47 language tag (e.g. de or pt-BR)"
    )
    fields: dict[FieldKey, FieldValue] | None = Field(
        None,
        max_length=100,
        description="custom fields, merged into the stored ones; a key set to null is removed",
    )


# --- normalization -------------------------------------------------------------------


def normalize_email(raw: str) -> str:
    """A valid email address, lowercased; 422 naming ``email`` otherwise."""
    try:
        return _EMAIL.validate_python(raw.strip()).lower()
    except ValidationError as err:
        raise Invalid("email", err.errors()[0]["msg"]) from None


_LANGUAGE = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$")


def normalize_country(raw: str) -> str:
    """A two-letter country code in capitals; 422 naming ``country`` otherwise."""
    code = raw.strip().upper()
    # phonenumbers' regions are the ISO 3166-1 codes countries are written with.
    if code not in phonenumbers.SUPPORTED_REGIONS:
        raise Invalid("country", "not a known two-letter country code such as DE or US")
    return code


def normalize_language(raw: str) -> str:
    """A BCP 47 tag with its customary case (``pt-BR``, ``zh-Hant``); 422 naming
    ``language`` when it does not look like one."""
    text = raw.strip().replace("_", "-")
    if not _LANGUAGE.match(text):
        raise Invalid("language", "not a language tag such as en, de or pt-BR")
    first, *rest = text.split("-")
    parts = [first.lower()]
    for part in rest:
        if len(part) == 2 and part.isalpha():
            parts.append(part.upper())  # a region
        elif len(part) == 4 and part.isalpha():
            parts.append(part.title())  # a script
        else:
            parts.append(part.lower())
    return "-".join(parts)


def check_region(region: str) -> str:
    """A region code phonenumbers knows (``DE``, ``US``, …); 422 naming ``default_region``."""
    code = region.strip().upper()
    if code not in phonenumbers.SUPPORTED_REGIONS:
        raise Invalid("default_region", "not a known two-letter region code such as DE or US")
    return code


def normalize_phone(raw: str, default_region: str | None = None) -> str:
    """The number in E.164 (``+4915123456789``); 422 naming ``phone`` when it is not valid.

    Without ``default_region`` the number must start with ``+`` and its country code; with
    one, a national number (``0151 23456789`` and ``DE``) is read as that region's.
    """
    text = raw.strip()
    if default_region is None and not text.startswith("+"):
        raise Invalid(
            "phone",
            "start with + and the country code (e.g. +49 151 23456789), "
            "or send default_region to read national numbers",
        )
    region = check_region(default_region) if default_region is not None else None
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as err:
        raise Invalid("phone", _PARSE_ERRORS.get(err.error_type, "not a phone number")) from None
    if not phonenumbers.is_valid_number(number):
        raise Invalid("phone", "not a valid phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def format_phone(e164: str) -> str:
    """A stored E.164 number as people read it (``+49 151 23456789``); the number as
    stored when it no longer parses (an old row, a changed numbering plan)."""
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def default_name(contact: Contact) -> str:
    """The name a contact shows when none was given: "first last", else email or phone."""
    full = " ".join(p for p in (contact.first_name, contact.last_name) if p)
    return (full or contact.email or contact.phone or "")[:NAME_LENGTH]


def split_name(name: str | None) -> tuple[str | None, str | None]:
    """A provider's display name as (first name, last name), for greetings.

    The first word is the first name and the rest the last name: "Ada King Lovelace"
    is Ada / King Lovelace, since a greeting needs the first word and surnames of two
    words ("García Márquez", "van Beethoven") are common. A single word is a first name.
    Words without a letter (emoji, dashes, digits) and words with an ``@`` (an email, a
    handle) are no part of a name, so a phone number or an email shown as the name
    gives no names at all rather than "Hi +44,".
    """
    words = [
        word
        for word in (name or "").split()
        if "@" not in word and any(char.isalpha() for char in word)
    ]
    if not words:
        return None, None
    last = " ".join(words[1:])[:PART_LENGTH]
    return words[0][:PART_LENGTH], last or None
