"""The UI's translations: every template string is marked, the German catalog is
complete, the template catalog matches the sources, and plural forms follow the
language's rule."""

from __future__ import annotations

from pathlib import Path

import pytest
from aiohttp import web
from babel.messages.catalog import Catalog
from babel.messages.frontend import CommandLineInterface
from babel.messages.pofile import read_po

from admin_ui.catalogs import LOCALE_DIR, po_path, translations_for, ui_locale
from admin_ui.i18n import activate, deactivate
from admin_ui.rendering import create_environment
from admin_ui.urls import PageUrls
from hub.inbox.user_locale import LANGUAGES
from tests.i18n_check import untranslated

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "admin_ui" / "templates"
POT = LOCALE_DIR / "messages.pot"


def _templates() -> list[str]:
    return sorted(str(path.relative_to(TEMPLATES)) for path in TEMPLATES.rglob("*.html"))


def _catalog(path: Path, locale: str | None = None) -> Catalog:
    with path.open("rb") as po:
        return read_po(po, locale=locale)


def _ids(catalog: Catalog) -> set[object]:
    return {message.id for message in catalog if message.id}


@pytest.mark.parametrize("name", _templates())
def test_every_reader_facing_string_of_a_template_is_marked(name: str) -> None:
    found = untranslated((TEMPLATES / name).read_text(encoding="utf-8"))
    assert found == [], f"{name}: wrap these in {{% trans %}} or _(): {found}"


@pytest.mark.parametrize(
    ("source", "found"),
    [
        ("<p>Hello</p>", ["Hello"]),
        (
            '<button type="button" title="Close">{{ _("Close") }}</button>',
            ['<button title="Close">'],
        ),
        ('<input type="submit" value="Save">', ['<input value="Save">']),
        (
            '<input name="q" placeholder="Search" aria-label="{{ _(\'Search\') }}">',
            ['<input placeholder="Search">'],
        ),
        ('{% if x %} aria-label="Open"{% endif %}', ['aria-label="Open"']),
        ("<p>{% trans %}Hello <b>{{ name }}</b>{% endtrans %}</p>", []),
        (
            "<p>{% trans count=n %}{{ count }} day{% pluralize %}{{ count }} days{% endtrans %}</p>",
            [],
        ),
        ('<p title="{{ _(\'Hi\') }}">{{ _("Hello") }} · 3 »</p>', []),
        ("<title>{% trans %}Log in{% endtrans %} · Inbox Hub</title>", []),
        ('<pre><code>Authorization: Bearer</code></pre><input type="text" value="x">', []),
    ],
)
def test_the_check_finds_unmarked_text(source: str, found: list[str]) -> None:
    assert untranslated(source) == found


def test_every_language_of_the_picker_has_a_catalog() -> None:
    for language in LANGUAGES:
        assert po_path(language).is_file(), language
    assert sorted(p.name for p in LOCALE_DIR.iterdir() if p.is_dir()) == sorted(LANGUAGES)


def test_the_template_catalog_is_up_to_date_with_the_sources(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fresh = tmp_path / "messages.pot"
    monkeypatch.chdir(ROOT)
    CommandLineInterface().run(
        [
            "pybabel",
            "-q",
            "extract",
            "-F",
            str(LOCALE_DIR / "babel.cfg"),
            "-k",
            "N_",
            "-o",
            str(fresh),
            ".",
        ]
    )
    committed, extracted = _ids(_catalog(POT)), _ids(_catalog(fresh))
    assert sorted(map(str, extracted - committed)) == [], "new strings: run `make messages`"
    assert sorted(map(str, committed - extracted)) == [], "gone strings: run `make messages`"


@pytest.mark.parametrize("language", [code for code in LANGUAGES if code != "en"])
def test_a_catalog_has_every_string_translated_and_none_fuzzy(language: str) -> None:
    template = _catalog(POT)
    catalog = _catalog(po_path(language), language)
    if language == "de":
        assert catalog.plural_forms == "nplurals=2; plural=(n != 1);"
    missing, empty, fuzzy, wrong_plurals = [], [], [], []
    for message in template:
        if not message.id:
            continue
        found = catalog.get(message.id, message.context)
        if found is None:
            missing.append(message.id)
            continue
        if found.fuzzy:
            fuzzy.append(message.id)
        strings = found.string if isinstance(found.string, tuple) else (found.string,)
        if not all(strings):
            empty.append(message.id)
        if message.pluralizable and len(strings) != catalog.num_plurals:
            wrong_plurals.append(message.id)
    assert missing == [], f"not in {language}: run `make messages`, then translate"
    assert empty == [], f"untranslated in {language}"
    assert fuzzy == [], f"fuzzy in {language}: check the translation, drop the flag"
    assert wrong_plurals == [], f"plural forms in {language}"
    broken = [(message.id, errors) for message, errors in catalog.check()]
    assert broken == [], "a translation breaks its placeholders"


@pytest.mark.parametrize(
    ("count", "english", "german"),
    [(1, "1 day", "1 Tag"), (2, "2 days", "2 Tage"), (0, "0 days", "0 Tage")],
)
def test_plural_forms_follow_the_language(count: int, english: str, german: str) -> None:
    env = create_environment(PageUrls(web.Application()))
    template = env.from_string('{{ ngettext("%(num)d day", "%(num)d days", count) }}')
    assert template.render(count=count) == english
    token = activate(ui_locale("de", "UTC"))
    try:
        assert template.render(count=count) == german
    finally:
        deactivate(token)
    assert (
        translations_for("de").ngettext("%(num)d day", "%(num)d days", count) % {"num": count}
        == german
    )
