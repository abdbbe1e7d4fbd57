"""Small PNG pictures drawn in Python, so the demo needs no download: a product photo is
a few coloured stripes on a background."""

from __future__ import annotations

import struct
import zlib

Colour = tuple[int, int, int]


def _chunk(kind: bytes, data: bytes) -> bytes:
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)


def striped_png(width: int, height: int, background: Colour, stripe: Colour) -> bytes:
    """A truecolour PNG: ``background`` with diagonal stripes of ``stripe``."""
    rows = bytearray()
    for y in range(height):
        rows.append(0)  # no filter
        for x in range(width):
            rows.extend(stripe if (x + y) // 12 % 3 == 0 else background)
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(bytes(rows), 9))
        + _chunk(b"IEND", b"")
    )
