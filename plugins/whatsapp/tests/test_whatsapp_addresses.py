"""Reading a phone number an agent typed as the WhatsApp id to write to."""

from __future__ import annotations

import pytest

from hub_whatsapp.channel import WhatsAppChannel


@pytest.mark.parametrize(
    "typed",
    [
        "+49 151 23456789",
        "+49 (151) 2345-6789",
        "0049 151 23456789",
        "4915123456789",
        " +4915123456789 ",
    ],
)
def test_a_phone_number_becomes_the_wa_id_digits(typed: str) -> None:
    assert WhatsAppChannel.address_of(typed) == "4915123456789"


@pytest.mark.parametrize(
    ("typed", "says"),
    [
        ("", "country code"),
        ("rosa", "country code"),
        ("+1 555", "valid phone number"),
        ("+999 1234", "phone number"),
    ],
)
def test_what_is_not_a_number_is_refused_saying_how_to_write_one(typed: str, says: str) -> None:
    with pytest.raises(ValueError, match=says):
        WhatsAppChannel.address_of(typed)


def test_the_type_says_it_writes_first() -> None:
    assert WhatsAppChannel.supports("address_of")
