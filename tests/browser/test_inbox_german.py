"""The agents' inbox in German: a browser that asks for German (Accept-Language: de) gets
the list, the open conversation, the composer and the words the scripts write in German,
under the same strict CSP, the conversation's actions fit one line at 1280 px, and
nothing overflows at a phone's width."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import log_in
from tests.browser.inbox_world import InboxWorld


@pytest.mark.parametrize("width", [1280, 390])
def test_the_inbox_speaks_german(
    page: Page, world: InboxWorld, snap: Callable[[str], None], width: int
) -> None:
    world.customer_writes("ada-lovelace", "Hallo, meine Bestellung #1042 ist nicht angekommen")
    csp_errors: list[str] = []
    page.on(
        "console",
        lambda message: (
            csp_errors.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    log_in(page, "owner@example.com")
    page.set_extra_http_headers({"Accept-Language": "de-DE,de;q=0.9,en;q=0.5"})
    page.set_viewport_size({"width": width, "height": 900})
    page.goto("/inbox")

    # The list: its tabs, sort, the row's "unassigned", and the empty pane.
    expect(page.get_by_role("navigation", name="Status")).to_contain_text("Offen")
    expect(page.get_by_role("navigation", name="Status")).to_contain_text("Zurückgestellt")
    expect(page.get_by_label("Sortierung")).to_contain_text("Neueste")
    rows = page.get_by_role("list", name="Alle")
    expect(rows).to_contain_text("Nicht zugewiesen")
    expect(page.get_by_role("checkbox", name="Ada Lovelace auswählen")).to_be_attached()
    if width > 600:
        expect(page.get_by_role("heading", name="Posteingang", level=2)).to_be_visible()
        expect(page.get_by_text("Wählen Sie eine Unterhaltung aus der Liste")).to_be_visible()
    _fits(page)
    snap("list")

    rows.get_by_role("link", name="Ada Lovelace").click()
    expect(page.get_by_role("heading", name="Ada Lovelace", level=2)).to_be_visible()
    # The pane's header and its actions.
    actions = page.get_by_role("toolbar", name="Aktionen der Unterhaltung")
    for name in ("Zuweisen", "Labels", "Priorität", "Schließen", "Zurückstellen"):
        expect(actions.get_by_role("button", name=name, exact=True)).to_be_visible()
    expect(page.locator("#pane-head .status")).to_have_text("offen")
    if width == 1280:  # a narrow pane: icons on one line, each named by its label
        expect(actions.get_by_role("button", name="Zusammenführen")).to_have_attribute(
            "title", "Zusammenführen"
        )
        tops = actions.locator("button:visible").evaluate_all(
            "(buttons) => buttons.map((b) => b.getBoundingClientRect().top)"
        )
        assert len(tops) >= 8 and len(set(tops)) == 1, f"the actions wrap: {tops}"
    # The composer.
    composer = page.get_by_role("form", name="Antworten")
    expect(composer.get_by_role("radio", name="Interner Kommentar")).to_be_attached()
    expect(composer.get_by_role("button", name="Senden")).to_be_visible()
    text = composer.get_by_role("textbox", name="Nachricht")
    expect(text).to_have_attribute("placeholder", re.compile(r"^Antwort schreiben"))
    # Words the scripts write: the day separator, the page title, the comment placeholder.
    expect(page.get_by_role("separator", name="Heute")).to_be_visible()
    expect(page).to_have_title(re.compile(r"^Ada Lovelace · Posteingang · Inbox Hub$"))
    composer.get_by_text("Interner Kommentar").click()
    expect(text).to_have_attribute("placeholder", re.compile(r"^Internen Kommentar schreiben"))
    composer.get_by_text("Antworten", exact=True).click()
    if width > 600:  # the contact panel beside the thread (a phone opens it on request)
        expect(page.get_by_role("tab", name=re.compile(r"^Frühere"))).to_be_visible()
        expect(page.get_by_role("button", name="Telefon bearbeiten")).to_be_visible()
    _fits(page)
    snap("conversation")

    # A reply still goes out, in whatever language the agent writes.
    text.fill("Das tut mir leid, Ada: sie geht heute raus.")
    composer.get_by_role("button", name="Senden").click()
    expect(page.get_by_role("log")).to_contain_text("Das tut mir leid, Ada")
    assert csp_errors == []


def _fits(page: Page) -> None:
    """Nothing wider than the window: German's long words wrap, they do not push the page,
    a button's text or a button off either edge (a row that scrolls sideways on purpose,
    like the pane's actions on a phone, aside)."""
    overflow = page.evaluate(
        """() => {
          const wide = document.documentElement.scrollWidth > window.innerWidth + 1;
          const scrolls = (el) => {
            for (let up = el.parentElement; up; up = up.parentElement) {
              if (["auto", "scroll"].includes(getComputedStyle(up).overflowX)) return true;
            }
            return false;
          };
          const shown = [...document.querySelectorAll("button, a.button, .tabs a, label.button")]
            .filter((el) => el.offsetParent !== null && !el.closest("dialog:not([open])"));
          const clipped = shown
            .filter((el) => el.scrollWidth > el.clientWidth + 1)
            .map((el) => el.textContent.trim());
          const outside = shown
            .filter((el) => !scrolls(el))
            .filter((el) => {
              const box = el.getBoundingClientRect();
              return box.width > 0 && (box.left < -1 || box.right > window.innerWidth + 1);
            })
            .map((el) => el.textContent.trim());
          return { wide, clipped, outside };
        }"""
    )
    assert overflow == {"wide": False, "clipped": [], "outside": []}
