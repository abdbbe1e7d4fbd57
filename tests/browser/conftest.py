"""Fixtures of the browser tests: headless Debian Chromium driving a live hub.

Every test gets a fresh hub (its own SQLite database) and a fresh browser context; when
the test ends, a screenshot of its page is saved under ``test-artifacts/browser/`` (or
``$HUB_TEST_ARTIFACTS/browser/``), and any JavaScript error the page raised fails it.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, Playwright, expect, sync_playwright

from tests.browser.harness import BackgroundLoop, LiveHub, start_hub
from tests.browser.inbox_world import InboxWorld, make_world
from tests.conftest import PASSWORD, _migrate

CHROMIUM = os.environ.get("HUB_TEST_CHROMIUM", "/usr/bin/chromium")
# Debian's Chromium as root in a sandbox-less container with no network but loopback:
# without these flags it tries (and fails) to reach Google's services at every start.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


# First, so that -m and pytest-xdist's loadgroup see the marks added here.
@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark the browser tests and run them last, after every asyncio test: while
    Playwright's sync API runs, the main thread has an event loop of its own. Under
    pytest-xdist each module is one group on one worker, which starts Chromium once for
    it; xdist sends the largest groups first, and the module-scoped ``playwright``
    fixture frees the main thread before that worker's next module."""
    here = Path(__file__).parent
    browser_tests = [item for item in items if here in item.path.parents]
    for item in browser_tests:
        item.add_marker(pytest.mark.browser)
        item.add_marker(pytest.mark.xdist_group(f"browser:{item.path.stem}"))
    others = [item for item in items if here not in item.path.parents]
    items[:] = others + browser_tests


# Assertions wait as long as actions may (see the page fixture), not Playwright's 5 s.
expect.set_options(timeout=30_000)


@pytest.fixture(scope="session")
def artifacts(pytestconfig: pytest.Config) -> Path:
    """Where screenshots go."""
    base = Path(os.environ.get("HUB_TEST_ARTIFACTS", pytestconfig.rootpath / "test-artifacts"))
    folder = base / "browser"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="session")
def background_loop() -> Iterator[BackgroundLoop]:
    """The loop the hubs and fake providers run on."""
    loop = BackgroundLoop()
    yield loop
    loop.close()


# Per module, so the main thread is free of Playwright's loop between browser modules.
@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    """Debian's Chromium, headless (``.ci/run`` installs the ``chromium`` package)."""
    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"{CHROMIUM} is missing: install Debian's chromium package (apt-get install chromium)"
        )
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.fixture(scope="session")
def hub_template(background_loop: BackgroundLoop, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite database to copy for each hub (migrated on the background loop:
    ``asyncio.run`` is not allowed where Playwright's loop runs)."""
    path = tmp_path_factory.mktemp("browser-template") / "hub.db"
    background_loop.run(_migrate(f"sqlite+aiosqlite:///{path}"), timeout=120)
    return path


@pytest.fixture
def hub_overrides() -> dict[str, Any]:
    """Settings for the hub under test; a test module overrides this fixture to change them."""
    return {}


@pytest.fixture
def hub(
    background_loop: BackgroundLoop,
    hub_template: Path,
    tmp_path: Path,
    hub_overrides: dict[str, Any],
) -> Iterator[LiveHub]:
    """A fresh hub on a free port, with an empty, migrated SQLite database."""
    path = tmp_path / "hub.db"
    shutil.copy(hub_template, path)
    live = start_hub(
        background_loop, f"sqlite+aiosqlite:///{path}", tmp_path / "data", **hub_overrides
    )
    yield live
    live.server.stop()


@pytest.fixture
def page(
    browser: Browser, hub: LiveHub, artifacts: Path, request: pytest.FixtureRequest
) -> Iterator[Page]:
    """A page in a new browser context on the hub; screenshot saved when the test ends."""
    context = browser.new_context(base_url=hub.url, viewport={"width": 1280, "height": 900})
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=hub.url)
    page = context.new_page()
    # Generous: on a loaded 2-core CI machine a login (argon2) beside another xdist
    # worker has taken over 10 s; a real failure still fails, only later.
    page.set_default_timeout(30_000)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)
    page.screenshot(path=str(artifacts / f"{name}.png"), full_page=True)
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


@pytest.fixture
def snap(page: Page, artifacts: Path, request: pytest.FixtureRequest) -> Callable[[str], None]:
    """Save a screenshot of a step: ``snap("connected")`` → ``<test>-connected.png``."""
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)

    def shoot(step: str) -> None:
        page.screenshot(path=str(artifacts / f"{name}-{step}.png"), full_page=True)

    return shoot


def log_in(page: Page, email: str, password: str = PASSWORD) -> None:
    """Log in through the login form."""
    page.goto("/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(lambda url: "/login" not in url)


@pytest.fixture
def owner_page(page: Page, hub: LiveHub) -> Page:
    """The page, logged in as the hub's owner (owner@example.com)."""
    hub.add_user("owner@example.com", role="owner", name="Olive Owner")
    log_in(page, "owner@example.com")
    return page


@pytest.fixture
def world(hub: LiveHub, background_loop: BackgroundLoop) -> Iterator[InboxWorld]:
    """The inbox tests' world: an owner (owner@example.com, not logged in) and a custom
    channel "Acme chat" whose replies reach a fake service (``world.replies()``)."""
    made, server = make_world(hub, background_loop)
    yield made
    server.stop()
