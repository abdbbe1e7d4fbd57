"""Bytes to text for mail whose declared charset may be wrong, unknown or missing.

Mail in the wild declares ``utf-8`` over Latin-1 bytes, ``us-ascii`` over 8-bit text, a
charset Python does not know, or none at all. Decoding never raises: the declared charset
is tried strictly first, then UTF-8 (the most common truth), then charset-normalizer's
guess, and Latin-1 last, which maps every byte to some character so nothing is lost.
"""

from __future__ import annotations

import codecs

from charset_normalizer import from_bytes

# Aliases mail clients write that Python's codec registry does not know by that name.
_ALIASES = {
    "x-unknown": None,
    "unknown-8bit": None,
    "x-user-defined": None,
    "ks_c_5601-1987": "cp949",
    "iso-8859-8-i": "iso-8859-8",
    "windows-874": "cp874",
}


def known_charset(declared: str | None) -> str | None:
    """The codec name for a declared charset, or ``None`` when missing or unknown."""
    if not declared:
        return None
    name = declared.strip().strip('"').lower()
    if name in _ALIASES:
        return _ALIASES[name]
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def decode_text(payload: bytes, declared: str | None) -> str:
    """Decode ``payload``, trusting ``declared`` only when the bytes agree with it."""
    charset = known_charset(declared)
    for candidate in (charset, "utf-8"):
        if candidate is None:
            continue
        try:
            return payload.decode(candidate)
        except (UnicodeDecodeError, LookupError):
            continue
    best = from_bytes(payload).best()
    if best is not None:
        return str(best)
    return payload.decode("latin-1")
