"""Render the plugin templates into a new distribution folder.

Templates live in ``templates/common`` (every kind) and ``templates/<kind>``; a file's
path may hold ``__package__`` (the import package) and its name ends in ``.tmpl``, so
the templates are never linted, type-checked or collected as the hub's own code. Text is
rendered with ``string.Template`` (``${name}``): templates write a literal ``$`` as ``$$``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path
from string import Template
from typing import Literal

PluginKind = Literal["channel", "crm"]
KINDS: tuple[PluginKind, ...] = ("channel", "crm")
NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]{1,39}$")
SUFFIX = ".tmpl"


class ScaffoldError(Exception):
    """The plugin cannot be scaffolded as asked; the message says why."""


@dataclass(frozen=True)
class PluginNames:
    """Every name a scaffolded plugin derives from the one given."""

    name: str
    kind: PluginKind

    @property
    def package(self) -> str:
        """The import package, ``hub_<name>``."""
        return f"hub_{self.name}"

    @property
    def distribution(self) -> str:
        """The distribution published to PyPI, ``hub-<name>`` with dashes."""
        return f"hub-{self.name.replace('_', '-')}"

    @property
    def title(self) -> str:
        """The human name, ``Acme Chat`` for ``acme_chat``."""
        return " ".join(word.capitalize() for word in self.name.split("_") if word)

    @property
    def class_prefix(self) -> str:
        """The prefix of the class names, ``AcmeChat`` for ``acme_chat``."""
        return self.title.replace(" ", "")

    def variables(self) -> dict[str, str]:
        """The values the templates substitute."""
        return {
            "name": self.name,
            "kind": self.kind,
            "package": self.package,
            "distribution": self.distribution,
            "title": self.title,
            "class_prefix": self.class_prefix,
            "initial": self.title[:1],
        }


def check_name(name: str) -> str:
    """Return ``name`` if it is a valid plugin name, else raise ``ScaffoldError``."""
    if not NAME_PATTERN.fullmatch(name):
        raise ScaffoldError(
            f"invalid plugin name {name!r}: use 2 to 40 lowercase letters, digits and "
            "underscores, starting with a letter (e.g. acme_chat)"
        )
    return name


def scaffold(name: str, kind: PluginKind, dest: Path) -> Path:
    """Write a new ``kind`` plugin called ``name`` into ``dest/hub-<name>``; return it.

    Refuses a folder that already exists, so nothing is ever overwritten.
    """
    if kind not in KINDS:
        raise ScaffoldError(f"unknown kind {kind!r}: use one of {', '.join(KINDS)}")
    names = PluginNames(check_name(name), kind)
    root = dest / names.distribution
    if root.exists():
        raise ScaffoldError(f"{root} already exists: choose another name or --dest")
    rendered = _render_all(names)
    for relative, text in rendered.items():
        target = root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    return root


def _render_all(names: PluginNames) -> dict[Path, str]:
    """Every file of the plugin by its relative path, rendered (nothing written yet)."""
    base = files("hub.scaffold").joinpath("templates")
    variables = names.variables()
    rendered: dict[Path, str] = {}
    for folder in ("common", names.kind):
        for relative, source in _walk(base.joinpath(folder), Path()):
            path = Path(str(relative).replace("__package__", names.package).removesuffix(SUFFIX))
            rendered[path] = Template(source.read_text(encoding="utf-8")).substitute(variables)
    return rendered


def _walk(node: Traversable, relative: Path) -> list[tuple[Path, Traversable]]:
    found: list[tuple[Path, Traversable]] = []
    for child in sorted(node.iterdir(), key=lambda item: item.name):
        if child.name == "__pycache__":
            continue
        if child.is_dir():
            found.extend(_walk(child, relative / child.name))
        elif child.name.endswith(SUFFIX):
            found.append((relative / child.name, child))
    return found
