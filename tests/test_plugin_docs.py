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

from hub.contract import ChannelContext, ChannelType, CrmType, hookspecs

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


@pytest.mark.parametrize("hook", HOOKS, ids=lambda h: h.__name__)
def test_plugin_hooks_document_each_parameter_and_the_return(hook: Callable[..., Any]) -> None:
    doc = hook.__doc__ or ""
    for name in inspect.signature(hook).parameters:
        assert f":param {name}:" in doc, f"{hook.__name__} does not document {name}"
    assert ":return:" in doc


def test_firstresult_hooks_say_so() -> None:
    # pluggy keeps a spec's options on the function, under the project's name.
    firstresult = [h for h in HOOKS if getattr(h, "hub_spec", {}).get("firstresult")]
    assert firstresult, "hub_route_conversation is firstresult"
    for hook in firstresult:
        assert "first non-``None``" in (hook.__doc__ or ""), hook.__name__


def _public_methods(base: type) -> list[str]:
    return sorted(
        name
        for name, value in vars(base).items()
        if not name.startswith("_")
        and callable(getattr(base, name))
        and not isinstance(value, type)
    )


@pytest.mark.parametrize(
    ("base", "section"),
    [
        (ChannelType, "## `ChannelType`"),
        (CrmType, "## `CrmType`"),
        (ChannelContext, "## `ChannelType`"),
    ],
    ids=["ChannelType", "CrmType", "ChannelContext"],
)
def test_every_public_method_of_the_plugin_bases_is_documented(base: type, section: str) -> None:
    docs = (ROOT / "docs" / "plugins.md").read_text()
    start = docs.index(section)
    end = docs.find("\n## ", start + len(section))
    text = docs[start : end if end != -1 else None]
    missing = [name for name in _public_methods(base) if f"`{name}(" not in text]
    assert not missing, f"undocumented in {section}: {missing}"
