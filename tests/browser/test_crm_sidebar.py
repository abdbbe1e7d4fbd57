"""The agent's CRM tab in the contact panel, against the fake HubSpot served on
localhost: the chosen fields with the record link and owner, an edit saved on Enter and
reverted, a conflict with a change made in HubSpot meanwhile shown with both values (and
still shown after a live redraw)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from hub import appkeys
from hub.crm.connections import NewConnection
from hub.crm.settings import CrmSettings
from hub.events.work import unit_of_work
from hub.inbox.contact_fields import ContactChanges
from hub.inbox.contacts import update_contact
from hub.store.models import Contact
from hub.testing import CrmWorld
from tests.browser.conftest import log_in
from tests.browser.harness import BackgroundLoop, serve
from tests.browser.inbox_world import InboxWorld
from tests.fake_crm import fake_crm_app
from tests.fake_hubspot import HubSpotFake

TOKEN = "pat-na1-11111111-2222-3333-4444-555555555555"
SHOWN = ["firstname", "lastname", "company", "jobtitle", "lifecyclestage"]


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
def record_id(world: InboxWorld, crm_world: CrmWorld, hubspot_url: str) -> str:
    """Ada writes in; HubSpot has her record; a HubSpot connection shows five fields,
    three of them editable."""
    hub = world.hub
    record = crm_world.add_contact(
        {
            "email": "ada@example.com",
            "firstname": "Ada",
            "lastname": "Lovelace",
            "company": "Analytical Engines",
            "jobtitle": "Countess",
            "lifecyclestage": "lead",
        }
    )
    world.customer_writes("ada-lovelace", "Where is my parcel?")

    async def give_email(db: AsyncSession) -> None:
        await db.execute(
            update(Contact).where(Contact.name == "Ada Lovelace").values(email="ada@example.com")
        )
        await db.commit()

    hub.query(give_email)
    admin = hub.app[appkeys.CRM].admin
    config = {"access_token": TOKEN, "api_base_url": hubspot_url, "portal_id": "62515"}
    settings = CrmSettings(
        shown_fields=SHOWN, editable_fields=["firstname", "jobtitle", "lifecyclestage"]
    )
    new = NewConnection("hubspot", "Sales HubSpot", config, settings=settings)
    hub.run(admin.create(hub.viewer(), new))
    return record


def open_crm_tab(page: Page) -> None:
    log_in(page, "owner@example.com")
    page.get_by_role("list", name="All").get_by_role("link", name="Ada Lovelace").click()
    panel = page.get_by_role("complementary", name="Contact")
    panel.get_by_role("tab", name="CRM").click()


def teammate_edits_the_contact(world: InboxWorld) -> None:
    """Ada's country is set by someone else: a contact.updated event for her panel."""
    hub = world.hub
    app = hub.app

    async def edit() -> None:
        async with unit_of_work(app[appkeys.SESSIONS], app[appkeys.BUS]) as work:
            ada = await work.db.scalar(select(Contact.id).where(Contact.name == "Ada Lovelace"))
            assert ada is not None
            await update_contact(work, hub.viewer(), ada, ContactChanges(country="GB"))

    hub.run(edit())


def test_edit_and_revert(
    page: Page, crm_world: CrmWorld, record_id: str, snap: Callable[[str], None]
) -> None:
    open_crm_tab(page)
    crm = page.get_by_role("tabpanel", name="CRM")
    expect(crm.get_by_role("heading", name="Sales HubSpot")).to_be_visible()
    job = crm.get_by_role("textbox", name="Job Title")
    expect(job).to_have_value("Countess")
    link = crm.get_by_role("link", name="Open in HubSpot")
    expect(link).to_have_attribute(
        "href", f"https://app.hubspot.com/contacts/62515/record/0-1/{record_id}"
    )
    # Read-only values copy on a tap; emails are never offered for editing.
    expect(crm.get_by_role("button", name="Copy Company Name: Analytical Engines")).to_be_visible()
    expect(crm.get_by_role("textbox", name="Last Name")).to_have_count(0)
    expect(crm).to_contain_text("Values from just now")

    # Enter saves; the value is in HubSpot, and the revert button offers the earlier one.
    job.fill("Engineer")
    job.press("Enter")
    expect(crm.locator("[data-crm-status]")).to_have_text("Job Title saved: Engineer.")
    assert crm_world.contacts[record_id]["jobtitle"] == "Engineer"
    snap("saved")
    crm.get_by_role("button", name="Revert Job Title to Countess").click()
    expect(crm.locator("[data-crm-status]")).to_have_text("Job Title saved: Countess.")
    expect(crm.get_by_role("textbox", name="Job Title")).to_have_value("Countess")
    assert crm_world.contacts[record_id]["jobtitle"] == "Countess"

    # A select saves when changed.
    crm.get_by_role("combobox", name="Lifecycle Stage").select_option("customer")
    expect(crm.locator("[data-crm-status]")).to_have_text("Lifecycle Stage saved: customer.")
    assert crm_world.contacts[record_id]["lifecyclestage"] == "customer"


def test_a_change_made_in_hubspot_meanwhile_is_not_written_over(
    page: Page,
    world: InboxWorld,
    crm_world: CrmWorld,
    record_id: str,
    snap: Callable[[str], None],
) -> None:
    """Someone changes the title in HubSpot while the agent types: the agent's edit is
    not written over it; both values are shown, through a redraw, and the agent chooses."""
    open_crm_tab(page)
    crm = page.get_by_role("tabpanel", name="CRM")
    conflict = crm.locator("[data-crm-conflict]:not([hidden])")
    job = crm.get_by_role("textbox", name="Job Title")
    expect(job).to_have_value("Countess")
    job.fill("Poet")
    crm_world.contacts[record_id]["jobtitle"] = "Director"
    job.blur()
    expect(conflict).to_contain_text("Yours: Poet · HubSpot now: Director")
    assert crm_world.contacts[record_id]["jobtitle"] == "Director"
    snap("conflict")

    # A teammate's edit redraws the whole panel: the question is still asked.
    page.evaluate("document.getElementById('contact-card').dataset.drawnBefore = 'yes'")
    teammate_edits_the_contact(world)
    expect(page.locator("#contact-card:not([data-drawn-before])")).to_be_attached()
    expect(conflict).to_contain_text("Yours: Poet · HubSpot now: Director")
    expect(crm.get_by_role("textbox", name="Job Title")).to_have_value("Poet")
    conflict.get_by_role("button", name="Keep mine").click()
    expect(crm.locator("[data-crm-status]")).to_have_text("Job Title saved: Poet.")
    assert crm_world.contacts[record_id]["jobtitle"] == "Poet"


def test_a_wrong_value_is_refused_beside_the_field_and_on_a_phone(
    page: Page, crm_world: CrmWorld, record_id: str, snap: Callable[[str], None]
) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    log_in(page, "owner@example.com")
    page.get_by_role("list", name="All").get_by_role("link", name="Ada Lovelace").click()
    page.get_by_role("button", name="Contact").first.click()
    page.get_by_role("tab", name="CRM").click()
    crm = page.get_by_role("tabpanel", name="CRM")
    first = crm.get_by_role("textbox", name="First Name")
    first.fill("x" * 10_001)
    first.press("Enter")
    expect(crm.get_by_role("alert")).to_contain_text("at most 10000 characters")
    assert crm_world.contacts[record_id]["firstname"] == "Ada"
    snap("phone")
