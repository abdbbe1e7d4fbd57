"""Every hook is documented with its exact signature and has a ``test_hook_<name>`` test.

The same discipline datasette keeps: a hook added without docs or a test fails here.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from hub.contract import hookspecs

ROOT = Path(__file__).resolve().parent.parent
HOOKS = [
    getattr(hookspecs, name)
    for name in dir(hookspecs)
    if name.startswith("hub_") and callable(getattr(hookspecs, name))
]


def signature_text(hook: Callable[..., Any]) -> str:
    """``name(a: T, b: U) -> R`` as written in the hookspec (annotations are strings)."""
    sig = inspect.signature(hook)
    params = ", ".join(f"{p.name}: {p.annotation}" for p in sig.parameters.values())
    return f"{hook.__name__}({params}) -> {sig.return_annotation}"


def test_there_are_hooks_to_check() -> None:
    assert len(HOOKS) >= 2


@pytest.mark.parametrize("hook", HOOKS, ids=lambda h: h.__name__)
def test_plugin_hooks_are_documented(hook: Callable[..., Any]) -> None:
    docs = (ROOT / "docs" / "plugins.md").read_text()
    headings = re.findall(r"^#+ `(.+)`$", docs, re.MULTILINE)
    assert signature_text(hook) in headings


@pytest.mark.parametrize("hook", HOOKS, ids=lambda h: h.__name__)
def test_plugin_hooks_have_tests(hook: Callable[..., Any]) -> None:
    sources = "\n".join(p.read_text() for p in (ROOT / "tests").glob("test_*.py"))
    assert f"def test_hook_{hook.__name__}(" in sources


@pytest.mark.parametrize("hook", HOOKS, ids=lambda h: h.__name__)
def test_plugin_hooks_have_docstrings(hook: Callable[..., Any]) -> None:
    assert (hook.__doc__ or "").strip()
