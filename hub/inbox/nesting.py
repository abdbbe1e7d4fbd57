"""Bounded nesting of provider JSON, without recursion.

Python's ``json`` and pydantic recurse into nested arrays and objects, so a payload
nested a few hundred deep makes them fail (``RecursionError``, "maximum serialization
depth exceeded"). ``json_depth`` measures a raw body before anything parses it, and
``rebuild`` copies a decoded value with a loop of its own, optionally cutting what lies
deeper than a bound, so no input can make either step fail.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from itertools import accumulate
from typing import Any

CLIPPED = "[nested too deep: not shown]"  # what stands for a cut subtree

# A JSON string (an unterminated one runs to the end): brackets inside one do not nest.
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"?', re.S)
_OPEN = frozenset(b"[{")
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")


def json_depth(body: bytes) -> int:
    """How deep arrays and objects nest in the JSON text ``body`` (0 for a scalar); the
    text need not be valid JSON, and it is not parsed."""
    brackets = _STRING.sub(b"", body).translate(None, _NOT_BRACKETS)
    if not brackets:
        return 0
    return max(0, *accumulate(1 if b in _OPEN else -1 for b in brackets))


def rebuild(
    value: Any, text: Callable[[str], str] | None = None, max_depth: int | None = None
) -> tuple[Any, bool]:
    """A copy of decoded JSON ``value`` (tuples become lists), with ``text`` applied to
    every string and key, and every array or object deeper than ``max_depth`` replaced by
    ``CLIPPED``; and whether anything was cut. Iterative: any depth is safe."""
    root: list[Any] = [None]
    clipped = False
    # (container to fill, key or index in it, value to copy, depth of that value)
    stack: list[tuple[Any, Any, Any, int]] = [(root, 0, value, 1)]
    while stack:
        parent, slot, item, depth = stack.pop()
        if isinstance(item, dict | list | tuple):
            if max_depth is not None and depth > max_depth:
                parent[slot], clipped = CLIPPED, True
                continue
            copy: Any
            if isinstance(item, dict):
                copy = {}
                for k, v in item.items():
                    name = text(k) if text is not None and isinstance(k, str) else k
                    copy[name] = None  # keeps the keys' order; filled from the stack
                    stack.append((copy, name, v, depth + 1))
            else:
                copy = [None] * len(item)
                stack.extend((copy, i, v, depth + 1) for i, v in enumerate(item))
            parent[slot] = copy
        elif isinstance(item, str) and text is not None:
            parent[slot] = text(item)
        else:
            parent[slot] = item
    return root[0], clipped
