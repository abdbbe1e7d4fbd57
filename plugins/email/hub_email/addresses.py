"""Email addresses as the channel stores them: the bare address, lower-cased.

A contact's identity on the channel is its address lower-cased (``Ana@Example.com`` and
``ana@example.com`` are one person in practice, though RFC 5321 lets a server tell local
parts apart by case). An agent may type ``Ana <ana@example.com>``: the name is dropped.
"""

from __future__ import annotations

from email.utils import getaddresses

from email_validator import EmailNotValidError, ValidatedEmail, validate_email


def address_of(text: str) -> str:
    """The lower-cased address in ``text``; ``ValueError`` saying what is wrong with it."""
    return _checked(text).normalized.lower()


def wire_address(text: str) -> str:
    """The address in ``text`` as SMTP and mail headers carry it: lower-cased, its domain
    in ASCII (``bücher.de`` → ``xn--bcher-kva.de``). A non-ASCII local part stays as it
    is: only a server with SMTPUTF8 (RFC 6531) takes it (``needs_smtputf8``)."""
    checked = _checked(text)
    return (checked.ascii_email or checked.normalized).lower()


def needs_smtputf8(address: str) -> bool:
    """Whether a wire address can travel only over SMTPUTF8."""
    return not address.isascii()


def _checked(text: str) -> ValidatedEmail:
    """The one address in ``text``, validated; ``ValueError`` saying what is wrong."""
    shown = text.strip()
    found = [] if any(char in text for char in "\r\n\0") else getaddresses([shown])
    if len(found) != 1 or not found[0][1]:
        raise ValueError(f"{shown!r} is not one email address such as ana@example.com")
    address = found[0][1]
    try:
        return validate_email(address, check_deliverability=False)
    except EmailNotValidError as err:
        raise ValueError(f"{address!r} is not a valid email address: {err}") from None
