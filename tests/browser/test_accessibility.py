"""Every admin and personal page, found from the admin and "Your account" menus, meets the
accessibility floor at phone width.

Pages are discovered, not listed: the menu's links, the links of each list's first row and
the link buttons of every page reached ("New user", "Edit", "Delete"), so a page added
later is checked too. A page that does not answer 200 is a failure, never skipped.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from playwright.sync_api import Page, expect

from hub import appkeys
from hub.auth.api_tokens import create_token
from hub.channels.webhook_subscriptions import create_subscription, send_test
from hub.events.work import unit_of_work
from hub.inbox.labels import create_label
from hub.inbox.sla_policies import PolicyFields, create_policy
from hub.inbox.snippets import create_snippet
from hub.people import directory
from tests.browser.harness import LiveHub

XSS = '<img src=x onerror="window.__xss=1">'
PHONE = {"width": 375, "height": 800}

# Run in the page; returns what is wrong with it, as sentences.
PAGE_PROBLEMS = r"""() => {
  const problems = [];
  const shown = (el) => el.getClientRects().length > 0 && getComputedStyle(el).visibility !== "hidden";
  for (const el of document.querySelectorAll("input, select, textarea")) {
    if (el.type === "hidden" || !shown(el)) continue;
    const named = (el.labels && el.labels.length > 0) || el.getAttribute("aria-label")
      || el.getAttribute("aria-labelledby");
    if (!named) problems.push(`${el.tagName.toLowerCase()} "${el.name || el.id}" has no label`);
  }
  const h1s = document.querySelectorAll("h1").length;
  if (h1s !== 1) problems.push(`${h1s} h1 headings instead of one`);
  const ids = new Map();
  for (const el of document.querySelectorAll("[id]")) ids.set(el.id, (ids.get(el.id) || 0) + 1);
  for (const [id, count] of ids) if (count > 1) problems.push(`id "${id}" is used ${count} times`);
  const width = document.documentElement.clientWidth;
  if (document.documentElement.scrollWidth > width) {
    // Name the culprits no scrolling box (a .table-wrap) clips; an absolutely positioned
    // element is clipped only by a box at or above its containing block.
    const clipped = (el) => {
      let absolute = ["absolute", "fixed"].includes(getComputedStyle(el).position);
      for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
        const style = getComputedStyle(p);
        if (absolute && style.position === "static") continue;
        if (style.overflowX !== "visible") return true;
        absolute = ["absolute", "fixed"].includes(style.position);
      }
      return false;
    };
    const name = (el) => el.tagName.toLowerCase() + (el.className ? "." + String(el.className).trim().split(/\s+/).join(".") : "");
    const wide = [...document.body.querySelectorAll("*")]
      .filter((el) => el.getBoundingClientRect().right > width + 1 && !clipped(el))
      .slice(-3).map(name);
    problems.push(`the page is ${document.documentElement.scrollWidth}px wide at ${width}px (${wide.join(", ")})`);
  }
  if (window.__xss !== undefined) problems.push("markup from a name ran as script");
  return problems;
}"""

FOCUSED = """() => {
  const el = document.activeElement, style = getComputedStyle(el), box = el.getBoundingClientRect();
  return {skip: el.classList.contains("skip-link"), text: (el.textContent || "").trim(),
          outline: style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0,
          onScreen: box.left >= 0 && box.top >= 0 && box.width > 0};
}"""


def arrange(hub: LiveHub) -> None:
    """One of each thing the admin lists, named with markup that must stay inert."""
    owner = hub.users["owner@example.com"]
    hub.add_user("agent@example.com", role="agent", name=XSS)
    hub.add_channel("custom_channel", XSS, {"outbound_url": "https://chat.example.com/hub/replies"})
    viewer = hub.viewer()
    app = hub.app

    async def make() -> None:
        async with unit_of_work(app[appkeys.SESSIONS], app[appkeys.BUS]) as work:
            await directory.create_team(work, viewer, "Support <b>team</b>", [])
            await create_label(work, viewer, name=XSS, colour="pink", description=XSS)
            await create_policy(work, viewer, PolicyFields(XSS, resolution_minutes=60))
            hook, _ = await create_subscription(
                work,
                viewer,
                app[appkeys.CIPHER],
                # Markup in the path too (spaces encoded: a URL has none).
                url="https://hooks.example.com/" + XSS.replace(" ", "%20"),
                events=["message.created"],
                channel_ids=[],
                description=XSS,
                allow_private=True,
            )
            await send_test(work, viewer, hook.id, timedelta(hours=1))
        async with app[appkeys.SESSIONS]() as db:
            await create_snippet(db, viewer, name="Greeting", shortcut="hi", body="Hello!")
            await create_token(db, owner, "Backups")
            await db.commit()

    hub.run(make())


def admin_links(page: Page, selector: str) -> list[str]:
    """The /admin and /me links matched by ``selector`` on the current page, in order."""
    hrefs: list[str] = page.locator(selector).evaluate_all(
        "els => els.map(a => a.getAttribute('href'))"
    )
    return [href for href in hrefs if href and href.startswith(("/admin", "/me"))]


def check_page(page: Page, path: str) -> tuple[bool, list[str]]:
    """Open ``path``: whether it answered 200, and its problems (an HTTP error is one)."""
    response = page.goto(path)
    if response is None or response.status != 200:
        status = response.status if response is not None else "no answer"
        title = page.locator("h1").first.text_content() if page.locator("h1").count() else ""
        return False, [f"HTTP {status} ({title})"]
    problems: list[str] = page.evaluate(PAGE_PROBLEMS)
    page.keyboard.press("Tab")
    focused: dict[str, Any] = page.evaluate(FOCUSED)
    if not focused["skip"]:
        problems.append(f"the first Tab reaches {focused['text']!r}, not the skip link")
    elif not (focused["outline"] and focused["onScreen"]):
        problems.append("the focused skip link has no visible outline or is off screen")
    else:
        page.keyboard.press("Enter")
        if page.evaluate("document.activeElement.id") != "main":
            problems.append("the skip link does not move focus to the content")
    return True, problems


def test_every_admin_page_has_labels_one_h1_unique_ids_and_fits_a_phone(
    owner_page: Page, hub: LiveHub
) -> None:
    page = owner_page
    arrange(hub)
    page.set_viewport_size(PHONE)
    page.goto("/admin")
    menu = admin_links(page, 'nav[aria-label="Admin"] a')
    assert len(menu) >= 8, menu
    page.goto("/me")
    personal = admin_links(page, 'nav[aria-label="Your account"] a')
    assert {"/me", "/me/password", "/me/tokens"} <= set(personal), personal
    menu += personal
    queue, seen, problems = list(menu), set(), {}
    while queue:
        path = queue.pop(0)
        if path in seen:
            continue
        seen.add(path)
        loaded, found = check_page(page, path)
        if found:
            problems[path] = found
        if loaded:
            # The page's own buttons ("New user", "Edit", …) and first card (a type to
            # connect); on a menu page, the links of its list's first row.
            queue += admin_links(page, "main .page-head a, main .actions a")
            queue += admin_links(page, "main .cards > :first-child a")
            if path in menu:
                queue += admin_links(page, "main table tbody tr:first-child a")
    assert len(seen) > len(menu), "no list linked to a further page"
    report = "\n".join(f"{path}: {'; '.join(found)}" for path, found in problems.items())
    assert not problems, f"{len(problems)} of {len(seen)} pages have problems:\n{report}"


def test_markup_in_user_and_channel_names_stays_text(owner_page: Page, hub: LiveHub) -> None:
    page = owner_page
    arrange(hub)
    for path in ("/admin/users", "/admin/channels"):
        response = page.goto(path)
        assert response is not None and response.status == 200, (
            f"{path}: {response and response.status}"
        )
        expect(page.get_by_text(XSS).first).to_be_visible()  # shown as the literal name
        assert page.evaluate("window.__xss") is None, f"{path} ran markup from a name"
