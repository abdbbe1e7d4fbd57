"""The WhatsApp id of a phone number an agent typed, to write to a new contact."""

from __future__ import annotations

import phonenumbers

EXAMPLE = "+49 151 23456789"


def wa_id_of(text: str) -> str:
    """The digits of ``text`` in E.164 without the "+", as WhatsApp's ``wa_id`` and the
    ``from`` of inbound messages spell a number, so replies reach the same identity.

    Spaces, dashes and brackets are ignored; a number without "+" (or "00") is read as
    international all the same, as WhatsApp has no home country to read it in.
    Raises ``ValueError`` when it is not a valid phone number."""
    given = text.strip()
    if given.startswith("00"):
        given = "+" + given[2:]
    elif not given.startswith("+"):
        given = "+" + given
    try:
        number = phonenumbers.parse(given, None)
    except phonenumbers.NumberParseException as err:
        raise ValueError(
            f"not a phone number; write it with its country code, e.g. {EXAMPLE}"
        ) from err
    if not phonenumbers.is_valid_number(number):
        raise ValueError(
            f"not a valid phone number; write it with its country code, e.g. {EXAMPLE}"
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164).removeprefix("+")
