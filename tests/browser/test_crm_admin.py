"""The CRM admin pages in a real browser, against the fake HubSpot and Salesforce served
on localhost: connect with a private app token (a refused one shown inline, nothing
saved) or through OAuth, pick the fields agents see and edit, map a field, link the
existing contacts with progress, disable and delete."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from urllib.parse import parse_qs, urlencode, urlparse

import pytest
from playwright.sync_api import Page, Route, expect
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.store.models import Contact, CrmConnection, CrmContactLink
from hub.testing import CrmWorld
from tests.browser.harness import BackgroundLoop, LiveHub, serve
from tests.fake_crm import fake_crm_app
from tests.fake_hubspot import HubSpotFake
from tests.fake_salesforce import SalesforceFake

TOKEN = "pat-na1-11111111-2222-3333-4444-555555555555"
WRONG = "pat-na1-99999999-2222-3333-4444-555555555555"


@pytest.fixture
def crm_world() -> CrmWorld:
    """The fake CRMs' records."""
    return CrmWorld()


@pytest.fixture
def hubspot_url(background_loop: BackgroundLoop, crm_world: CrmWorld) -> Iterator[str]:
    """The fake HubSpot API's base URL."""
    server = serve(background_loop, fake_crm_app(hubspot=HubSpotFake(crm_world, token=TOKEN)))
    yield f"{server.url}/hubspot"
    server.stop()


@pytest.fixture
def oauth_hubspot_url(background_loop: BackgroundLoop, crm_world: CrmWorld) -> Iterator[str]:
    """The fake HubSpot API accepting the OAuth access tokens it issues."""
    server = serve(background_loop, fake_crm_app(hubspot=HubSpotFake(crm_world)))
    yield f"{server.url}/hubspot"
    server.stop()


@pytest.fixture
def salesforce_url(background_loop: BackgroundLoop, crm_world: CrmWorld) -> Iterator[str]:
    """The fake Salesforce's login URL (also the instance its token answers name)."""
    fake = SalesforceFake(crm_world, client_secret="consumer-secret-1")
    server = serve(background_loop, fake_crm_app(salesforce=fake))
    yield f"{server.url}/salesforce"
    server.stop()


def connections(hub: LiveHub) -> list[CrmConnection]:
    async def read(db: AsyncSession) -> list[CrmConnection]:
        return list(await db.scalars(select(CrmConnection)))

    return hub.query(read)


def connect_hubspot(page: Page, api_url: str, token: str = TOKEN) -> None:
    """Fill in and send the HubSpot form from the CRM list."""
    page.goto("/admin")
    page.get_by_role("navigation", name="Admin").get_by_role("link", name="CRM").click()
    page.get_by_role("link", name="Connect a CRM").first.click()
    page.get_by_role("link", name="HubSpot").click()
    page.get_by_label("Connection name").fill("Sales HubSpot")
    page.get_by_label("Private app access token").fill(token)
    page.get_by_text("Advanced settings").click()
    page.get_by_label("API base URL").fill(api_url)
    page.get_by_role("button", name="Connect", exact=True).click()


def test_a_refused_token_is_shown_and_nothing_saved(
    owner_page: Page, hub: LiveHub, hubspot_url: str
) -> None:
    connect_hubspot(owner_page, hubspot_url, WRONG)
    alert = owner_page.get_by_role("alert")
    expect(alert).to_contain_text("The CRM refused these credentials")
    expect(owner_page.get_by_label("Connection name")).to_have_value("Sales HubSpot")
    assert connections(hub) == []


def test_connect_pick_fields_map_and_link(
    owner_page: Page,
    hub: LiveHub,
    hubspot_url: str,
    crm_world: CrmWorld,
    snap: Callable[[str], None],
) -> None:
    page = owner_page
    crm_world.add_contact({"email": "ann@example.com", "firstname": "Ann", "lastname": "Lee"})

    async def add_contacts(db: AsyncSession) -> None:
        db.add_all(
            [
                Contact(name="Ann Lee", email="ann@example.com"),
                Contact(name="Bo Park", email="bo@example.com"),
            ]
        )
        await db.commit()

    hub.query(add_contacts)
    connect_hubspot(page, hubspot_url)

    expect(page.get_by_text("Sales HubSpot is connected")).to_be_visible()
    expect(page.locator(".badge").first).to_have_text("ok")
    # The default set is ticked until the admin chooses: names, company, owner, stage.
    expect(page.get_by_label("Show First Name")).to_be_checked()
    expect(page.get_by_label("Show Job Title")).not_to_be_checked()
    expect(page.get_by_label("Agents may edit First Name")).to_be_checked()
    # Emails and read-only fields can never be edited: no box to tick.
    expect(page.get_by_label("Agents may edit Email")).to_have_count(0)
    expect(page.get_by_label("Agents may edit Create Date")).to_have_count(0)

    page.get_by_label("Show Job Title").check()
    page.get_by_label("Agents may edit Job Title").check()
    page.get_by_label("Show Lifecycle Stage").uncheck()
    page.get_by_label("Hub field, row 1").fill("first_name")
    page.get_by_label("HubSpot field, row 1").select_option("firstname")
    page.get_by_label("Direction, row 1").select_option("pull")
    page.get_by_label("Create a record in HubSpot when none is found").check()
    snap("picker")
    page.get_by_role("button", name="Save settings").click()
    expect(page.get_by_text("Saved the settings of Sales HubSpot.")).to_be_visible()

    [connection] = connections(hub)
    settings = connection.settings
    assert "jobtitle" in settings["shown_fields"]
    assert "lifecyclestage" not in settings["shown_fields"]
    assert "jobtitle" in settings["editable_fields"]
    assert settings["mapping"] == [
        {"hub_field": "first_name", "crm_field": "firstname", "direction": "pull"}
    ]
    assert settings["linking"] == {"create_when_missing": True}
    # The page shows what was saved.
    expect(page.get_by_label("Show Job Title")).to_be_checked()
    expect(page.get_by_label("Hub field, row 1")).to_have_value("first_name")

    page.get_by_role("button", name="Link all contacts now").click()
    expect(page.locator(".crm-bulk-status")).to_have_text("Done")
    expect(page.locator(".crm-bulk-counts")).to_contain_text("2 of 2 contacts looked up")

    async def links(db: AsyncSession) -> int:
        return len(list(await db.scalars(select(CrmContactLink))))

    assert hub.query(links) == 2  # Ann found, Bo created (the rule allows it)
    snap("desktop")
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    snap("phone")


def test_a_bad_mapping_is_marked_and_nothing_saved(
    owner_page: Page, hub: LiveHub, hubspot_url: str
) -> None:
    page = owner_page
    connect_hubspot(page, hubspot_url)
    page.get_by_label("Hub field, row 1").fill("shoe_size")
    page.get_by_label("HubSpot field, row 1").select_option("company")
    page.get_by_role("button", name="Save settings").click()
    expect(page.get_by_role("alert")).to_be_visible()
    expect(page.locator("#mapping-0-hub-error")).to_contain_text("one of name, first_name")
    expect(page.get_by_label("Hub field, row 1")).to_have_value("shoe_size")
    [connection] = connections(hub)
    assert connection.settings["mapping"] == []


def test_disable_enable_and_delete(owner_page: Page, hub: LiveHub, hubspot_url: str) -> None:
    page = owner_page
    connect_hubspot(page, hubspot_url)
    page.get_by_role("link", name="Disable").click()
    page.get_by_role("button", name="Disable connection").click()
    expect(page.get_by_text("Sales HubSpot is disabled.")).to_be_visible()
    assert connections(hub)[0].enabled is False
    page.get_by_role("button", name="Enable").click()
    expect(page.get_by_text("Sales HubSpot is enabled.")).to_be_visible()
    page.get_by_role("link", name="Delete").click()
    page.get_by_role("button", name="Delete connection").click()
    expect(page.get_by_text("No CRM connected yet")).to_be_visible()
    assert connections(hub) == []


def test_oauth_connects_through_the_admin_callback(
    owner_page: Page, hub: LiveHub, oauth_hubspot_url: str, snap: Callable[[str], None]
) -> None:
    """HubSpot's authorization page is played by the test: it sends the browser back to
    the hub's admin callback with a code (or with the admin's refusal)."""
    page = owner_page
    answers: list[dict[str, str]] = [{"code": "code-1"}, {"error": "access_denied"}]
    asked: list[dict[str, list[str]]] = []

    def authorize(route: Route) -> None:
        query = parse_qs(urlparse(route.request.url).query)
        asked.append(query)
        back = {**answers.pop(0), "state": query["state"][0]}
        location = f"{query['redirect_uri'][0]}?{urlencode(back)}"
        route.fulfill(status=302, headers={"Location": location})

    page.route("https://app.hubspot.com/oauth/**", authorize)
    page.goto("/admin/crm/new/hubspot")
    page.get_by_label("Connection name").fill("OAuth HubSpot")
    page.get_by_label("OAuth client ID").fill("client-1")
    page.get_by_label("Client secret").fill("secret-1")
    page.get_by_text("Advanced settings").click()
    page.get_by_label("API base URL").fill(oauth_hubspot_url)
    page.get_by_role("button", name="Connect", exact=True).click()
    expect(page.get_by_text("The link works for ten minutes")).to_be_visible()
    snap("authorize")
    page.get_by_role("link", name="Continue to HubSpot").click()

    expect(page.get_by_text("OAuth HubSpot is connected")).to_be_visible()
    assert asked[0]["redirect_uri"] == [f"{hub.url}/admin/crm/oauth/callback"]
    assert asked[0]["code_challenge_method"] == ["S256"]
    [connection] = connections(hub)
    assert connection.status == "ok" and connection.tokens_encrypted

    # Authorizing again, refused in HubSpot: the reason is shown, the connection kept.
    page.get_by_role("link", name="Authorize again").click()
    page.get_by_role("link", name="Continue to HubSpot").click()
    expect(page.get_by_text("The CRM was not connected")).to_contain_text("access_denied")
    expect(page.get_by_role("heading", name="CRM", exact=True)).to_be_visible()
    snap("refused")
    assert connections(hub)[0].status == "ok"


def test_salesforce_connects_through_oauth_and_saves_its_fields(
    owner_page: Page,
    hub: LiveHub,
    salesforce_url: str,
    crm_world: CrmWorld,
    snap: Callable[[str], None],
) -> None:
    """Salesforce's sign-in page is played by the test (it sends the browser back with a
    code); the code is exchanged at the fake's token endpoint, then fields are picked."""
    page = owner_page
    asked: list[dict[str, list[str]]] = []

    def authorize(route: Route) -> None:
        query = parse_qs(urlparse(route.request.url).query)
        asked.append(query)
        back = {"code": "aPrx-code-1", "state": query["state"][0]}
        route.fulfill(
            status=302, headers={"Location": f"{query['redirect_uri'][0]}?{urlencode(back)}"}
        )

    page.route(f"{salesforce_url}/services/oauth2/authorize**", authorize)
    page.goto("/admin")
    page.get_by_role("navigation", name="Admin").get_by_role("link", name="CRM").click()
    page.get_by_role("link", name="Connect a CRM").first.click()
    page.get_by_role("link", name="Salesforce").click()
    page.get_by_label("Connection name").fill("Sales Salesforce")
    page.get_by_label("Login URL").fill(salesforce_url)
    page.get_by_label("Consumer key").fill("3MVG9-consumer-key")
    page.get_by_label("Consumer secret").fill("consumer-secret-1")
    page.get_by_role("button", name="Connect", exact=True).click()
    expect(page.get_by_text("The link works for ten minutes")).to_be_visible()
    page.get_by_role("link", name="Continue to Salesforce").click()

    expect(page.get_by_text("Sales Salesforce is connected")).to_be_visible()
    assert asked[0]["client_id"] == ["3MVG9-consumer-key"]
    assert asked[0]["redirect_uri"] == [f"{hub.url}/admin/crm/oauth/callback"]
    assert asked[0]["code_challenge_method"] == ["S256"]
    [connection] = connections(hub)
    assert connection.type == "salesforce"
    assert connection.status == "ok" and connection.tokens_encrypted
    # The field picker lists the org's described fields; read-only ones cannot be edited.
    expect(page.get_by_label("Show Title")).to_be_visible()
    expect(page.get_by_label("Agents may edit Created Date")).to_have_count(0)

    page.get_by_label("Show Title").check()
    page.get_by_label("Agents may edit Title").check()
    page.get_by_label("Show Lead Source").check()
    page.get_by_label("Hub field, row 1").fill("fields.job_title")
    page.get_by_label("Salesforce field, row 1").select_option("Title")
    page.get_by_label("Direction, row 1").select_option("pull")
    snap("salesforce-picker")
    page.get_by_role("button", name="Save settings").click()
    expect(page.get_by_text("Saved the settings of Sales Salesforce.")).to_be_visible()

    settings = connections(hub)[0].settings
    assert {"Title", "LeadSource"} <= set(settings["shown_fields"])
    assert "Title" in settings["editable_fields"]
    assert settings["mapping"] == [
        {"hub_field": "fields.job_title", "crm_field": "Title", "direction": "pull"}
    ]
    expect(page.get_by_label("Show Title")).to_be_checked()
    snap("salesforce-saved")
